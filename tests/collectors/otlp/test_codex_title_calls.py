"""Codex TUI's thread-title calls through the real receiver and store: each counted once, in
the thread whose turn started last before it (two TUIs open at once), or nowhere and counted
as unattributed; a thread's own calls never again; the turn starts survive a restart.

The events carry the attributes of the recorded Codex 0.171.0 export
(tests/fixtures/otlp/codex/0.171.0/interactive); the threads' rollouts are real files in a
Codex home, found on disk as the agent finds them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aitally.collectors.otlp import receiver as rx
from aitally.collectors.otlp.codex_title_calls import WINDOW
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.otlp.helpers import (
    THREAD_A,
    THREAD_B,
    TITLE,
    TITLE_TOKENS,
    codex_call,
    codex_logs,
    codex_prompt,
    port_of,
    post,
    token_of,
)


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    """A Codex home whose rollouts are threads A and B (not the title conversation)."""
    home = tmp_path / "codex-home"
    day = home / "sessions" / "2026" / "12" / "02"
    day.mkdir(parents=True)
    for thread in (THREAD_A, THREAD_B):
        (day / f"rollout-2026-12-02T20-38-21-{thread}.jsonl").write_text("{}\n")
    return home


def _start(data: Path, home: Path) -> rx.OtlpCollector:
    store = Store(data / "aitally.db")
    collector = rx.OtlpCollector(store, Sessionizer(store), 0, data, [home])
    collector.start()
    return collector


@pytest.fixture
def codex_receiver(isolated_env: Path, codex_home: Path) -> Iterator[rx.OtlpCollector]:
    collector = _start(isolated_env, codex_home)
    yield collector
    collector.stop()


def send(collector: rx.OtlpCollector, *records: dict[str, Any]) -> None:
    status = post(
        port_of(collector), "/codex/v1/logs", codex_logs(*records), token=token_of(collector)
    )
    assert status[0] == 200


def by_thread(data: Path) -> dict[str, tuple[int, int, int, int]]:
    """Per Codex session: fresh input, output, cache read, reasoning."""
    store = Store(data / "aitally.db")
    try:
        rows = store.conn.execute(
            "SELECT s.session_key, SUM(g.tok_input), SUM(g.tok_output), SUM(g.tok_cache_read), "
            "SUM(g.tok_reasoning) FROM sessions s JOIN segments g ON g.session_id = s.id "
            "WHERE s.tool = 'codex' GROUP BY s.session_key"
        ).fetchall()
        return {r[0]: tuple(r[1:]) for r in rows}
    finally:
        store.close()


def dropped(data: Path) -> dict[str, int]:
    store = Store(data / "aitally.db")
    try:
        return store.counters("otlp_dropped")
    finally:
        store.close()


def test_the_title_call_counts_once_in_its_thread_never_as_a_session(
    codex_receiver: rx.OtlpCollector, isolated_env: Path
) -> None:
    t = time.time() - 10
    # As recorded: the thread's prompt, its call, the title conversation's prompt and call.
    thread_call = {"input": 32138, "cached": 28328, "output": 376, "reasoning": 31}
    send(codex_receiver, codex_prompt(THREAD_A, t))
    batch = (
        codex_call(THREAD_A, t + 0.25, thread_call),
        codex_prompt(TITLE, t + 0.28),
        codex_call(TITLE, t + 0.6),
    )
    send(codex_receiver, *batch)
    send(codex_receiver, *batch)  # the exporter sends a batch again: nothing twice
    assert by_thread(isolated_env) == {THREAD_A: TITLE_TOKENS}  # its own call is the rollout's
    assert dropped(isolated_env)["in_transcript"] == 2


@pytest.mark.parametrize(("title_start", "thread"), [(0.3, THREAD_A), (0.7, THREAD_B)])
def test_two_tuis_the_thread_whose_turn_started_last_before_the_title_takes_it(
    codex_receiver: rx.OtlpCollector, isolated_env: Path, title_start: float, thread: str
) -> None:
    t = time.time() - 10
    send(codex_receiver, codex_prompt(THREAD_A, t), codex_prompt(THREAD_B, t + 0.5))
    send(codex_receiver, codex_prompt(TITLE, t + title_start), codex_call(TITLE, t + 1.0))
    assert by_thread(isolated_env) == {thread: TITLE_TOKENS}


def test_a_title_call_with_no_thread_before_it_is_counted_as_unattributed(
    codex_receiver: rx.OtlpCollector, isolated_env: Path
) -> None:
    t = time.time() - 2 * WINDOW
    send(codex_receiver, codex_prompt(THREAD_A, t))  # too long before the title conversation
    send(codex_receiver, codex_prompt(TITLE, t + WINDOW + 5), codex_call(TITLE, t + WINDOW + 6))
    other = str(uuid.uuid4())  # and a conversation no rollout and no prompt speak for
    send(codex_receiver, codex_call(other, t + WINDOW + 7))
    assert by_thread(isolated_env) == {}
    assert dropped(isolated_env)["unattributed"] == 2


def test_a_conversation_of_several_turns_without_rollout_is_not_a_title_call(
    codex_receiver: rx.OtlpCollector, isolated_env: Path
) -> None:
    """A thread whose rollout the agent cannot see (a Codex home it does not read) is never
    poured into a thread it can."""
    t = time.time() - 10
    unseen = str(uuid.uuid4())
    send(
        codex_receiver,
        codex_prompt(THREAD_A, t),
        codex_prompt(unseen, t + 1),
        codex_prompt(unseen, t + 3),
    )
    send(codex_receiver, codex_call(unseen, t + 4))
    assert by_thread(isolated_env) == {}
    assert dropped(isolated_env)["unattributed"] == 1


def test_turn_starts_survive_a_restart_of_the_receiver(
    isolated_env: Path, codex_home: Path
) -> None:
    t = time.time() - 10
    first = _start(isolated_env, codex_home)
    send(first, codex_prompt(THREAD_A, t))
    first.stop()
    second = _start(isolated_env, codex_home)
    try:
        send(second, codex_prompt(TITLE, t + 0.3), codex_call(TITLE, t + 0.6))
    finally:
        second.stop()
    assert by_thread(isolated_env) == {THREAD_A: TITLE_TOKENS}


@pytest.mark.parametrize(
    ("conversation", "originator", "reason"),
    [
        ("*", "codex-tui", "no_session"),  # never a glob pattern on disk
        ("../../x", "codex-tui", "no_session"),
        (TITLE, "codex_exec", "in_transcript"),  # exec records every call in its rollout
    ],
)
def test_only_tui_calls_of_uuid_conversations_are_considered(
    codex_receiver: rx.OtlpCollector,
    isolated_env: Path,
    conversation: str,
    originator: str,
    reason: str,
) -> None:
    t = time.time() - 10
    record = codex_call(conversation, t + 0.6, originator=originator)
    send(codex_receiver, codex_prompt(THREAD_A, t), record)
    assert by_thread(isolated_env) == {}
    assert dropped(isolated_env)[reason] == 1


def test_a_thread_whose_id_is_not_a_uuid7_is_found_in_any_day_folder(
    codex_receiver: rx.OtlpCollector, isolated_env: Path, codex_home: Path
) -> None:
    """Codex's ids are UUIDv7 (their rollout is looked for on the day they were made); any
    other id is looked for in every day's folder."""
    t = time.time() - 10
    thread = str(uuid.uuid4())
    day = codex_home / "sessions" / "2024" / "01" / "31"
    day.mkdir(parents=True)
    (day / f"rollout-2024-01-31T09-00-00-{thread}.jsonl").write_text("{}\n")
    send(
        codex_receiver,
        codex_prompt(thread, t),
        codex_prompt(TITLE, t + 0.3),
        codex_call(TITLE, t + 0.6),
    )
    assert by_thread(isolated_env) == {thread: TITLE_TOKENS}


def test_a_uuid7_thread_is_looked_for_on_its_own_day_only(
    codex_receiver: rx.OtlpCollector, isolated_env: Path, codex_home: Path
) -> None:
    """Thread A's id says 2026-12-02: a copy of its rollout filed on another day is not what
    makes it a thread (the search looks where Codex files it)."""
    t = time.time() - 10
    moved = codex_home / "sessions" / "2024" / "01" / "31"
    moved.mkdir(parents=True)
    for rollout in (codex_home / "sessions" / "2026" / "12" / "02").iterdir():
        rollout.rename(moved / rollout.name)
    send(
        codex_receiver,
        codex_prompt(THREAD_A, t),
        codex_prompt(TITLE, t + 0.3),
        codex_call(TITLE, t + 0.6),
    )
    assert by_thread(isolated_env) == {}
    assert dropped(isolated_env)["unattributed"] == 1
