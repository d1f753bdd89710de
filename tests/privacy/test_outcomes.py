"""Outcome counts carry no content: a marker planted where an agent bug might put some (an
outcome key, an outcome value, an unknown field beside them) is in no byte the ingest writes
(database files, its log, reports, dashboard) nor echoed in its answer."""

from __future__ import annotations

from pathlib import Path

from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server

MARKER = "OUTCOME-MARKER-7f3a9c"


def test_planted_markers_are_never_written(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'central.db'}", tmp_path, "--min-group-size", "1")
    try:
        _, token = server.enroll(login="ada")
        good = record(outcomes={"edits_accepted": 2, "commands_run": 1}, note=MARKER)
        bad = [
            record(outcomes={f"src/{MARKER}.py": 1}),
            record(outcomes={"commits": MARKER}),
            record(outcomes={"lines_added": 3, "diff": f"+{MARKER}"}),
        ]
        answer = server.post(token, batch([good, *bad]))
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        assert len(answer.json()["rejected"]) == 3 and MARKER not in answer.text
        pages = [
            server.admin("GET", f"/v1/reports/{name}?format={fmt}").text
            for name in ("adoption", "usage", "effectiveness")
            for fmt in ("json", "csv")
        ]
        pages.append(server.admin("GET", "/v1/reports/levels?recipe=depth").text)
        pages.append(server.admin("GET", "/dashboard").text)
        assert all(MARKER not in page for page in pages)
    finally:
        server.stop()
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert any(p.name.startswith("central.db") for p in written) and server.log in written
    for path in written:
        assert MARKER.encode() not in path.read_bytes(), path.name
