"""The adapters aitally ships, one instance each; the watcher asks which file belongs to which."""

from __future__ import annotations

from aitally.collectors.files.adapters import activity_only
from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.adapters.claude_code import ClaudeCode
from aitally.collectors.files.adapters.cline import Cline
from aitally.collectors.files.adapters.codex import Codex
from aitally.collectors.files.adapters.continue_dev import ContinueDev
from aitally.collectors.files.adapters.copilot_cli import CopilotCli
from aitally.collectors.files.adapters.cursor import Cursor, CursorScoredCommits
from aitally.collectors.files.adapters.gemini_cli import GeminiJson, GeminiJsonl
from aitally.collectors.files.adapters.opencode import OpenCode


def adapters() -> list[Adapter]:
    """Every adapter, in the order files are matched against them."""
    return [
        ClaudeCode(),
        Codex(),
        GeminiJsonl(),
        GeminiJson(),
        CopilotCli(),
        ContinueDev(),
        Cline(),
        Cursor(),
        CursorScoredCommits(),
        OpenCode(),
        *activity_only.adapters(),
    ]
