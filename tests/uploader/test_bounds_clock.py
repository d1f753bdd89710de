"""A month offline keeps the store bound, drops counted exactly; clock jumps never stall or spin."""

from __future__ import annotations

import random

from aitally.core.config_schema import MiB
from aitally.core.observation import Activity, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.uploader import bounds, retry
from tests.uploader.helpers import open_store

DAY = 86400.0


def test_a_month_offline_stays_under_the_bound_and_counts_every_drop():
    store = open_store()
    sz = Sessionizer(store, idle_timeout=60)
    start = 1_800_000_000.0
    enqueued: set[str] = set()
    n = 0
    for day in range(30):
        for hour in range(24):
            t0 = start + day * DAY + hour * 3600
            obs: list[Activity | Usage] = []
            for i in range(12):
                key = f"s{n}"
                n += 1
                obs.append(Activity("codex", key, t0 + i, kind="prompt"))
                obs.append(Usage("codex", key, t0 + i + 1, "gpt-x", Tokens(1, 2, 3, 4, 5)))
            sz.apply(obs, now=t0)
            sz.close_idle(t0 + 3000)
            enqueued.update(r[0] for r in store.conn.execute("SELECT record_id FROM outbox"))
        bounds.enforce(store, start + (day + 1) * DAY, max_bytes=MiB, max_age_days=20)
        assert store.size_bytes() <= MiB
    remaining = {r[0] for r in store.conn.execute("SELECT record_id FROM outbox")}
    dropped = store.counters("dropped")
    assert sum(dropped.values()) == len(enqueued - remaining) > 0
    assert set(dropped) <= {"age", "size"}
    # The oldest went first: what remains is the newest.
    newest = store.conn.execute("SELECT MAX(ended_at) FROM segments").fetchone()[0]
    assert newest >= start + 29 * DAY


def test_age_bound_drops_only_old_records_and_counts_them():
    store = open_store()
    sz = Sessionizer(store, idle_timeout=60)
    for i, t in enumerate((1_000.0, 1_000_000.0)):
        sz.apply([Activity("codex", f"k{i}", t, kind="prompt")])
    sz.close_idle(2_000_000.0)
    dropped = bounds.enforce(store, 1_000_000.0 + 5 * DAY, max_bytes=256 * MiB, max_age_days=7)
    assert dropped == {"age": 1, "size": 0}
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 1


def test_age_bound_also_forgets_old_dedup_keys():
    store = open_store()
    sz = Sessionizer(store, idle_timeout=60)
    for i, t in enumerate((1_000.0, 1_000_000.0)):
        sz.apply([Usage("codex", "k", t, "m", Tokens(1, 1), dedup_key=f"r{i}")])
    bounds.enforce(store, 1_000_000.0 + 5 * DAY, max_bytes=256 * MiB, max_age_days=7)
    keys = [r[0] for r in store.conn.execute("SELECT dedup_key FROM usage_seen")]
    assert keys == ["r1"]


def test_a_resumed_session_after_pruning_gets_new_record_ids():
    # Pruning deletes a whole old session; when the tool resumes that session id later its
    # segment indexes restart at 0, yet the new record must not reuse a delivered id.
    store = open_store()
    sz = Sessionizer(store, idle_timeout=60)
    sz.apply([Activity("claude-code", "same-id", 1_000.0, kind="prompt")], now=10_000.0)
    first = store.conn.execute("SELECT record_id FROM outbox").fetchone()[0]
    bounds.enforce(store, 1_000.0 + 30 * DAY, max_bytes=256 * MiB, max_age_days=7)
    sz.apply([Activity("claude-code", "same-id", 40 * DAY, kind="prompt")], now=41 * DAY)
    ids = [r[0] for r in store.conn.execute("SELECT record_id FROM outbox")]
    assert len(ids) == 1 and ids[0] != first


def test_clock_moving_back_never_stretches_the_wait():
    state = retry.State()
    now = 2_000_000_000.0
    state.failed(now, "HTTP 503", 30.0)
    assert state.remaining(now + 10) == 20.0
    # The wall clock jumps back a day: the wait stays bounded by the chosen delay...
    back = now - DAY
    assert state.remaining(back) == 30.0
    # ...and then runs down from there instead of waiting out the day.
    assert state.remaining(back + 29) == 1.0
    assert state.remaining(back + 31) == 0.0


def test_clock_jumping_forward_retries_at_once_and_failures_still_back_off():
    rng = random.Random(1)
    state = retry.State()
    now = 2_000_000_000.0
    delays = []
    for _ in range(12):
        delay = retry.backoff(state.failures, 5.0, 900.0, rng)
        state.failed(now, "timeout", delay)
        delays.append(delay)
        now += DAY  # forward jump: due immediately, never negative
        assert state.remaining(now) == 0.0
    assert all(0.5 <= d <= 900.0 for d in delays)
    assert max(delays[6:]) > 60  # the backoff grows: no spinning against a dead server


def test_retry_after_parsing():
    assert retry.parse_retry_after("120", 0.0) == 120.0
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0) == 0.0
    assert retry.parse_retry_after("soon", 0.0) is None
    assert retry.parse_retry_after(None, 0.0) is None
