"""One upload pass: prepare the outbox, claim batches within limits, send, acknowledge."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from aitally.core.config import Config
from aitally.core.logs import RateLimited
from aitally.core.store import Store, outbox, uploads
from aitally.uploader import policy, records, retry, rollup
from aitally.uploader.answer import Answer, Outcome

log = logging.getLogger(__name__)


class Sink(Protocol):
    """A receiver of batches: the ingest service or an OTLP endpoint."""

    name: str
    bytes_sent: int
    credential_id: str  # changes when the credential does, which lifts an auth pause

    def send(self, recs: list[records.Record], health: dict[str, Any]) -> Answer:
        """Sends one batch with the agent's health; never raises for network failures."""
        ...


@dataclass
class PassResult:
    """What one upload pass did, for the upload command and the upload thread's next wait."""

    outcome: str  # done | idle | waiting | paused | retry | stopped | off
    detail: str = ""
    acked: int = 0
    duplicate: int = 0
    dead: int = 0
    batches: int = 0
    wait: float = 0.0


@dataclass
class _Sent:
    """What one sink did with a batch: records taken, dead-lettered, or a reason to stop."""

    taken: list[str] = field(default_factory=list)
    dead: dict[str, str] = field(default_factory=dict)
    stop: Answer | None = None
    duplicate: int = 0
    refused: Answer | None = None  # the last whole-request 400/422 that isolated a record


def health(store: Store) -> dict[str, Any]:
    """The agent's own condition, sent with every batch so losses are visible centrally."""
    return {
        "queue_depth": outbox.depth(store.conn),
        "dropped": store.counters("dropped"),
        "parse_errors": store.counters("parse_error"),
        "dead_letter": uploads.dead_letter_count(store.conn),
    }


def derive(cfg: Config, store: Store, now: float) -> None:
    """Ended pauses become records; at level aggregate, completed days roll up."""
    with store.transaction() as conn:
        rollup.enqueue_pauses(conn, now)
        if cfg.get("privacy", "level") == "aggregate":
            rollup.roll_up_days(conn, now)


def select_batch(
    cfg: Config, store: Store, now: float, *, claim: bool = True
) -> list[records.Record]:
    """The next batch within the record and byte limits, claimed in one transaction."""
    max_records = int(cfg.get("upload", "batch_max_records"))
    max_bytes = int(cfg.get("upload", "batch_max_bytes"))
    hl = health(store)
    with store.transaction() as conn:
        pol = policy.load(cfg, conn)
        size = len(records.body([], hl, now))
        chosen: list[records.Record] = []
        gone: list[str] = []
        too_big: dict[str, str] = {}
        # At level aggregate, segments wait in the outbox until their day rolls up.
        hold = "segment" if cfg.get("privacy", "level") == "aggregate" else ""
        for row in outbox.pending(conn, now, max_records + 64, hold=hold):
            rec = records.build(conn, pol, row)
            if rec is None:
                gone.append(row["record_id"])
                continue
            extra = len(records.encode(rec)) + (1 if chosen else 0)
            if size + extra > max_bytes:
                if not chosen and len(records.body([rec], hl, now)) > max_bytes:
                    too_big[rec["record_id"]] = "larger than upload.batch_max_bytes alone"
                    continue
                break
            chosen.append(rec)
            size += extra
            if len(chosen) >= max_records:
                break
        if claim:
            outbox.drop(store, conn, gone, "segment_gone")
            outbox.dead_letter(conn, too_big, now)
            if chosen:
                outbox.claim(conn, [r["record_id"] for r in chosen], now)
    return chosen


class Delivery:
    """Upload passes over one store to a fixed set of sinks, with backoff kept in the store."""

    def __init__(
        self, cfg: Config, store: Store, sinks: list[Sink], rng: random.Random | None = None
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.sinks = sinks
        self.rng = rng or random.Random()
        self.problems = RateLimited(log)

    def run(self, stop: threading.Event | None = None, *, force: bool = False) -> PassResult:
        """Sends what is due; `force` (a person ran `aitally upload`) skips our own backoff."""
        now = time.time()
        state = retry.load(self.store)
        wait = state.remaining(now)
        if wait > 0 and (state.from_server or not force):
            retry.save(self.store, state)
            return PassResult("waiting", state.last_error or "", wait=wait)
        creds = ",".join(s.credential_id for s in self.sinks)
        if state.paused and state.paused.get("credential") == creds and not force:
            return PassResult("paused", f"HTTP {state.paused['status']}: run `aitally enroll`")
        derive(self.cfg, self.store, now)
        result = PassResult("idle")
        state.last_attempt = now
        while not (stop is not None and stop.is_set()):
            recs = select_batch(self.cfg, self.store, time.time())
            if not recs:
                break
            result.batches += 1
            sent = self._send_everywhere(recs)
            result.acked += len(sent.taken)
            result.duplicate += sent.duplicate
            result.dead += len(sent.dead)
            result.outcome = "done"
            if sent.stop is not None:
                self._failed(state, sent.stop)
                result.outcome = "paused" if sent.stop.outcome is Outcome.AUTH else "retry"
                result.detail = sent.stop.detail
                break
        else:
            result.outcome = "stopped"
        if result.outcome in ("done", "idle"):
            state.succeeded(time.time())
        state.last_batch = {"at": now, "acked": result.acked, "dead": result.dead}
        retry.save(self.store, state)
        return result

    def _failed(self, state: retry.State, ans: Answer) -> None:
        """Pauses on an auth refusal; otherwise schedules the next try after a backoff."""
        now = time.time()
        if ans.outcome is Outcome.AUTH:
            creds = ",".join(s.credential_id for s in self.sinks)
            state.paused = {"status": ans.status, "at": now, "credential": creds}
            state.last_error = ans.detail
            self.problems.warning("auth", "uploads paused: the server answered %s", ans.status)
            return
        up = self.cfg.section("upload")
        delay = retry.backoff(state.failures, up["backoff_base"], up["backoff_max"], self.rng)
        server = ans.retry_after is not None and ans.retry_after >= delay
        if ans.retry_after is not None:
            delay = max(delay, min(ans.retry_after, up["retry_after_max"]))
        state.failed(now, ans.detail, delay, from_server=server)
        self.problems.warning("retry", "upload failed: %s; next try in %.0fs", ans.detail, delay)

    def _send_everywhere(self, recs: list[records.Record]) -> _Sent:
        """Every sink gets the batch; a record leaves the outbox once all of them hold it."""
        total = _Sent(taken=[r["record_id"] for r in recs])
        entries: list[tuple[str, int, str, str]] = []
        remaining = recs
        for n, sink in enumerate(self.sinks, 1):
            sent = self._deliver(sink, remaining, entries)
            if sent.refused is not None and len(remaining) > 1 and not sent.taken:
                # Every record of a batch refused one by one is not a batch of poison: it is
                # a server or proxy refusing everything. Keep them all and back off.
                sent = _Sent(
                    stop=Answer(
                        Outcome.RETRY,
                        sent.refused.status,
                        f"every record refused: {sent.refused.detail}",
                    )
                )
            total.dead.update(sent.dead)
            total.duplicate += sent.duplicate
            keep = set(sent.taken)
            total.taken = [rid for rid in total.taken if rid in keep]
            remaining = [r for r in remaining if r["record_id"] in keep]
            if sent.stop is not None:
                total.stop = sent.stop
                if n < len(self.sinks):
                    total.taken = []  # later sinks do not hold them yet: all go again
                break
        claimed = [r["record_id"] for r in recs]
        now = time.time()
        with self.store.transaction() as conn:
            if total.taken:
                outbox.ack(conn, total.taken)
            outbox.dead_letter(conn, total.dead, now)
            if total.dead:
                self.store.count("dead_letter", "rejected", len(total.dead), conn)
            outbox.release(conn, [rid for rid in claimed if rid not in set(total.taken)])
            uploads.log_requests(conn, now, entries)
        return total

    def _deliver(
        self, sink: Sink, recs: list[records.Record], entries: list[tuple[str, int, str, str]]
    ) -> _Sent:
        """Sends to one sink, halving on 413/400/422 to isolate the record it refuses."""
        ans = sink.send(recs, health(self.store))
        bid = records.batch_id(recs)
        status = f"{sink.name} {ans.status or '-'} {ans.outcome.value}"
        entries.append((bid, len(recs), status, ans.detail[:300]))
        log.info("upload %s: %d records -> %s (%s)", bid, len(recs), status, ans.detail)
        if ans.outcome is Outcome.OK:
            dead = {
                recs[i]["record_id"]: f"rejected: {why}"
                for i, why in ans.rejected.items()
                if 0 <= i < len(recs)
            }
            taken = [r["record_id"] for r in recs if r["record_id"] not in dead]
            return _Sent(taken=taken, dead=dead, duplicate=ans.duplicate)
        if ans.outcome in (Outcome.SPLIT, Outcome.REJECT):
            if len(recs) == 1:
                return _Sent(dead={recs[0]["record_id"]: ans.detail}, refused=ans)
            half = len(recs) // 2
            first = self._deliver(sink, recs[:half], entries)
            if first.stop is not None:
                return first
            second = self._deliver(sink, recs[half:], entries)
            second.taken = first.taken + second.taken
            second.dead.update(first.dead)
            second.duplicate += first.duplicate
            second.refused = second.refused or first.refused
            return second
        return _Sent(stop=ans)
