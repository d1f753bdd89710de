"""A running agent: appended lines show within 2 s; a half-written line waits for its end."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.collectors.files import corpus
from tests.collectors.files.helpers import run, start_agent


def _totals(home: Path) -> dict[tuple[str, str], tuple[int | None, ...]]:
    out = run(home, "sessions", "--json", "--tool", "claude-code")
    return corpus.totals(corpus.load(out.stdout)) if out.returncode == 0 else {}


def _wait(home: Path, sid: str, want: tuple[int | None, ...], limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if _totals(home).get(("claude-code", sid)) == want:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{sid}: {_totals(home).get(('claude-code', sid))} != {want}")


def test_appended_lines_show_within_two_seconds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    projects = home / ".claude" / "projects"
    (sid, text), *_ = corpus.templates()
    new = corpus.session_id(sid, 0xBEEF)
    lines = corpus.render(text, new, 0xBEEF).splitlines(keepends=True)
    target = projects / "-p" / f"{new}.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text("")
    agent = start_agent(home)
    try:
        want = corpus.TRUE_TOTALS[("claude-code", sid)]
        # Everything but the last reply, whose line is cut in the middle.
        head, last = "".join(lines[:-2]), lines[-2]
        with target.open("a") as fh:
            fh.write(head + last[:40])
        seconds_first = _wait(home, new, (3195, 329, 19370, 981, None), 2.0)
        time.sleep(0.5)  # the cut line must not count until its end is written
        assert _totals(home)[("claude-code", new)] == (3195, 329, 19370, 981, None)
        with target.open("a") as fh:
            fh.write(last[40:] + lines[-1])
        seconds = _wait(home, new, want, 2.0)
        assert seconds_first < 2.0 and seconds < 2.0
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err.decode()[-2000:]
