"""The scenario definitions: what counts as a turn, markers in every prompt, outcome truth."""

from __future__ import annotations

from tests.realclients.clients import CLIENTS
from tests.realclients.scenarios import MODIFIED, OUTCOMES, Scenario, Step, scenarios_for
from tests.realclients.script import Action, planned_actions


def test_slash_commands_and_dialog_answers_are_not_turns() -> None:
    step = Step("s", ("first", "/compact", "keys:Enter", "second"), interactive=True)
    assert step.prompts == ["first", "second"]


def test_every_prompt_carries_a_planted_marker() -> None:
    for tool in CLIENTS:
        for scenario in scenarios_for(tool):
            for step in scenario.steps:
                assert step.prompts
                assert all("AITALLY-MARKER-" in p for p in step.prompts), (tool, scenario.name)


def _actions(scenario: Scenario) -> list[Action]:
    return [a for step in scenario.steps for p in step.prompts for a in planned_actions(p)]


def test_outcome_scenarios_exist_for_four_clients_and_match_their_directives() -> None:
    for tool in ("claude-code", "codex", "gemini-cli", "copilot-cli"):
        [scenario] = [s for s in scenarios_for(tool) if s.name == "outcomes"]
        assert scenario.git and scenario.outcomes == OUTCOMES
        actions = _actions(scenario)
        kinds = [a.kind for a in actions]
        assert kinds.count("edit") + kinds.count("write") == OUTCOMES["edits_proposed"]
        assert kinds.count("shell") == OUTCOMES["commands_run"]
        commits = [a for a in actions if "git commit" in a.arg]
        assert len(commits) == OUTCOMES["commits"] and "co-authored-by" in commits[0].arg.lower()


def test_the_modified_scenario_is_one_edit_the_scripted_editor_changes() -> None:
    [scenario] = [s for s in scenarios_for("gemini-cli") if s.name == "modified"]
    assert scenario.editor and scenario.outcomes == MODIFIED
    assert [a.kind for a in _actions(scenario)] == ["read", "edit"]
    assert MODIFIED["edits_modified"] == MODIFIED["edits_accepted"] == 1
    # Only clients with a terminal path to change a proposal have it (docs/clients/).
    assert [t for t in CLIENTS if any(s.name == "modified" for s in scenarios_for(t))] == [
        "gemini-cli"
    ]
