"""The scenario definitions: what counts as a turn, markers in every prompt, outcome truth."""

from __future__ import annotations

from tests.realclients.clients import CLIENTS
from tests.realclients.scenarios import OUTCOMES, Step, scenarios_for
from tests.realclients.script import planned_actions


def test_slash_commands_and_dialog_answers_are_not_turns() -> None:
    step = Step("s", ("first", "/compact", "keys:Enter", "second"), interactive=True)
    assert step.prompts == ["first", "second"]


def test_every_prompt_carries_a_planted_marker() -> None:
    for tool in CLIENTS:
        for scenario in scenarios_for(tool):
            for step in scenario.steps:
                assert step.prompts
                assert all("AITALLY-MARKER-" in p for p in step.prompts), (tool, scenario.name)


def test_outcome_scenarios_exist_for_three_clients_and_match_their_directives() -> None:
    for tool in ("claude-code", "codex", "gemini-cli"):
        [scenario] = [s for s in scenarios_for(tool) if s.name == "outcomes"]
        assert scenario.git and scenario.outcomes == OUTCOMES
        actions = [a for step in scenario.steps for p in step.prompts for a in planned_actions(p)]
        kinds = [a.kind for a in actions]
        assert kinds.count("edit") + kinds.count("write") == OUTCOMES["edits_proposed"]
        assert kinds.count("shell") == OUTCOMES["commands_run"]
        commits = [a for a in actions if "git commit" in a.arg]
        assert len(commits) == OUTCOMES["commits"] and "co-authored-by" in commits[0].arg.lower()
