"""The recorded scenarios: what the person does, step by step, with each client.

Prompts carry planted markers (`AITALLY-MARKER-...`) for the privacy tests and the stand-in's
scripted directives (`script.py`). A step is one run of the client: one-shot (`-p`/`exec`) with
one prompt, or interactive in tmux with several lines typed (prompts and slash commands).
"""

from __future__ import annotations

from dataclasses import dataclass

SHELL = "[[shell: echo AITALLY-MARKER-cmd-7c1]]"
EDIT = "[[read: notes.txt]] [[edit: notes.txt]]"


@dataclass(frozen=True)
class Step:
    """One run of the client. `lines` are typed in order; those starting with `/` are slash
    commands (not turns). `resume`/`fork` name an earlier step whose session this continues."""

    phase: str
    lines: tuple[str, ...]
    interactive: bool = False
    resume: str | None = None
    fork: str | None = None

    @property
    def prompts(self) -> list[str]:
        """The lines that are prompts the person typed (the true turns)."""
        return [line for line in self.lines if not line.startswith("/")]


@dataclass(frozen=True)
class Scenario:
    """A named sequence of steps, and the clients it applies to (None: all)."""

    name: str
    steps: tuple[Step, ...]
    tools: tuple[str, ...] | None = None


COMPACT = "/compact"  # replaced by the client's own command (Gemini CLI: /compress)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("plain", (Step("one", ("AITALLY-MARKER-plain-01 say hello",)),)),
    Scenario(
        "tool", (Step("one", (f"AITALLY-MARKER-tool-02 run the check {SHELL} then {EDIT}",)),)
    ),
    Scenario(
        "subagent",
        (Step("one", ("AITALLY-MARKER-sub-03 delegate [[task: check]]",)),),
        tools=("claude-code",),
    ),
    Scenario(
        "resumed",
        (
            Step("first", ("AITALLY-MARKER-resume-04 first prompt",)),
            Step("again", (f"AITALLY-MARKER-resume-05 second prompt {SHELL}",), resume="first"),
        ),
    ),
    Scenario(
        "forked",
        (
            Step("parent", (f"AITALLY-MARKER-fork-06 parent prompt {SHELL}",)),
            Step("fork", ("AITALLY-MARKER-fork-07 prompt in the fork",), fork="parent"),
        ),
        tools=("claude-code", "codex"),
    ),
    Scenario(
        "compacted",
        (
            Step(
                "tui",
                (
                    f"AITALLY-MARKER-compact-08 first {SHELL}",
                    "AITALLY-MARKER-compact-09 second",
                    COMPACT,
                    "AITALLY-MARKER-compact-10 after compaction",
                ),
                interactive=True,
            ),
        ),
    ),
    Scenario(
        "interactive",
        (
            Step(
                "tui",
                ("AITALLY-MARKER-tui-11 hello", f"AITALLY-MARKER-tui-12 now {SHELL}"),
                interactive=True,
            ),
        ),
    ),
)


def scenarios_for(tool: str) -> list[Scenario]:
    """The scenarios that apply to `tool`."""
    return [s for s in SCENARIOS if s.tools is None or tool in s.tools]
