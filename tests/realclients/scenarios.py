"""The recorded scenarios: what the person does, step by step, with each client.

Prompts carry planted markers (`AITALLY-MARKER-...`) for the privacy tests and the stand-in's
scripted directives (`script.py`). A step is one run of the client: one-shot (`-p`/`exec`) with
one prompt, or interactive in tmux with several lines typed (prompts and slash commands).
"""

from __future__ import annotations

from dataclasses import dataclass

SHELL = "[[shell: echo AITALLY-MARKER-cmd-7c1]]"
EDIT = "[[read: notes.txt]] [[edit: notes.txt]]"


KEYS = "keys:"


@dataclass(frozen=True)
class Step:
    """One run of the client. `lines` are typed in order; those starting with `/` are slash
    commands (not turns), `keys:` lines are tmux key names sent as the person's answer to a
    dialog (`keys:Enter` approves, `keys:Escape` rejects). `resume`/`fork` name an earlier step
    whose session this continues; `ask`: edits wait for approval instead of being allowed."""

    phase: str
    lines: tuple[str, ...]
    interactive: bool = False
    resume: str | None = None
    fork: str | None = None
    ask: bool = False

    @property
    def prompts(self) -> list[str]:
        """The lines that are prompts the person typed (the true turns)."""
        return [line for line in self.lines if not line.startswith(("/", KEYS))]


@dataclass(frozen=True)
class Scenario:
    """A named sequence of steps, and the clients it applies to (None: all). `git`: the working
    folder is a git repository with one commit; `outcomes`: the true outcome counts (issue 14's
    kinds) of what the steps make the client do and the person answer; `editor`: the person's
    editor is the scripted one (editor.py) that adds a line to a proposed edit."""

    name: str
    steps: tuple[Step, ...]
    tools: tuple[str, ...] | None = None
    git: bool = False
    outcomes: dict[str, int] | None = None
    editor: bool = False


COMPACT = "/compact"  # replaced by the client's own command (Gemini CLI: /compress)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("plain", (Step("one", ("AITALLY-MARKER-plain-01 say hello",)),)),
    Scenario(
        "tool", (Step("one", (f"AITALLY-MARKER-tool-02 run the check {SHELL} then {EDIT}",)),)
    ),
    Scenario(
        "subagent",
        (Step("one", ("AITALLY-MARKER-sub-03 delegate [[task: check]]",)),),
        tools=("claude-code", "copilot-cli"),
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
    # Codex's TUI names the thread with a call whose own prompt is a fixed text plus the
    # thread's first prompt: a first prompt of another length than `interactive`'s shows it
    # (collectors/otlp/codex_title_calls.py).
    Scenario(
        "tui-long-prompt",
        (
            Step(
                "tui",
                (
                    "AITALLY-MARKER-tui-31 hello there, a first prompt longer than before",
                    "AITALLY-MARKER-tui-32 again",
                ),
                interactive=True,
            ),
        ),
        tools=("codex",),
    ),
)


# One accepted edit (1 line added, 1 removed), one rejected new file, one failing command, one
# commit with an AI co-author trailer. Markers are planted in the patch, commands and message.
OUTCOMES = {
    "edits_proposed": 2,
    "edits_accepted": 1,
    "edits_rejected": 1,
    "edits_modified": 0,
    "lines_added": 1,
    "lines_removed": 1,
    "commands_run": 2,
    "commands_failed": 1,
    "commits": 1,
    "commits_with_ai": 1,
}
REJECTED_FILE = "rejected.txt"
FAILING = "[[shell: ls /nonexistent-AITALLY-MARKER-fail]]"


def _commit(trailer: str) -> str:
    message = "-m 'AITALLY-MARKER-commit tidy notes'"
    return f"[[shell: git add -A && git commit -q {message} -m '{trailer}']]"


def _outcomes(
    tool: str, trailer: str, shell_answer: tuple[str, ...], commit_answer: str
) -> Scenario:
    """The outcome scenario of one client: the dialog answers differ by client (Claude Code runs
    Bash without asking; Codex and Gemini CLI ask for every command, Copilot CLI for the commit)."""
    lines = (
        f"AITALLY-MARKER-out-21 tidy the notes {EDIT}",
        "keys:Enter",
        f"AITALLY-MARKER-out-22 add a file [[write: {REJECTED_FILE}]]",
        "keys:Escape",
        f"AITALLY-MARKER-out-23 check {FAILING}",
        *shell_answer,
        f"AITALLY-MARKER-out-24 commit {_commit(trailer)}",
        *((commit_answer,) if commit_answer else ()),
    )
    step = Step("tui", lines, interactive=True, ask=True)
    return Scenario("outcomes", (step,), tools=(tool,), git=True, outcomes=OUTCOMES)


SCENARIOS = (
    *SCENARIOS,
    _outcomes("claude-code", "Co-Authored-By: Claude <noreply@anthropic.com>", (), ""),
    _outcomes("codex", "Co-authored-by: Codex <noreply@openai.com>", ("keys:Enter",), "keys:Enter"),
    _outcomes(
        "gemini-cli",
        "Co-authored-by: Gemini CLI <gemini-cli@google.com>",
        ("keys:Enter",),
        "keys:Enter",
    ),
    # Copilot CLI runs a read-only command (`ls`) without asking.
    _outcomes(
        "copilot-cli",
        "Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>",
        (),
        "keys:Enter",
    ),
)


# One proposed edit that the person changes in their editor (adding one line) and then accepts:
# the tool's lines are still 1 added and 1 removed; the person's line is not the tool's.
MODIFIED = {
    **{kind: 0 for kind in OUTCOMES},
    "edits_proposed": 1,
    "edits_accepted": 1,
    "edits_modified": 1,
    "lines_added": 1,
    "lines_removed": 1,
}
# Gemini CLI's approval dialog: 1 allow once, 2 allow for this session, 3 modify with external
# editor, 4 no; after the editor closes the dialog asks again.
MODIFY_ANSWERS = {"gemini-cli": ("keys:3", "keys:1")}


def _modified(tool: str) -> Scenario:
    """The person modifies a proposed edit before accepting it (clients with a terminal path to
    do so: docs/clients/)."""
    lines = (f"AITALLY-MARKER-mod-25 tidy the notes {EDIT}", *MODIFY_ANSWERS[tool])
    step = Step("tui", lines, interactive=True, ask=True)
    return Scenario("modified", (step,), tools=(tool,), git=True, outcomes=MODIFIED, editor=True)


SCENARIOS = (*SCENARIOS, *(_modified(tool) for tool in MODIFY_ANSWERS))


def scenarios_for(tool: str) -> list[Scenario]:
    """The scenarios that apply to `tool`."""
    return [s for s in SCENARIOS if s.tools is None or tool in s.tools]
