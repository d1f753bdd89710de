"""Reading a tool's data file safely: regular files only, complete lines only, bounded memory."""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
# A line longer than this is skipped and counted, never held in memory whole: real transcript
# lines reach a few MB (pasted files, big tool results); 100 MB ones exist (ccusage#873).
MAX_LINE = 16 << 20
# Events of complete_lines(): a line, part of an over-long line skipped, the end of that skip,
# an over-long line skipped whole.
LINE, SKIP, RESUME, TOO_LONG = 0, 1, 2, 3
# Non-blocking, so that a FIFO swapped in after the stat() cannot block the open forever.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_regular(path: Path) -> io.BufferedReader:
    """Opens a regular file for reading; anything else (a FIFO, a device) raises OSError."""
    fd = os.open(path, OPEN_FLAGS)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def complete_lines(
    fh: io.BufferedIOBase, offset: int, skipping: bool, max_line: int = MAX_LINE, chunk: int = CHUNK
) -> Iterator[tuple[int, bytes, int]]:
    """(LINE, line, end) per \\n-terminated line from offset; the unterminated rest waits.

    An over-long line yields TOO_LONG when it lies in one read, else SKIP (with the offset
    reached) until its end, then RESUME; `skipping` continues a skip left unfinished.

    The file is read into one buffer reused from read to read (the unterminated rest moved
    to its front): a fresh 1 MiB object per read cost more in page faults than the reading
    itself (bench/README.md, File collectors).
    """
    size = fh.seek(0, os.SEEK_END)
    fh.seek(offset)
    pos = offset  # file offset of buf[0]
    buf = bytearray(max(1, min(chunk, size - offset + 1)))
    have = 0  # buf[:have] holds data: the unterminated rest of the last read, then new bytes
    find = buf.find
    while True:
        if have == len(buf):  # a line longer than the buffer: room for one more read
            buf.extend(bytes(min(len(buf), chunk)))
        with memoryview(buf) as view, view[have : have + chunk] as free:
            n = fh.readinto(free)
        if not n:
            return
        have += n
        start = 0
        if skipping:  # nothing was kept before this read
            nl = find(b"\n", 0, have)
            if nl < 0:
                pos += have
                have = 0
                yield SKIP, b"", pos
                continue
            start = nl + 1
            skipping = False
            yield RESUME, b"", pos + start
        with memoryview(buf) as view:
            while True:
                nl = find(b"\n", start, have)
                if nl < 0:
                    break
                if nl - start > max_line:
                    yield TOO_LONG, b"", pos + nl + 1
                else:
                    yield LINE, view[start:nl].tobytes(), pos + nl + 1
                start = nl + 1
        pos += start
        rest = have - start
        if rest > max_line:
            pos += rest
            have = 0
            skipping = True
            yield SKIP, b"", pos
        else:
            buf[:rest] = buf[start:have]
            have = rest
