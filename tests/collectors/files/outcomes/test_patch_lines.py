"""Lines added and removed, from the first character of each patch line only."""

from __future__ import annotations

from aitally.collectors.files.outcomes.patch_lines import hunk_lines, text_lines, unified_diff


def test_hunk_lines_count_plus_and_minus_and_skip_context_and_junk() -> None:
    lines = [" ctx", "-old", "+new", "+new2", "\\ No newline at end of file", "", None, 7, "-"]
    assert hunk_lines(lines) == (2, 2)


def test_unified_diff_skips_file_headers_but_not_lines_that_look_like_them() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n--- was a rule\n+++ now a rule\n ctx\n-gone\n"
    # Inside the hunk `--- was a rule` is the removed line `-- was a rule`.
    assert unified_diff(diff) == (1, 2)
    assert unified_diff("@@ -1 +1 @@\n-a\n+b") == (1, 1)
    assert unified_diff("") == (0, 0)


def test_text_lines_counts_a_last_line_without_newline() -> None:
    assert (text_lines(""), text_lines("a"), text_lines("a\n"), text_lines("a\nb")) == (0, 1, 1, 2)
