"""openstackclient commands: ``openstack volume export``, ``volume import``, ``volume snapshot export``.

Registered in the ``openstack.volume.v3`` entry point group, the group openstackclient
already loads volume commands from (``OpenStackShell._load_plugins``); no client module
of their own is needed, they use the volume client (a cinderclient v3 Client).
"""
from typing import Any, Dict, Iterable, Tuple

from osc_lib import exceptions
from osc_lib import utils
from osc_lib.command import command

from stx_cinder_clients import wrs


def _show(fields: Dict[str, Any]) -> Tuple[Iterable[str], Iterable[Any]]:
    """Columns and values, sorted like ``openstack volume show``."""
    if not fields:
        return (), ()
    return tuple(zip(*sorted(fields.items())))  # type: ignore[return-value]


class _Export(command.ShowOne):
    """Export one volume or snapshot, found by name or ID like openstackclient's own commands."""

    #: the positional argument, and the volume client's manager that finds it
    resource = "volume"
    manager = "volumes"

    @staticmethod
    def export(http: wrs.HttpClient, resource_id: str) -> Dict[str, Any]:
        raise NotImplementedError

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument(self.resource, metavar="<%s>" % self.resource,
                            help="%s to export (name or ID)" % self.resource.capitalize())
        return parser

    def take_action(self, parsed_args: Any) -> Tuple[Iterable[str], Iterable[Any]]:
        volume_client = self.app.client_manager.volume
        found = utils.find_resource(getattr(volume_client, self.manager), getattr(parsed_args, self.resource))
        return _show(self.export(volume_client.client, found.id))


class ExportVolume(_Export):
    """Export a volume to a file in the export directory (wrs-volume extension)"""

    export = staticmethod(wrs.export_volume)


class ExportVolumeSnapshot(_Export):
    """Export a volume snapshot to a file in the export directory (wrs-snapshot extension)"""

    resource = "snapshot"
    manager = "volume_snapshots"
    export = staticmethod(wrs.export_snapshot)


class ImportVolume(command.ShowOne):
    """Import a volume from a file in the export directory (wrs-volume extension)"""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "file_name", metavar="<file-name>",
            help="Archive to import, volume-<volume uuid>-<YYYYMMDD-HHMMSS>.tgz (or .tar, "
                 ".tar.zst) in the export directory; it is imported into that volume")
        return parser

    def take_action(self, parsed_args: Any) -> Tuple[Iterable[str], Iterable[Any]]:
        volume_client = self.app.client_manager.volume
        try:
            return _show(wrs.import_volume(volume_client.client, parsed_args.file_name))
        except wrs.InvalidArchiveName as err:
            raise exceptions.CommandError(str(err))
