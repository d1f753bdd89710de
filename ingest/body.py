"""Reads a request body within caps: on the wire, and after streamed, bounded gunzip."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from aitally.core.wire import MAX_BODY_BYTES, MAX_WIRE_BYTES


class BodyError(Exception):
    """The body cannot be taken; `status` is 413 (too large) or 415 (unknown encoding)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_headers(content_length: str | None, content_encoding: str | None) -> bool:
    """Rejects before reading anything; returns whether the body is gzip."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise BodyError(415, f"Content-Encoding {encoding[:32]!r} is not supported; use gzip")
    if content_length is not None:
        try:
            length = int(content_length)
        except ValueError:
            length = MAX_WIRE_BYTES + 1
        if length > MAX_WIRE_BYTES:
            raise BodyError(413, f"body over {MAX_WIRE_BYTES} bytes; send smaller batches")
    return encoding != "identity"


async def read_capped(chunks: AsyncIterator[bytes]) -> bytes:
    """The raw body; stops reading at the wire cap (chunked bodies carry no length)."""
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > MAX_WIRE_BYTES:
            raise BodyError(413, f"body over {MAX_WIRE_BYTES} bytes; send smaller batches")
        parts.append(chunk)
    return b"".join(parts)


def gunzip_capped(data: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Decompresses at most limit bytes; a bomb stops at limit+1, never inflating further."""
    # 16 + MAX_WBITS: gzip header and trailer; max_length bounds every step's output.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    produced = 0
    pending = data
    try:
        while pending and not inflater.eof:
            piece = inflater.decompress(pending, limit + 1 - produced)
            produced += len(piece)
            out.append(piece)
            if produced > limit:
                raise BodyError(413, f"body over {limit} bytes after decompression")
            pending = inflater.unconsumed_tail
            if not piece and pending:
                break  # no progress: corrupt input, reported below
        if not inflater.eof:
            raise zlib.error("truncated gzip stream")
    except zlib.error as exc:
        raise BodyError(400, f"body is not valid gzip: {exc}") from None
    return b"".join(out)
