"""Complete lines only, over-long lines skipped in pieces: the line splitter on its own."""

from __future__ import annotations

import io

from aitally.collectors.files.lines import LINE, RESUME, SKIP, complete_lines


def test_complete_lines_waits_for_the_end_of_a_line() -> None:
    fh = io.BytesIO(b"a\nbb\ncc")
    assert list(complete_lines(fh, 0, False)) == [(LINE, b"a", 2), (LINE, b"bb", 5)]
    assert list(complete_lines(fh, 5, False)) == []


def test_an_overlong_line_is_skipped_in_pieces_never_held_whole() -> None:
    data = b"x" * 50 + b"\n" + b"y" * 10 + b"\nok\n"
    events = list(complete_lines(io.BytesIO(data), 0, False, max_line=20, chunk=8))
    assert (LINE, b"y" * 10, 62) in events and (LINE, b"ok", 65) in events
    assert events[0][0] == SKIP and any(e[0] == RESUME for e in events)
    # A skip interrupted by the end of the file continues on the next pass.
    assert list(complete_lines(io.BytesIO(b"zzzz\nok\n"), 0, True)) == [
        (RESUME, b"", 5),
        (LINE, b"ok", 8),
    ]
