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


class ExportVolume(command.ShowOne):
    """Export a volume to a file in the export directory (wrs-volume extension)"""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument("volume", metavar="<volume>", help="Volume to export (name or ID)")
        return parser

    def take_action(self, parsed_args: Any) -> Tuple[Iterable[str], Iterable[Any]]:
        volume_client = self.app.client_manager.volume
        volume = utils.find_resource(volume_client.volumes, parsed_args.volume)
        return _show(wrs.export_volume(volume_client.client, volume.id))


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


class ExportVolumeSnapshot(command.ShowOne):
    """Export a volume snapshot to a file in the export directory (wrs-snapshot extension)"""

    def get_parser(self, prog_name: str) -> Any:
        parser = super().get_parser(prog_name)
        parser.add_argument("snapshot", metavar="<snapshot>", help="Snapshot to export (name or ID)")
        return parser

    def take_action(self, parsed_args: Any) -> Tuple[Iterable[str], Iterable[Any]]:
        volume_client = self.app.client_manager.volume
        snapshot = utils.find_resource(volume_client.volume_snapshots, parsed_args.snapshot)
        return _show(wrs.export_snapshot(volume_client.client, snapshot.id))
