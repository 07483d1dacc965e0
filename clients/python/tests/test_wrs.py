"""The shared part of both clients: archive names, action URLs, bodies and the wrs-header."""
import unittest
from typing import Any, List, Tuple

from stx_cinder_clients import wrs

VOL = "0b9f3a52-7c1d-4e8a-9f60-2d4c8b1e7a35"


class FakeHttp:
    """Records posts like cinderclient's HTTP client and answers with a canned body."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.calls: List[Tuple[str, Any]] = []

    def post(self, url: str, **kwargs: Any) -> Tuple[Any, Any]:
        self.calls.append((url, kwargs))
        return object(), self.body


class ArchiveNames(unittest.TestCase):
    def test_names_export_writes_carry_their_volume(self) -> None:
        for ext in ("tgz", "tar", "tar.zst"):
            self.assertEqual(wrs.volume_id_from_archive(f"volume-{VOL}-20260102-030405.{ext}"), VOL)
        self.assertEqual(wrs.volume_id_from_archive(f"volume-{VOL.upper()}-20260102-030405.tgz"), VOL)

    def test_other_names_are_refused_with_the_expected_form(self) -> None:
        bad = [
            "backup.tgz", f"volume-{VOL}.tgz", f"volume-{VOL}-20260102.tgz", f"volume-{VOL}-20260102-030405.zip",
            f"volume-{VOL}-20260102-030405.tgz.sha256", f"/opt/backups/volume-{VOL}-20260102-030405.tgz",
            f"../volume-{VOL}-20260102-030405.tgz", f"volume-{VOL[:-1]}-20260102-030405.tgz",
            f"volume-{VOL}-20260102-030405.tgz\n", "",
        ]
        for name in bad:
            with self.assertRaises(wrs.InvalidArchiveName, msg=repr(name)) as ctx:
                wrs.volume_id_from_archive(name)
            self.assertIn("volume-<volume uuid>-<YYYYMMDD-HHMMSS>.tgz", str(ctx.exception))


class Actions(unittest.TestCase):
    def test_volume_export(self) -> None:
        http = FakeHttp({wrs.VOLUME_EXPORT: {"id": VOL, "status": "exporting"}})
        self.assertEqual(wrs.export_volume(http, VOL), {"id": VOL, "status": "exporting"})
        self.assertEqual(http.calls, [(f"/volumes/{VOL}/action", {
            "body": {"wrs-volume:os-volume_export": None}, "headers": {"wrs-header": "true"}})])

    def test_volume_import_goes_to_the_volume_the_name_carries(self) -> None:
        name = f"volume-{VOL}-20260102-030405.tar.zst"
        http = FakeHttp({wrs.VOLUME_IMPORT: {"id": VOL, "status": "importing"}})
        self.assertEqual(wrs.import_volume(http, name)["status"], "importing")
        self.assertEqual(http.calls, [(f"/volumes/{VOL}/action", {
            "body": {"wrs-volume:os-volume_import": {"file_name": name}}, "headers": {"wrs-header": "true"}})])

    def test_volume_import_of_a_bad_name_sends_nothing(self) -> None:
        http = FakeHttp({})
        with self.assertRaises(wrs.InvalidArchiveName):
            wrs.import_volume(http, "volume-x.tgz")
        self.assertEqual(http.calls, [])

    def test_snapshot_export(self) -> None:
        http = FakeHttp({wrs.SNAPSHOT_EXPORT: {"id": "s1", "volume_size": 1}})
        self.assertEqual(wrs.export_snapshot(http, "s1"), {"id": "s1", "volume_size": 1})
        self.assertEqual(http.calls, [("/snapshots/s1/action", {
            "body": {"wrs-snapshot:os-export_snapshot": None}, "headers": {"wrs-header": "true"}})])

    def test_an_answer_without_the_action_key_gives_no_fields(self) -> None:
        for body in (None, "", {}, {"other": {"id": VOL}}, {wrs.VOLUME_EXPORT: "text"}):
            self.assertEqual(wrs.export_volume(FakeHttp(body), VOL), {})


if __name__ == "__main__":
    unittest.main()
