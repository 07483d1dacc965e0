"""cinderclient extension: ``cinder export``, ``cinder import``, ``cinder snapshot-export``.

Stock cinderclient loads every module on the Python path whose name ends in
``cinderclient_ext`` (``cinderclient.client.discover_extensions``): each ``do_x_y``
function becomes the subcommand ``x-y``, the one ``base.Manager`` subclass becomes
``cs.stx_cinderclient_ext``, and ``__pre_parse_args__`` runs as a hook in the shell.
"""
import functools
from typing import Any, Callable, Dict

from cinderclient import base
from cinderclient import client as _http
from cinderclient import exceptions
from cinderclient import shell_utils
from cinderclient import utils

from stx_cinder_clients import wrs


class WrsManager(base.Manager):
    """The StarlingX actions on volumes and snapshots (the wrs-volume/wrs-snapshot extensions)."""

    def export_volume(self, volume: Any) -> Dict[str, Any]:
        """Export a volume (object or id) to an archive; returns the answer's fields."""
        return wrs.export_volume(self.api.client, base.getid(volume))

    def import_volume(self, file_name: str) -> Dict[str, Any]:
        """Import an archive, by file name, into the volume its name carries."""
        return wrs.import_volume(self.api.client, file_name)

    def export_snapshot(self, snapshot: Any) -> Dict[str, Any]:
        """Export a snapshot (object or id) to an archive named after its parent volume."""
        return wrs.export_snapshot(self.api.client, base.getid(snapshot))


def _manager(cs: Any) -> WrsManager:
    # cinderclient attaches the manager under the extension's (module) name
    return getattr(cs, __name__, None) or WrsManager(cs)


def _print(fields: Dict[str, Any]) -> None:
    utils.print_dict(dict(sorted(fields.items())))


def _with_wrs_header(request: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an HTTP client's ``request`` so every request carries the wrs-header."""
    if getattr(request, "_stx_wrs_header", False):
        return request

    @functools.wraps(request)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        headers = dict(kwargs.get("headers") or {})
        headers.update(wrs.wrs_headers())
        kwargs["headers"] = headers
        return request(self, *args, **kwargs)

    wrapped._stx_wrs_header = True  # type: ignore[attr-defined]
    return wrapped


def __pre_parse_args__() -> None:
    """Shell hook, run before the shell builds its HTTP client.

    cinderclient has no setting for extra headers, so the wrs-header is added to every
    request of this ``cinder`` process here (only the shell runs hooks; a program using
    cinderclient as a library is not changed). That is what makes ``cinder show`` and
    ``cinder snapshot-show`` display ``wrs-*:backup_status`` where the proxy's
    ``api.requireWrsHeader`` is on.
    """
    for cls in (_http.SessionClient, _http.HTTPClient):
        cls.request = _with_wrs_header(cls.request)


@utils.arg("volume", metavar="<volume>", help="Name or ID of the volume to export.")
def do_export(cs: Any, args: Any) -> None:
    """Export a volume to a file in the export directory (wrs-volume extension)."""
    volume = utils.find_volume(cs, args.volume)
    _print(_manager(cs).export_volume(volume))


@utils.arg("file_name", metavar="<file_name>",
           help="Archive to import, volume-<volume uuid>-<YYYYMMDD-HHMMSS>.tgz (or .tar, "
                ".tar.zst) in the export directory; it is imported into that volume.")
def do_import(cs: Any, args: Any) -> None:
    """Import a volume from a file in the export directory (wrs-volume extension)."""
    try:
        fields = _manager(cs).import_volume(args.file_name)
    except wrs.InvalidArchiveName as err:
        raise exceptions.CommandError(str(err))
    _print(fields)


@utils.arg("snapshot", metavar="<snapshot>", help="Name or ID of the snapshot to export.")
def do_snapshot_export(cs: Any, args: Any) -> None:
    """Export a snapshot to a file in the export directory (wrs-snapshot extension)."""
    snapshot = shell_utils.find_volume_snapshot(cs, args.snapshot)
    _print(_manager(cs).export_snapshot(snapshot))
