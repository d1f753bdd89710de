"""OTLP/HTTP request bodies (JSON or protobuf, optionally gzip) to the OTLP/JSON shape.

Both encodings end as the same nested dicts (the protobuf is converted with the camelCase
field names of OTLP/JSON), so the allowlist (collectors/otlp/allowlist.py) reads one shape.
Nothing here keeps a value: the result lives for one request.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Final

JSON_TYPES: Final = ("application/json",)
PROTOBUF_TYPES: Final = ("application/x-protobuf", "application/protobuf")
# The top-level list of each signal's export request (OTLP/JSON field names).
ROOTS: Final = {"logs": "resourceLogs", "metrics": "resourceMetrics", "traces": "resourceSpans"}


class Malformed(ValueError):
    """The body is not a valid export request of its signal (answered 400, counted)."""


class TooLarge(ValueError):
    """The body, once decompressed, exceeds the bound (answered 413, counted)."""


class Unsupported(ValueError):
    """A content type or encoding the receiver does not read (answered 415, counted)."""


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompresses a gzip body, refusing to inflate past `limit` bytes (a zip bomb)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise Malformed("bad gzip") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge("gzip body inflates past the bound")
    return out


def _protobuf(signal: str, body: bytes) -> dict[str, Any]:
    try:
        from google.protobuf import json_format
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    except ImportError:  # an install without the protobuf packages reads JSON only
        raise Unsupported("protobuf support is not installed") from None
    kinds: dict[str, Any] = {
        "logs": logs_service_pb2.ExportLogsServiceRequest,
        "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
        "traces": trace_service_pb2.ExportTraceServiceRequest,
    }
    request = kinds[signal]()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError):
        raise Malformed("bad protobuf") from None
    out: dict[str, Any] = json_format.MessageToDict(request)
    return out


def decode(signal: str, body: bytes, content_type: str) -> dict[str, Any]:
    """The export request of `signal` as OTLP/JSON-shaped dicts; raises the errors above."""
    media = content_type.split(";")[0].strip().lower()
    if media in PROTOBUF_TYPES:
        data: Any = _protobuf(signal, body)
    elif media in JSON_TYPES:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise Malformed("bad JSON") from None
    else:
        raise Unsupported(f"content type {media!r}")
    if not isinstance(data, dict):
        raise Malformed("not an object")
    root = data.get(ROOTS[signal], [])
    if not isinstance(root, list):
        raise Malformed(f"{ROOTS[signal]} is not a list")
    return data
