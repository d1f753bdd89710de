"""The adapters aitally ships, one instance each; the watcher asks which file belongs to which."""

from __future__ import annotations

from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.adapters.claude_code import ClaudeCode
from aitally.collectors.files.adapters.codex import Codex


def adapters() -> list[Adapter]:
    return [ClaudeCode(), Codex()]
