"""Every recorded fixture folder is complete, and its truth.json agrees with its stand-in log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.realclients.clients import CLIENTS
from tests.realclients.scenarios import scenarios_for
from tests.realclients.truth import session_of
from tests.realclients.usage import WIRE_KINDS, add_usage

# The marker each outcome plants in what the client writes: the edit's patch, the failing
# command, the commit message, and the line the person added to a proposed edit.
PLANTED = {
    "edits_accepted": "AITALLY-MARKER-edit",
    "commands_failed": "AITALLY-MARKER-fail",
    "commits": "AITALLY-MARKER-commit",
    "edits_modified": "AITALLY-MARKER-person",
}
ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "realclients"
FOLDERS = sorted(p.parent for p in ROOT.glob("*/*/*/truth.json"))


def scenario_of(folder: Path) -> Any:
    """The scenario definition a folder was recorded from."""
    tool, name = folder.parts[-3], folder.parts[-1]
    return {s.name: s for s in scenarios_for(tool)}[name]


def load(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    truth = json.loads((folder / "truth.json").read_text())
    lines = (folder / "standin-log.jsonl").read_text().splitlines()
    return truth, [json.loads(line) for line in lines if line]


def test_there_are_fixtures_for_every_client() -> None:
    assert {f.parts[-3] for f in FOLDERS} == set(CLIENTS)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: "/".join(f.parts[-3:]))
def test_folder_is_complete(folder: Path) -> None:
    tool, version, scenario = folder.parts[-3:]
    truth, log = load(folder)
    assert (truth["tool"], truth["version"], truth["scenario"]) == (tool, version, scenario)
    assert tool in CLIENTS and scenario_of(folder).name == scenario
    lifecycle = json.loads((folder / "processes.json").read_text())
    assert lifecycle["processes"] and lifecycle["snapshots"]
    files = [p for p in (folder / "home").rglob("*") if p.is_file()]
    assert files, "the client wrote nothing that was kept"
    text = "\n".join(p.read_text(errors="replace") for p in [*files, folder / "processes.json"])
    # Only /home/dev paths: nothing of the scratch folder the run happened in.
    assert "aitally-realclients" not in text and "/root/" not in text
    for sid in truth["sessions"]:
        assert sid and any(sid in str(p) or sid in p.read_text(errors="replace") for p in files)
    assert log, "no billed reply was logged"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: "/".join(f.parts[-3:]))
def test_truth_agrees_with_the_standin_log(folder: Path) -> None:
    truth, log = load(folder)
    by_phase = {s["phase"]: s["session"] for s in truth["steps"]}
    known = set(truth["sessions"])
    billed: dict[str, dict[str, int]] = {}
    for entry in log:
        sid = session_of(entry, by_phase, known)
        if sid:
            add_usage(billed.setdefault(sid, {}), entry["wire"])
    for sid, session in truth["sessions"].items():
        assert session["billed"] == {k: billed.get(sid, {}).get(k, 0) for k in WIRE_KINDS}
        per_model: dict[str, int] = {}
        for model in session["models"].values():
            add_usage(per_model, model)
        assert per_model == (session["billed"] if session["models"] else {})
    attributed = sum(s["replies"] for s in truth["sessions"].values())
    assert attributed + len(truth["unattributed"]) == len(log)
    seqs = [e["seq"] for e in log]
    assert seqs == list(range(1, len(log) + 1))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: "/".join(f.parts[-3:]))
def test_turns_are_the_prompts_the_scenario_typed(folder: Path) -> None:
    truth, _ = load(folder)
    scenario = scenario_of(folder)
    typed = sum(len(step.prompts) for step in scenario.steps)
    assert sum(s["turns"] for s in truth["sessions"].values()) == typed


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: "/".join(f.parts[-3:]))
def test_outcome_scenarios_did_what_their_truth_declares(folder: Path) -> None:
    truth, _ = load(folder)
    scenario = scenario_of(folder)
    if scenario.outcomes is None:
        assert "outcomes" not in truth
        return
    assert truth["outcomes"] == scenario.outcomes
    assert truth["outcomes_verified"] is True, truth["outcome_effects"]
    # The planted markers reached what the client wrote (so privacy tests have something to find).
    text = "\n".join(p.read_text() for p in (folder / "home").rglob("*") if p.is_file())
    for kind, marker in PLANTED.items():
        assert (marker in text) == bool(scenario.outcomes[kind]), marker
