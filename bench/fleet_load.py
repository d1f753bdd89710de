"""A cheap HTTP/1.1 load generator for the ingest service: pre-encoded requests sent on
asyncio streams, open loop (each request at its scheduled time, as a fleet of agents sends
them) or closed loop (clients back to back), over fresh or kept-alive connections.

Its own CPU time is measured (`Outcome.client_cpu_s`), so a run on the same cores as the
server can be accounted for: one request costs it about a tenth of what the server spends.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Shot:
    """One request: when to send it (seconds from the start) and from which device."""

    at: float
    device: int
    request: bytes


@dataclass
class Outcome:
    """What a run measured: per-request latency, statuses, and both sides' cost."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    """connections refused, reset or cut before an answer"""
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    late_s: float = 0.0
    """how far behind its schedule the generator itself fell, at most"""

    def figures(self) -> dict[str, float]:
        """batches/s (2xx), p50/p99 in ms, 5xx and error counts, the generator's CPU."""
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        lat = sorted(self.latencies) or [0.0]
        return {
            "batches_per_s": round(ok / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
            "ok": ok,
            "status_5xx": sum(n for s, n in self.statuses.items() if s >= 500),
            "status_429": self.statuses.get(429, 0),
            "errors": self.errors,
            "client_cpu_ms_per_request": round(
                self.client_cpu_s * 1000 / max(1, len(self.latencies)), 3
            ),
        }


def post_request(
    path: str, token: str, body: bytes, gzipped: bool = True, close: bool = False
) -> bytes:
    """The bytes of one POST with a JSON body (gzip-encoded when gzipped)."""
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if gzipped:
        head.append("Content-Encoding: gzip")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Sends one request and reads its whole answer: (status, connection kept open)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"content-length:")
    length = int(lower[start + 15 : lower.index(b"\r\n", start)]) if start >= 0 else 0
    await reader.readexactly(length)
    return status, b"connection: close" not in lower


class _Connections:
    """One kept-alive connection per device (reused), or none (a fresh one per request)."""

    def __init__(self, host: str, port: int, keep: bool) -> None:
        self.host, self.port, self.keep = host, port, keep
        self._open: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def send(self, device: int, request: bytes) -> int:
        conn = self._open.pop(device, None) if self.keep else None
        if conn is None:
            conn = await asyncio.open_connection(self.host, self.port)
        try:
            status, kept = await exchange(*conn, request)
        except BaseException:
            conn[1].close()
            raise
        if self.keep and kept:
            self._open[device] = conn
        else:
            conn[1].close()
        return status

    def close(self) -> None:
        for _, writer in self._open.values():
            writer.close()
        self._open.clear()


async def _timed(conns: _Connections, shot: Shot, out: Outcome) -> None:
    t = time.perf_counter()
    try:
        status = await conns.send(shot.device, shot.request)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        out.errors += 1
        return
    out.latencies.append(time.perf_counter() - t)
    out.statuses[status] += 1


async def _open_loop(host: str, port: int, shots: list[Shot], keep: bool) -> Outcome:
    out = Outcome()
    conns = _Connections(host, port, keep)
    tasks: set[asyncio.Task[None]] = set()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for shot in sorted(shots, key=lambda s: s.at):
        delay = t0 + shot.at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            out.late_s = max(out.late_s, -delay)
        task = asyncio.create_task(_timed(conns, shot, out))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    out.wall_s = time.perf_counter() - t0
    out.client_cpu_s = time.process_time() - cpu0
    conns.close()
    return out


async def _closed_loop(
    host: str, port: int, requests: list[list[bytes]], seconds: float, keep: bool
) -> Outcome:
    out = Outcome()
    conns = _Connections(host, port, keep)
    cpu0, t0 = time.process_time(), time.perf_counter()
    deadline = t0 + seconds

    async def client(c: int) -> None:
        for request in requests[c]:
            if time.perf_counter() >= deadline:
                return
            await _timed(conns, Shot(0.0, c, request), out)

    await asyncio.gather(*(client(c) for c in range(len(requests))))
    out.wall_s = time.perf_counter() - t0
    out.client_cpu_s = time.process_time() - cpu0
    conns.close()
    return out


def open_loop(host: str, port: int, shots: list[Shot], keep: bool = False) -> Outcome:
    """Sends every shot at its time, whatever the answers (a fleet does not wait)."""
    return asyncio.run(_open_loop(host, port, shots, keep))


def closed_loop(
    host: str, port: int, requests: list[list[bytes]], seconds: float, keep: bool = True
) -> Outcome:
    """len(requests) clients, each sending its own requests once, in turn, back to back, for
    at most `seconds`."""
    return asyncio.run(_closed_loop(host, port, requests, seconds, keep))
