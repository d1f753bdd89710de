"""Tool definitions: the schema of a catalog entry (shipped or added by IT in [[tools]]).

The shipped catalog (`collectors/catalog.toml`) and the configuration's `[[tools]]` share this
schema, so a bad entry is a configuration error for every command, not only for the agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aitally.core.observation import Role
from aitally.core.wire import SURFACES

RULE_FIELDS = (
    "argv0",
    "argv0_prefix",
    "exe_contains",
    "args_contain",
    "args_any",
    "args_basename",
    "args_any_prefix",
    "args_none",
    "script",
)
# Every tool id aitally knows; some live only inside an editor's extension host,
# with file adapters but no process of their own.
TOOL_IDS = frozenset(
    {
        "claude-code",
        "codex",
        "gemini-cli",
        "copilot-cli",
        "copilot-vscode",
        "copilot-jetbrains",
        "cursor",
        "windsurf",
        "continue",
        "cline",
        "aider",
        "amazon-q",
        "kiro",
        "chatgpt-desktop",
        "claude-desktop",
        "ollama",
        "lm-studio",
        "opencode",
        "goose",
    }
)
ROLES = ("session", "daemon", "helper")


class CatalogError(ValueError):
    """A catalog entry (shipped or added by IT) is malformed; str() names it."""


def base_name(arg: str) -> str:
    """A program's name as rules compare it: last path part, lower case, no .exe."""
    name = arg.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def script_name(args: Sequence[str]) -> str | None:
    """The base name (".js" stripped) of the script an interpreter runs: its first argument
    that is not an option (`node --max-old-space-size=8192 …/bin/gemini` runs `gemini`)."""
    for arg in args:
        if not arg.startswith("-"):
            name = base_name(arg)
            return name[:-3] if name.endswith(".js") else name
    return None


@dataclass(frozen=True, slots=True)
class Rule:
    role: Role
    argv0: frozenset[str] = frozenset()
    argv0_prefix: tuple[str, ...] = ()
    exe_contains: tuple[str, ...] = ()
    args_contain: tuple[str, ...] = ()
    args_any: frozenset[str] = frozenset()
    args_basename: frozenset[str] = frozenset()
    args_any_prefix: tuple[str, ...] = ()
    args_none: tuple[str, ...] = ()
    script: frozenset[str] = frozenset()

    def matches(self, argv0: str, args: Sequence[str], exe: str) -> bool:
        if self.argv0 and argv0 not in self.argv0:
            return False
        if self.argv0_prefix and not argv0.startswith(self.argv0_prefix):
            return False
        if self.exe_contains and not any(s in exe for s in self.exe_contains):
            return False
        if self.args_contain and not any(
            s in a.replace("\\", "/") for a in args for s in self.args_contain
        ):
            return False
        if self.args_any and not any(a in self.args_any for a in args):
            return False
        if self.args_basename and not any(base_name(a) in self.args_basename for a in args):
            return False
        if self.args_any_prefix and not any(a.startswith(self.args_any_prefix) for a in args):
            return False
        if self.script and script_name(args) not in self.script:
            return False
        return not (self.args_none and any(a.startswith(self.args_none) for a in args))


@dataclass(frozen=True, slots=True)
class Match:
    tool: str
    surface: str
    role: Role


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool: its rules, and `session_file`, a pattern on the paths its process holds open
    whose group 1 is the tool's own session id (None: its files do not name the process)."""

    id: str
    surface: str
    rules: tuple[Rule, ...]
    session_file: re.Pattern[str] | None = None


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _rule(where: str, raw: Mapping[str, Any]) -> Rule:
    unknown = set(raw) - {*RULE_FIELDS, "role"}
    if unknown:
        raise CatalogError(
            f"{where}: unknown field {sorted(unknown)[0]!r}; "
            f"allowed: role, {', '.join(RULE_FIELDS)}"
        )
    role = raw.get("role", "session")
    if role not in ROLES:
        raise CatalogError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    fields = {k: _strings(f"{where}.{k}", raw[k]) for k in RULE_FIELDS if k in raw}
    if not set(fields) & {"argv0", "argv0_prefix", "exe_contains", "args_contain"}:
        raise CatalogError(f"{where}: needs argv0, argv0_prefix, exe_contains or args_contain")
    return Rule(
        role=role,
        argv0=frozenset(base_name(a) for a in fields.get("argv0", ())),
        argv0_prefix=tuple(a.lower() for a in fields.get("argv0_prefix", ())),
        exe_contains=tuple(a.lower() for a in fields.get("exe_contains", ())),
        args_contain=fields.get("args_contain", ()),
        args_any=frozenset(fields.get("args_any", ())),
        args_basename=frozenset(base_name(a) for a in fields.get("args_basename", ())),
        args_any_prefix=fields.get("args_any_prefix", ()),
        args_none=fields.get("args_none", ()),
        script=frozenset(a.lower() for a in fields.get("script", ())),
    )


def _session_file(where: str, value: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        pattern = re.compile(value) if isinstance(value, str) else None
    except re.error as exc:
        raise CatalogError(f"{where}.session_file is not a regular expression: {exc}") from None
    if pattern is None or pattern.groups != 1:
        raise CatalogError(f"{where}.session_file must be a pattern with one group (the id)")
    return pattern


def parse_tools(entries: Iterable[Mapping[str, Any]], origin: str) -> list[ToolSpec]:
    tools = []
    for n, entry in enumerate(entries):
        where = f"{entry.get('_origin', origin)}: tools[{n}]"
        tool_id = entry.get("id")
        if not isinstance(tool_id, str) or not tool_id.replace("-", "").isalnum():
            raise CatalogError(f"{where}.id must be a slug like 'my-tool'")
        surface = entry.get("surface", "cli")
        if surface not in SURFACES:
            raise CatalogError(f"{where}.surface {surface!r} is not one of {', '.join(SURFACES)}")
        matches = entry.get("match")
        if not isinstance(matches, list) or not matches:
            raise CatalogError(f"{where}: needs at least one [[tools.match]] rule")
        rules = tuple(_rule(f"{where}.match[{i}]", m) for i, m in enumerate(matches))
        tools.append(
            ToolSpec(tool_id, surface, rules, _session_file(where, entry.get("session_file")))
        )
    return tools
