"""What the cinder and openstack commands share: the three StarlingX actions.

Kept free of cinderclient imports so it can be tested with a fake HTTP client; both
clients hand in the cinderclient HTTP client (``Client.client``), whose ``post``
returns ``(response, parsed body)`` and raises cinderclient exceptions on errors.
"""
import re
from typing import Any, Dict, Optional, Protocol, Tuple

#: Later StarlingX releases inject ``wrs-*:backup_status`` only when a request carries
#: this header (the proxy's ``api.requireWrsHeader``); any value will do.
WRS_HEADER = "wrs-header"
WRS_HEADER_VALUE = "true"

VOLUME_EXPORT = "wrs-volume:os-volume_export"
VOLUME_IMPORT = "wrs-volume:os-volume_import"
SNAPSHOT_EXPORT = "wrs-snapshot:os-export_snapshot"

# volume-<uuid>-<YYYYMMDD-HHMMSS>.<ext>, exactly as export names its archives (used with
# fullmatch: a pattern ending in $ would also accept a trailing newline)
_ARCHIVE_NAME = re.compile(
    r"volume-(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"-\d{8}-\d{6}\.(?:tgz|tar|tar\.zst)"
)

BAD_NAME_MESSAGE = (
    "Invalid file name '{name}': an archive to import must be named "
    "volume-<volume uuid>-<YYYYMMDD-HHMMSS>.tgz (or .tar, .tar.zst), as export "
    "writes it in the export directory; the volume it is imported into is the "
    "one its name carries."
)


class InvalidArchiveName(ValueError):
    """The file name is not one an export could have written."""


class HttpClient(Protocol):
    """The part of cinderclient's HTTP client (SessionClient/HTTPClient) used here."""

    def post(self, url: str, **kwargs: Any) -> Tuple[Any, Any]: ...


def volume_id_from_archive(file_name: str) -> str:
    """Return the volume id an archive's name carries, or raise InvalidArchiveName."""
    m = _ARCHIVE_NAME.fullmatch(file_name)
    if not m:
        raise InvalidArchiveName(BAD_NAME_MESSAGE.format(name=file_name))
    return m.group("id").lower()


def wrs_headers() -> Dict[str, str]:
    """Headers every StarlingX request sends."""
    return {WRS_HEADER: WRS_HEADER_VALUE}


def _action(http: HttpClient, url: str, key: str, value: Optional[Any]) -> Dict[str, Any]:
    """POST one action and return the fields of its answer (the object under ``key``)."""
    _resp, body = http.post(url, body={key: value}, headers=wrs_headers())
    answer = body.get(key) if isinstance(body, dict) else None
    return dict(answer) if isinstance(answer, dict) else {}


def export_volume(http: HttpClient, volume_id: str) -> Dict[str, Any]:
    """Start exporting a volume to an archive in the proxy's export directory."""
    return _action(http, "/volumes/%s/action" % volume_id, VOLUME_EXPORT, None)


def import_volume(http: HttpClient, file_name: str) -> Dict[str, Any]:
    """Start importing an archive (by file name) into the volume its name carries."""
    volume_id = volume_id_from_archive(file_name)
    return _action(http, "/volumes/%s/action" % volume_id, VOLUME_IMPORT, {"file_name": file_name})


def export_snapshot(http: HttpClient, snapshot_id: str) -> Dict[str, Any]:
    """Start exporting a snapshot to an archive named after its parent volume."""
    return _action(http, "/snapshots/%s/action" % snapshot_id, SNAPSHOT_EXPORT, None)
