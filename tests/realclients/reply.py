"""What a stand-in reads from a request (Turn) and what it answers (Reply), for every API."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.realclients.tool_calls import ToolCall, ToolSpec
from tests.realclients.usage import Usage


@dataclass(frozen=True)
class Turn:
    """The parts of a model request the script needs: the person's latest prompt, how many tool
    results came back since it, the tools offered, and whether structured JSON is wanted."""

    model: str
    prompt: str
    tool_results_since: int
    tools: list[ToolSpec] = field(default_factory=list)
    wants_json: bool = False


@dataclass(frozen=True)
class Reply:
    """One billed reply: its id, model, text or tool call, and usage."""

    id: str
    model: str
    usage: Usage
    text: str = ""
    call: ToolCall | None = None
    call_id: str = ""
