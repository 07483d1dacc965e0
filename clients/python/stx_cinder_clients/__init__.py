"""The StarlingX export/import commands for stock OpenStack clients.

``wrs`` holds what both clients share (action bodies, the wrs-header, archive names);
``osc`` holds the openstackclient commands; the cinderclient extension lives in the
top-level module ``stx_cinderclient_ext`` because cinderclient only loads modules
whose own name ends in ``cinderclient_ext``.
"""
