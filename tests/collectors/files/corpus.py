"""Claude-Code-shaped transcripts built from the real samples with fresh ids, and their totals."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLES

CLAUDE = SAMPLES / "claude-code" / "projects" / "-home-dev-src-payments-api"
CODEX = SAMPLES / "codex" / "sessions"
# The true totals from the samples README (input, output, cache_read, cache_write, reasoning);
# Codex under aitally's mapping: input = non-cached input, output = non-reasoning output.
TRUE_TOTALS = {
    ("claude-code", "4bd3503e-e3c4-424d-8bef-a86530d0a17e"): (4343, 536, 33950, 2734, None),
    ("claude-code", "a83accff-5f32-45cb-aafa-15761d1ae4b0"): (11179, 2235, 56089, 4828, None),
    ("codex", "01a2147b-2bb0-7200-9b78-c935eb09f7f5"): (6836 - 27, 209 - 195, 27, 0, 195),
    ("codex", "01a2147b-2d08-73e2-a4eb-4cddc99caad9"): (2180 - 990, 37 - 24, 990, 0, 24),
}
TRUE_TURNS = {
    "4bd3503e-e3c4-424d-8bef-a86530d0a17e": 1,
    "a83accff-5f32-45cb-aafa-15761d1ae4b0": 2,
    "01a2147b-2bb0-7200-9b78-c935eb09f7f5": 1,
    "01a2147b-2d08-73e2-a4eb-4cddc99caad9": 1,
}
CANARY = re.compile(rb"CANARY-[A-Za-z0-9-]+")
# Ids whose last 8 hex digits are replaced per copy: session/line uuids, msg_, req_, toolu_.
_ID = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}|(?:msg|req|toolu)_[0-9a-f]{4,})[0-9a-f]{8}"
)
MARK = "\x00\x00\x00\x00"
SID = "\x01\x01\x01\x01"


def layout(home: Path) -> None:
    """The samples as the real clients lay them out under a home folder."""
    import shutil

    for src, dst in (
        (SAMPLES / "claude-code", home / ".claude"),
        (SAMPLES / "codex", home / ".codex"),
    ):
        for sub in ("projects", "sessions"):
            if (src / sub).is_dir():
                shutil.copytree(src / sub, dst / sub, dirs_exist_ok=True)
    for p in home.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def templates() -> list[tuple[str, str]]:
    """(sample session id, file text: the session id -> SID, other ids' tails -> MARK)."""
    out = []
    for f in sorted(CLAUDE.glob("*.jsonl")):
        text = f.read_text().replace(f.stem, SID)
        out.append((f.stem, _ID.sub(lambda m: m.group(1) + MARK, text)))
    return out


def render(text: str, sid: str, copy: int, repeat: int = 1) -> str:
    """One session file: the sample's lines `repeat` times over, each time with fresh ids."""
    body = text.replace(SID, sid)
    return "".join(body.replace(MARK, f"{copy:04x}{r:04x}") for r in range(repeat))


def session_id(template_sid: str, copy: int) -> str:
    return template_sid[:-8] + f"{copy:08x}"


def write_claude_copies(projects: Path, copies: int, *, repeat: int = 1) -> dict[str, str]:
    """`copies` sessions per sample file, each its own file; returns new id -> sample id."""
    folder = projects / "-home-dev-src-generated"
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for sid, text in templates():
        for i in range(copies):
            new = session_id(sid, i + 1)
            (folder / f"{new}.jsonl").write_text(render(text, new, i + 1, repeat))
            made[new] = sid
    return made


def totals(sessions: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int | None, ...]]:
    """Per (tool, tool session id) token totals summed over segments, from `sessions --json`."""
    out: dict[tuple[str, str], list[int | None]] = {}
    for s in sessions:
        if not s["tool_session_id"] or s["tokens"] is None:
            continue
        acc = out.setdefault((s["tool"], s["tool_session_id"]), [None] * 5)
        for i, k in enumerate(("input", "output", "cache_read", "cache_write", "reasoning")):
            v = s["tokens"][k]
            if v is not None:
                acc[i] = (acc[i] or 0) + v
    return {k: tuple(v) for k, v in out.items()}


def turns(sessions: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in sessions:
        if s["tool_session_id"]:
            out[s["tool_session_id"]] = out.get(s["tool_session_id"], 0) + s["turns"]
    return out


def load(stdout: str) -> list[dict[str, Any]]:
    return list(json.loads(stdout)["sessions"])
