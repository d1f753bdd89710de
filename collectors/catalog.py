"""The tool catalog: loads catalog.toml (plus IT's additions) and matches a process to a tool."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from aitally.core.tools import Match, ToolSpec, base_name, parse_tools


class Catalog:
    """Ordered tool specs; IT's entries come first so they can refine shipped ones."""

    def __init__(self, tools: Sequence[ToolSpec], disabled: Iterable[str] = ()) -> None:
        off = set(disabled)
        self.tools = [t for t in tools if t.id not in off]
        self.ids = [t.id for t in self.tools]
        # tool -> the pattern naming its session in the paths its process holds open; the
        # first entry of a tool that has one wins, as for rules.
        self.session_files: dict[str, re.Pattern[str]] = {}
        for t in self.tools:
            if t.session_file is not None:
                self.session_files.setdefault(t.id, t.session_file)

    @classmethod
    def load(cls, extra: Iterable[Mapping[str, Any]] = (), disabled: Iterable[str] = ()) -> Catalog:
        text = resources.files("aitally.collectors").joinpath("catalog.toml").read_text()
        shipped = parse_tools(tomllib.loads(text)["tool"], "catalog.toml")
        return cls([*parse_tools(extra, "configuration"), *shipped], disabled)

    def match(self, cmdline: Sequence[str], exe: str = "") -> Match | None:
        if not cmdline:
            return None
        argv0 = base_name(cmdline[0])
        args = cmdline[1:]
        exe_norm = exe.replace("\\", "/").lower()
        for tool in self.tools:
            for rule in tool.rules:
                if rule.matches(argv0, args, exe_norm):
                    return Match(tool.id, tool.surface, rule.role)
        return None
