"""The tailing engine on real files and the real store: lines, positions, identity changes."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path, PurePosixPath

import pytest

from aitally.agent import reports
from aitally.collectors.files.adapters.claude_code import ClaudeCode
from aitally.collectors.files.lines import open_regular
from aitally.collectors.files.readers import BATCH_LINES
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store

T = "2026-11-25T10:00:{:02d}.000Z"


def reply(i: int, out: int = 10) -> str:
    msg = {"id": f"msg_{i}", "model": "m", "usage": {"input_tokens": 1, "output_tokens": out}}
    obj = {"type": "assistant", "timestamp": T.format(i % 60), "sessionId": "S", "message": msg}
    obj["requestId"] = f"req_{i}"
    return json.dumps(obj) + "\n"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "s.db")


def run(store: Store, path: Path, tailer: Tailer | None = None) -> Tailer:
    tailer = tailer or Tailer(Sessionizer(store), store)
    tailer.process(path, PurePosixPath("projects", "p", path.name), ClaudeCode())
    return tailer


def output(store: Store) -> int:
    return sum((s["tokens"] or {}).get("output") or 0 for s in reports.sessions(store.conn))


def test_positions_survive_a_restart_and_nothing_counts_twice(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "S.jsonl"
    f.write_text(reply(1) + reply(2) + reply(3)[:30])
    run(store, f)
    assert output(store) == 20
    run(store, f)  # a new Tailer reads its positions from the store
    assert output(store) == 20
    with f.open("a") as fh:
        fh.write(reply(3)[30:])
    run(store, f)
    assert output(store) == 30


def test_truncation_replacement_and_deletion(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "S.jsonl"
    f.write_text(reply(1) + reply(2))
    tailer = run(store, f)
    f.write_text(reply(4))  # truncated below the position: read again from the start
    run(store, f, tailer)
    assert output(store) == 30
    new = tmp_path / "new"
    new.write_text(reply(5) + reply(6) + reply(7))
    os.replace(new, f)  # replaced: another file under the same name
    run(store, f, tailer)
    assert output(store) == 60
    f.unlink()
    run(store, f, tailer)
    assert store.conn.execute("SELECT COUNT(*) FROM file_positions").fetchone()[0] == 0


def test_a_renamed_file_keeps_its_position(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "S.jsonl"
    f.write_text(reply(1) + reply(2))
    tailer = run(store, f)
    moved = tmp_path / "S2.jsonl"
    os.rename(f, moved)
    with moved.open("a") as fh:
        fh.write(reply(3))
    run(store, moved, tailer)
    assert output(store) == 30
    assert [r[0] for r in store.conn.execute("SELECT path FROM file_positions")] == [str(moved)]


def test_a_huge_line_is_counted_and_reading_goes_on(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "S.jsonl"
    f.write_text(reply(1) + '{"type":"user","x":"' + "a" * 5000 + '"}\n' + reply(2))
    tailer = Tailer(Sessionizer(store), store, max_line=1000)
    run(store, f, tailer)
    assert output(store) == 20
    assert store.counters("file_skipped") == {"claude-code:line_too_long": 1}


def test_bad_lines_are_counted_by_reason(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "S.jsonl"
    f.write_bytes(b'{"usage": \xff\xfe}\n{"usage": nope\n' + reply(1).encode() + b'["usage"]\n')
    run(store, f)
    assert output(store) == 10
    assert store.counters("file_skipped") == {
        "claude-code:invalid_utf8": 1,
        "claude-code:bad_json": 1,
    }
    assert store.counters("parse_error") == {"claude-code": 2}
    assert store.counters("drift") == {"claude-code": 1}


def test_streaming_placeholder_then_final_figures_count_the_final(
    store: Store, tmp_path: Path
) -> None:
    f = tmp_path / "S.jsonl"
    f.write_text(reply(1, out=2) + reply(1, out=187) + reply(1, out=187))
    run(store, f)
    assert output(store) == 187


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_like_a_transcript_is_skipped_never_opened(
    store: Store, tmp_path: Path
) -> None:
    fifo = tmp_path / "F.jsonl"
    os.mkfifo(fifo)

    # Without the fix open() blocks until a writer comes: this thread comes after 2 s.
    done = threading.Event()

    def writer() -> None:
        while not done.wait(2):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    threading.Thread(target=writer, daemon=True).start()
    started = time.monotonic()
    tailer = run(store, fifo)
    run(store, fifo, tailer)  # counted once, not once per pass
    done.set()
    assert time.monotonic() - started < 1
    assert store.counters("file_skipped") == {"claude-code:not_a_file": 1}
    with pytest.raises(OSError):
        open_regular(fifo)  # a FIFO swapped in after the stat() is refused, not waited on


def test_a_stop_leaves_a_long_file_between_batches_and_the_next_pass_finishes(
    store: Store, tmp_path: Path
) -> None:
    # Shutdown during a first catch-up of one huge transcript must not wait for its end.
    f = tmp_path / "S.jsonl"
    f.write_text("".join(reply(i, out=1) for i in range(3 * BATCH_LINES)))
    stop = threading.Event()
    stop.set()
    tailer = run(store, f, Tailer(Sessionizer(store), store, stop=stop))
    assert output(store) == BATCH_LINES
    stop.clear()
    run(store, f, Tailer(Sessionizer(store), store, stop=stop))  # as after a restart
    assert output(store) == 3 * BATCH_LINES
    assert tailer.positions[str(f)].offset < f.stat().st_size


def test_a_failed_commit_loses_nothing_the_lines_are_read_again(
    store: Store, tmp_path: Path
) -> None:
    # A full disk (a capped store here) fails a batch: its lines must not be skipped later.
    f = tmp_path / "S.jsonl"
    f.write_text("".join(reply(i, out=1) for i in range(3 * BATCH_LINES)))
    tailer = Tailer(Sessionizer(store), store)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        run(store, f, tailer)
    store.conn.execute("PRAGMA max_page_count = 1000000")
    run(store, f, tailer)
    assert output(store) == 3 * BATCH_LINES


def test_lines_older_than_the_backfill_cutoff_are_counted_not_silently_dropped(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "S.jsonl"
    path.write_text(reply(1))
    tailer = Tailer(Sessionizer(store), store)
    rel = PurePosixPath("projects", "p", path.name)
    # A file written now, holding a line dated before the cutoff (2026-11-25T10:00, as after a
    # clock reset): the line is left out, and counted.
    tailer.process(path, rel, ClaudeCode(), cutoff=time.time() - 3600)
    tailer.flush()
    assert output(store) == 0
    assert store.counters("file_skipped") == {"claude-code:older_than_backfill": 1}
