"""git-ai authorship notes: lines attributed to AI sessions (session and legacy keys), not to
known humans; paths and metadata skipped; malformed lines count nothing."""

from __future__ import annotations

from aitally.collectors.git.ai_notes import ai_lines

# The Git AI Standard v3.0.0's mixed-format example, shape for shape.
MIXED = """src/main.rs
  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10
  h_31dce776f88375 15-20
src/lib.rs
  abcd1234abcd1234 1-50
---
{
  "schema_version": "authorship/3.0.0",
  "prompts": {"abcd1234abcd1234": {"accepted_lines": 50}},
  "humans": {"h_31dce776f88375": {"author": "Developer <dev@example.com>"}}
}
"""


def test_ai_session_and_legacy_keys_count_known_humans_do_not() -> None:
    assert ai_lines(MIXED) == 10 + 50


def test_ranges_singles_and_lists() -> None:
    note = '"src/my file.rs"\n  s_00000000000000::t_11111111111111 1-4,9-10,12,14,16\n---\n{}'
    assert ai_lines(note) == 4 + 2 + 1 + 1 + 1


def test_the_metadata_section_is_never_parsed() -> None:
    note = "a.rs\n  0123456789abcdef 1\n---\n  0123456789abcdef 1-1000\n"
    assert ai_lines(note) == 1


def test_malformed_lines_and_other_notes_count_nothing() -> None:
    assert ai_lines("") == 0
    assert ai_lines("reviewed by the team\n") == 0
    assert ai_lines("a.rs\n  s_0::t_1 1-3\n  0123456789abcdef 5-2,x,-1,\n  zz 1-9\n") == 0
    assert ai_lines("a.rs\n  0123456789abcdef 1-3 extra\n") == 0
