"""git-ai authorship notes (`refs/notes/ai`, the Git AI Standard's authorship log, schema
`authorship/3.x`): how many of a commit's lines the note attributes to AI sessions.

A note is an attestation section, a line `---`, then JSON metadata. The attestation section
has a file path at the start of a line, then per author a line indented by two spaces: an
attestation key and line ranges (`1-4,9,12-20`). Keys `s_<14 hex>::t_<14 hex>` (an AI
session) and bare 16 hex characters (an AI session of notes before git-ai 1.4) are AI; `h_...`
is a known human. Only the indented lines are parsed, in memory: the paths and the metadata
(prompts, people) are skipped, and only the count comes out (docs/clients/git.md).
"""

from __future__ import annotations

import re

DIVIDER = "---"
AI_KEY = re.compile(r"s_[0-9a-f]{14}::t_[0-9a-f]{14}|[0-9a-f]{16}|[0-9a-f]{7}")
RANGE = re.compile(r"(\d{1,9})(?:-(\d{1,9}))?")


def ai_lines(note: str) -> int:
    """Lines of the commit that the note's attestation section attributes to AI sessions
    (0 for a note that is not a git-ai authorship log)."""
    total = 0
    for line in note.splitlines():
        if line == DIVIDER:
            break
        if not line.startswith("  "):
            continue  # a file path: not looked at
        parts = line[2:].split(" ")
        if len(parts) == 2 and AI_KEY.fullmatch(parts[0]):
            total += _range_lines(parts[1])
    return total


def _range_lines(ranges: str) -> int:
    """How many lines `1-4,9,12-20` covers; a malformed part counts nothing."""
    n = 0
    for part in ranges.split(","):
        found = RANGE.fullmatch(part)
        if found is None:
            continue
        start = int(found.group(1))
        end = int(found.group(2) or start)
        if 1 <= start <= end:
            n += end - start + 1
    return n
