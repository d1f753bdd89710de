"""Sets one key in a TOML settings file (the user file, or a managed.toml that install writes)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from aitally.core.errors import ConfigError
from aitally.installer.service import write_file

MARK = "# written by `aitally install`; `aitally uninstall --purge` removes it\n"


def set_value(path: Path, section: str, key: str, value: Any, *, mode: int = 0o600) -> None:
    """Sets the key and rewrites the file, keeping the person's comments, order and layout
    (tomlkit round-trips a document; only the one value changes)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        tomllib.loads(text)  # the reader the agent uses decides what is valid
        doc = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file first") from None
    if section not in doc:
        doc.add(section, tomlkit.table())
    table = doc[section]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] is not a table; fix the file first")
    table[key] = value
    head = MARK if not text else ""
    write_file(path, head + tomlkit.dumps(doc), mode)


def written_by_install(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(MARK)
    except OSError:
        return False
