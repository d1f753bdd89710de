"""Sets one key in a TOML settings file (the user file, or a managed.toml that install writes)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from aitally.core.errors import ConfigError
from aitally.installer import toml_out
from aitally.installer.service import write_file

MARK = "# written by `aitally install`; `aitally uninstall --purge` removes it\n"


def set_value(path: Path, section: str, key: str, value: Any, *, mode: int = 0o600) -> None:
    """Rewrites the file with the key set. Comments are not kept (tomllib cannot keep them),
    which is why install only ever edits the one key it was asked to set."""
    doc: dict[str, Any] = {}
    text = ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file first") from None
    table = doc.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] is not a table; fix the file first")
    table[key] = value
    head = MARK if (not text or text.startswith(MARK)) else ""
    write_file(path, head + toml_out.dumps(doc), mode)


def written_by_install(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(MARK)
    except OSError:
        return False
