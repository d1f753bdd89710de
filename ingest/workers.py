"""Listening sockets and worker processes for `aitally-ingest serve --workers N`.

Each worker is a whole service (its own event loop, database pool, rate limiters and metrics
values) on a listening socket of its own bound to the same port with SO_REUSEPORT, so the
kernel spreads new connections evenly over the workers (README.md, "Several workers and replicas").
Where SO_REUSEPORT does not exist the workers share one socket instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from aitally.ingest.metrics import MULTIPROCESS_DIR

log = logging.getLogger("aitally.ingest")
BACKLOG = 2048


class ListenError(OSError):
    """The address cannot be listened on; str() names it."""


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A bound TCP socket whose accepted connections send small answers at once.

    The protocol number is given explicitly: asyncio turns TCP_NODELAY on for a connection only
    when its socket says IPPROTO_TCP, and `socket.socket(AF_INET)` says 0. Without it, a
    kept-alive client waits about 40 ms per request (Nagle's algorithm holding the answer's
    last segment until the client's delayed ACK).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Linux hands the listening socket's TCP_NODELAY on to accepted ones, whatever the loop.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Listening before the port is announced: early connections wait in the backlog.
    sock.listen(BACKLOG)
    return sock


def listen(host: str, port: int, workers: int) -> list[socket.socket]:
    """One socket per worker on the same port (port 0: the first one's), or one shared socket
    where SO_REUSEPORT is missing; one socket for one worker."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        return [listening_socket(host, port)]
    first = listening_socket(host, port, reuse_port=True)
    chosen = first.getsockname()[1]
    return [first, *(listening_socket(host, chosen, reuse_port=True) for _ in range(workers - 1))]


def supervise(
    sockets: list[socket.socket], workers: int, target: Callable[..., None], args: Any
) -> int:
    """Runs `target(args, sock, index)` in `workers` processes (worker i on sockets[i], or the
    one shared socket); returns when all have ended: 0 after SIGTERM or SIGINT, 1 when a
    worker ended by itself (the others are stopped; a service manager restarts the whole)."""
    # spawn, not fork: the parent has opened (and closed) a database pool with threads.
    ctx = multiprocessing.get_context("spawn")
    # The workers' metric values, summed by whichever worker a scrape reaches (ingest/metrics.py);
    # a fresh directory, so no value of an earlier run is counted.
    shared = tempfile.mkdtemp(prefix="aitally-ingest-metrics-")
    os.environ[MULTIPROCESS_DIR] = shared
    procs = [
        ctx.Process(
            target=target,
            args=(args, sockets[i % len(sockets)], i),
            name=f"aitally-ingest-worker-{i}",
            daemon=False,
        )
        for i in range(workers)
    ]
    asked = crashed = False

    def signal_all(signum: int) -> None:
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signum)

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal asked
        asked = True
        signal_all(signum)

    # Before the workers start: a SIGTERM meanwhile still reaches every one of them.
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    for proc in procs:
        proc.start()
    for sock in sockets:
        sock.close()  # the workers hold their own copies
    if asked:
        signal_all(signal.SIGTERM)
    try:
        while any(p.is_alive() for p in procs):
            ended = [p for p in procs if not p.is_alive()]
            if ended and not asked and not crashed:
                crashed = True
                log.error(
                    "worker %s ended (exit code %s); stopping the others",
                    ended[0].name,
                    ended[0].exitcode,
                    extra={"event": "worker_exit", "reason": str(ended[0].exitcode)},
                )
                signal_all(signal.SIGTERM)
            time.sleep(0.2)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        shutil.rmtree(shared, ignore_errors=True)
        del os.environ[MULTIPROCESS_DIR]
    return 0 if asked and not crashed else 1
