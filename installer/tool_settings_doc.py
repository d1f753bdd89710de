"""An AI tool's own settings file (JSON or TOML) read, changed at named keys, and written back.

Only the keys `aitally install --configure-tools` sets change: a TOML file keeps its comments,
order and layout (tomlkit round-trips it); a JSON file keeps its key order, indentation and final
newline (JSON has no comments; a file with comments, which Gemini CLI accepts, is refused with
the settings to add by hand). Uninstall restores the bytes themselves (installer/tool_telemetry.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Protocol

import tomlkit
import tomlkit.exceptions

from aitally.core.errors import ConfigError

KeyPath = tuple[str, ...]


class _Missing:
    """The value of a key the file does not have."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class SettingsDoc(Protocol):
    """A parsed settings file: read, set and delete values at key paths, then render it."""

    def get(self, keys: KeyPath) -> Any:
        """The plain value at `keys`, or MISSING."""
        ...

    def set(self, keys: KeyPath, value: Any) -> None:
        """Sets the value, making the tables on the way."""
        ...

    def delete(self, keys: KeyPath) -> None:
        """Removes the key if it is there."""
        ...

    def render(self) -> str:
        """The file's new text."""
        ...


def _walk_get(root: Any, keys: KeyPath) -> Any:
    node = root
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def _parent(root: Any, keys: KeyPath, path: Path, make: Any) -> Any:
    node = root
    for key in keys[:-1]:
        if key not in node:
            node[key] = make()
        node = node[key]
        if not isinstance(node, dict):
            raise ConfigError(f"{path}: {'.'.join(keys[:-1])} is not a table; fix the file first")
    return node


class JsonDoc:
    """A JSON object file; rendered with the indentation and final newline it came with."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            raise ConfigError(
                f"{path}: not plain JSON (comments or a syntax error); aitally edits plain JSON "
                "only, so add its settings by hand (see `aitally doctor`)"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: not a JSON object; fix the file first")
        self.data: dict[str, Any] = data
        found = re.search(r"^\{\s*?\n([ \t]+)\S", text)
        self.indent: str | int = found.group(1) if found else 2
        self.newline = text.endswith("\n") or not text

    def get(self, keys: KeyPath) -> Any:
        return _walk_get(self.data, keys)

    def set(self, keys: KeyPath, value: Any) -> None:
        _parent(self.data, keys, self.path, dict)[keys[-1]] = value

    def delete(self, keys: KeyPath) -> None:
        parent = _walk_get(self.data, keys[:-1])
        if isinstance(parent, dict):
            parent.pop(keys[-1], None)

    def render(self) -> str:
        out = json.dumps(self.data, indent=self.indent, ensure_ascii=False)
        return out + "\n" if self.newline else out


class TomlDoc:
    """A TOML file as tomlkit keeps it: comments, order and layout survive a change."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            tomllib.loads(text)  # what the tools' own TOML readers accept decides
            self.doc = tomlkit.parse(text)
        except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file first") from None

    def get(self, keys: KeyPath) -> Any:
        value = _walk_get(self.doc, keys)
        return value.unwrap() if hasattr(value, "unwrap") else value

    def set(self, keys: KeyPath, value: Any) -> None:
        _parent(self.doc, keys, self.path, tomlkit.table)[keys[-1]] = _inline(value)

    def delete(self, keys: KeyPath) -> None:
        parent = _walk_get(self.doc, keys[:-1])
        if isinstance(parent, dict) and keys[-1] in parent:
            del parent[keys[-1]]

    def render(self) -> str:
        return tomlkit.dumps(self.doc)


def _inline(value: Any) -> Any:
    """A table value as one inline line (`exporter = { otlp-http = { ... } }`, the form the
    tools document), so a new value never splits the person's file into new sections."""
    if not isinstance(value, dict):
        return value
    table = tomlkit.inline_table()
    table.update({k: _inline(v) for k, v in value.items()})
    return table


def load(path: Path, data: bytes | None) -> SettingsDoc:
    """The file's document by its suffix; `data` None (no file yet) is an empty one."""
    try:
        text = (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; fix the file first") from None
    return TomlDoc(path, text) if path.suffix == ".toml" else JsonDoc(path, text)
