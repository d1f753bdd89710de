"""Every recorded real-client scenario (tests/fixtures/realclients/<tool>/<version>/<scenario>)
read by the real file adapters, tailer, sessionizer and store, compared exactly with the
stand-in's truth: tokens by kind per session, turns, models, one session per use.

Each scenario is read three ways: a first catch-up in file name order, one in reverse order
(a fork's file before its parent's, or after), and live (every file read half-written, then
again once complete), because a reply belongs to the session where it first happened whatever
order the files arrive in.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aitally.agent import reports
from aitally.collectors.files import registry
from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from aitally.core.wire import TOKEN_KINDS
from tests.collectors.files.helpers import scan_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "realclients"
# Each tool's data folder under the recorded home.
ROOTS = {
    "claude-code": ".claude",
    "codex": ".codex",
    "gemini-cli": ".gemini",
    "copilot-cli": ".copilot",
}
ORDERS = ("sorted", "reversed", "live")
MARKER = b"AITALLY-MARKER"


def scenarios() -> Iterator[Path]:
    yield from sorted(p.parent for p in FIXTURES.glob("*/*/*/truth.json"))


def _files(root: Path, tool: str) -> list[tuple[Path, PurePosixPath, Adapter]]:
    mine = [a for a in registry.adapters() if a.tool == tool]
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        adapter = next((a for a in mine if a.matches(rel)), None)
        if adapter is not None:
            out.append((path, rel, adapter))
    return out


def read_as_aitally(
    scenario: Path, tmp: Path, order: str, drop: bytes | None = None
) -> list[dict[str, Any]]:
    """The sessions aitally records from the scenario's files, read in `order`; `drop`: lines
    containing it are taken out first (a client version that did not write them)."""
    truth = json.loads((scenario / "truth.json").read_text())
    tool = truth["tool"]
    root = tmp / "root"
    shutil.copytree(scenario / "home" / ROOTS[tool], root)
    if drop is not None:
        for path in root.rglob("*.jsonl"):
            kept = [x for x in path.read_bytes().splitlines(keepends=True) if drop not in x]
            path.write_bytes(b"".join(kept))
    store = Store(tmp / "aitally.db")
    tailer = Tailer(Sessionizer(store), store)
    files = _files(root, tool)
    if order == "reversed":
        files.reverse()
    if order == "live":
        whole = {path: path.read_bytes() for path, _, _ in files}
        for path, data in whole.items():
            lines = data.splitlines(keepends=True)
            path.write_bytes(b"".join(lines[: len(lines) // 2]))
        for path, rel, adapter in files:
            tailer.process(path, rel, adapter)
        for path, data in whole.items():
            path.write_bytes(data)
    for path, rel, adapter in files:
        tailer.process(path, rel, adapter)
    tailer.flush()
    rows = reports.sessions(store.conn)
    store.close()
    # The harness plants markers in every prompt, command and file the clients handled: no
    # byte of the store (WAL and journal included) holds one.
    assert scan_for(tmp, MARKER, only="aitally.db") == []
    return rows


def _kinds(tokens: dict[str, int | None]) -> dict[str, int]:
    return {k: int(tokens.get(k) or 0) for k in TOKEN_KINDS}


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per tool session id: tokens by kind, turns, models (segments of a session added up)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        sid = r["tool_session_id"] or f"process {r['pids']}"
        s = out.setdefault(sid, {"tokens": _kinds({}), "turns": 0, "models": {}})
        for k, v in _kinds(r["tokens"]).items():
            s["tokens"][k] += v
        s["turns"] += r["turns"]
        for model, figures in r["models"].items():
            m = s["models"].setdefault(model, _kinds({}))
            for k, v in _kinds(figures).items():
                m[k] += v
    return out


def _side_calls(scenario: Path, truth: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per session, the tokens of the calls billed beside the conversation (titles, summaries,
    history compression: the stand-in's `side` replies), by the session of their step."""
    by_phase = {step["phase"]: step["session"] for step in truth["steps"]}
    out: dict[str, dict[str, int]] = {}
    for line in (scenario / "standin-log.jsonl").read_text().splitlines():
        entry = json.loads(line)
        sid = by_phase.get(entry.get("phase"))
        if entry.get("role") == "side" and sid is not None:
            side = out.setdefault(sid, _kinds({}))
            for k, v in _kinds(entry["wire"]).items():
                side[k] += v
    return out


def expected(scenario: Path, truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the client records locally of the stand-in's billed figures, per session."""
    side = _side_calls(scenario, truth)
    out = {}
    for sid, s in truth["sessions"].items():
        if s["recorded"] is not None:
            recorded = _kinds(s["recorded"])
        else:
            # A client that writes no reply ids (Gemini CLI): what it records is the
            # conversation's replies, which the side calls never are.
            gone = side.get(sid, _kinds({}))
            recorded = {k: v - gone[k] for k, v in _kinds(s["billed"]).items()}
        models = {m: _kinds(v) for m, v in s["models"].items()}
        out[sid] = {"tokens": recorded, "turns": s["turns"], "models": models}
    return out


def _name(p: Path) -> str:
    return "/".join(p.parts[-3:])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("scenario", list(scenarios()), ids=_name)
def test_recorded_scenario_matches_the_stand_ins_truth(
    scenario: Path, order: str, tmp_path: Path
) -> None:
    check(scenario, read_as_aitally(scenario, tmp_path, order))


# Lines an older client version did not write: per-reply records, without which the
# cumulative totals alone must still give the same figures (a Codex fork's from its first
# reply, a resumed Copilot session's second shutdown net of the first).
PER_REPLY = {"codex": b'"token_usage_record"', "copilot-cli": b'"session.usage_record"'}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(
    "scenario", [p for p in scenarios() if p.parts[-3] in PER_REPLY], ids=_name
)
def test_without_per_reply_records_the_totals_still_match(
    scenario: Path, order: str, tmp_path: Path
) -> None:
    drop = PER_REPLY[scenario.parts[-3]]
    check(scenario, read_as_aitally(scenario, tmp_path, order, drop=drop))


def check(scenario: Path, rows: list[dict[str, Any]]) -> None:
    """aitally's sessions against the scenario's truth.json, exactly."""
    truth = json.loads((scenario / "truth.json").read_text())
    got = summary(rows)
    want = expected(scenario, truth)
    assert sorted(got) == sorted(want), "one session per use"
    for sid, w in want.items():
        g = got[sid]
        assert (g["tokens"], g["turns"]) == (w["tokens"], w["turns"]), sid
        assert set(g["models"]) <= set(w["models"]), sid
        # Where some replies are only billed (titles, classifiers: never in the client's
        # files), the models' figures cover more than what was recorded.
        if sum(sum(v.values()) for v in w["models"].values()) == sum(w["tokens"].values()):
            assert g["models"] == w["models"], sid
