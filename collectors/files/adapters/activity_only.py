"""Tools that keep no usable figures: a changed file is evidence of use, read by stat() only."""

from __future__ import annotations

from pathlib import PurePosixPath

from aitally.collectors.files.adapters.base import ActivityAdapter, Adapter


class ActivityOnly(ActivityAdapter):
    """Never opens the files (they hold conversations); their modification time is the signal."""

    def __init__(
        self,
        tool: str,
        *,
        suffixes: tuple[str, ...] = (),
        names: tuple[str, ...] = (),
        within: str | None = None,
        signal: str = "transcript",
    ) -> None:
        self.tool = tool
        self.suffixes = suffixes
        self.names = names
        self.within = within
        self.signal = signal

    def matches(self, rel: PurePosixPath) -> bool:
        if self.within is not None and self.within not in rel.parts[:-1]:
            return False
        return rel.name in self.names or (bool(self.suffixes) and rel.name.endswith(self.suffixes))


def adapters() -> list[Adapter]:
    """One adapter per activity-only tool and file pattern."""
    return [
        ActivityOnly("windsurf", suffixes=(".pb",)),
        ActivityOnly("copilot-vscode", suffixes=(".json", ".jsonl"), within="chatSessions"),
        ActivityOnly("copilot-vscode", suffixes=(".jsonl",), within="transcripts"),
        ActivityOnly("lm-studio", suffixes=(".conversation.json",)),
        ActivityOnly("ollama", names=("server.log",), signal="log"),
        ActivityOnly(
            "aider", names=(".aider.chat.history.md", ".aider.input.history", ".aider.llm.history")
        ),
    ]
