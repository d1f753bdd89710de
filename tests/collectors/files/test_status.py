"""The file collectors' status: one typed value, printed in the shape `aitally status` uses."""

from __future__ import annotations

from pathlib import Path

from aitally.collectors.files import status
from aitally.collectors.files.status import CatchUpSummary, FileCollectorStatus
from aitally.core.sink import FilePosition
from aitally.core.store import Store, positions


def test_status_reads_what_the_agent_saved_and_the_store_holds(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    summary = CatchUpSummary(files=3, bytes=100, observations=4, seconds=0.5, mb_per_s=0.0)
    with store.transaction() as conn:
        store.kv_set(status.STATUS_KEY, status.saved_record({"/h/.codex": "native"}, summary))
        positions.save(conn, [FilePosition("/h/.codex/a", "codex", 10)])
        store.count("file_skipped", "codex:bad_json", 2, conn)
    got = status.read_status(store)
    assert got == FileCollectorStatus(
        roots={"/h/.codex": "native"},
        files_by_tool={"codex": 1},
        skipped={"codex:bad_json": 2},
        catch_up=summary,
    )
    assert got.as_json() == {
        "roots": {"/h/.codex": "native"},
        "files_by_tool": {"codex": 1},
        "skipped": {"codex:bad_json": 2},
        "catch_up": {
            "files": 3,
            "bytes": 100,
            "observations": 4,
            "seconds": 0.5,
            "mb_per_s": 0.0,
        },
    }


def test_status_without_an_agent_or_with_an_older_record(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert status.read_status(store).as_json() == {
        "roots": {},
        "files_by_tool": {},
        "skipped": {},
        "catch_up": None,
    }
    # The previous version also saved a file count; it is ignored.
    store.kv_set(status.STATUS_KEY, '{"backfill": {}, "files": 3, "roots": {"/r": "polling"}}')
    assert status.read_status(store) == FileCollectorStatus(roots={"/r": "polling"})
