"""Copies what a client wrote into a fixture folder, scratch paths rewritten to /home/dev.

Only paths change: the scratch HOME becomes `/home/dev`, in text and in file names, in both its
plain form and the form Claude Code uses for project folder names (every character that is not a
letter or digit replaced by `-`). Everything else is kept byte for byte.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

FIXTURE_HOME = "/home/dev"


def encoded(path: str) -> str:
    """A path as Claude Code names its project folders: `/home/dev/.x` -> `-home-dev--x`."""
    return re.sub(r"[^A-Za-z0-9]", "-", path)


class Rewriter:
    """Replaces scratch paths by their fixture names, longest first."""

    def __init__(self, home: Path, extra: dict[str, str] | None = None) -> None:
        pairs = {str(home): FIXTURE_HOME, encoded(str(home)): encoded(FIXTURE_HOME)}
        pairs.update(extra or {})
        self.pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    def text(self, text: str) -> str:
        """`text` with every scratch path replaced."""
        for old, new in self.pairs:
            text = text.replace(old, new)
        return text

    def copy(self, home: Path, globs: tuple[str, ...], dest: Path) -> list[Path]:
        """Copies the files under `home` matching `globs` to `dest/home/...`, rewritten; returns
        the written paths. Text files are rewritten; anything else is copied unchanged."""
        written: list[Path] = []
        for pattern in globs:
            for src in sorted(home.glob(pattern)):
                if not src.is_file():
                    continue
                target = dest / "home" / self.text(str(src.relative_to(home)))
                if target in written:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    target.write_text(self.text(src.read_text()))
                except UnicodeDecodeError:
                    shutil.copyfile(src, target)
                written.append(target)
        return written
