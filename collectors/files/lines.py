"""Reading a tool's data file safely: regular files only, complete lines only, bounded memory."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
# A line longer than this is skipped and counted, never held in memory whole: real transcript
# lines reach a few MB (pasted files, big tool results); 100 MB ones exist (ccusage#873).
MAX_LINE = 16 << 20
# Events of complete_lines(): a line, part of an over-long line skipped, the end of that skip,
# an over-long line skipped whole.
LINE, SKIP, RESUME, TOO_LONG = 0, 1, 2, 3
# Non-blocking, so that a FIFO swapped in after the stat() cannot block the open forever.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_regular(path: Path) -> BinaryIO:
    """Opens a regular file for reading; anything else (a FIFO, a device) raises OSError."""
    fd = os.open(path, OPEN_FLAGS)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def complete_lines(
    fh: BinaryIO, offset: int, skipping: bool, max_line: int = MAX_LINE, chunk: int = CHUNK
) -> Iterator[tuple[int, bytes, int]]:
    """(LINE, line, end) per \\n-terminated line from offset; the unterminated rest waits.

    An over-long line yields TOO_LONG when it lies in one read, else SKIP (with the offset
    reached) until its end, then RESUME; `skipping` continues a skip left unfinished.
    """
    fh.seek(offset)
    pos = offset  # file offset of buf[0]
    buf = b""
    while True:
        data = fh.read(chunk)
        if not data:
            return
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                pos += len(data)
                yield SKIP, b"", pos
                continue
            pos += nl + 1
            data = data[nl + 1 :]
            skipping = False
            yield RESUME, b"", pos
        buf = buf + data if buf else data
        start = 0
        find = buf.find
        while True:
            nl = find(b"\n", start)
            if nl < 0:
                break
            if nl - start > max_line:
                yield TOO_LONG, b"", pos + nl + 1
            else:
                yield LINE, buf[start:nl], pos + nl + 1
            start = nl + 1
        pos += start
        buf = buf[start:]
        if len(buf) > max_line:
            pos += len(buf)
            buf = b""
            skipping = True
            yield SKIP, b"", pos
