"""`aitally stats` as a child process: 80 columns, colour on a tty only (or with FORCE_COLOR),
never with NO_COLOR."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
import time

import pytest

from aitally.core import paths
from aitally.core.observation import Activity, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.agent.test_stats_data import CLAUDE_DAYS_BACK, DAY, build_store
from tests.conftest import aitally_cmd

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")
    }
    env.update(extra)
    return env


def _piped(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aitally_cmd("stats", *args), capture_output=True, text=True, env=_env(**extra), timeout=60
    )


def _on_tty(*args: str, cols: int = 80, **extra: str) -> str:
    """Runs the command on a real pseudo-terminal of `cols` columns and returns what it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    proc = subprocess.Popen(
        aitally_cmd("stats", *args),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(TERM="xterm-256color", **extra),
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(master)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def _fits(text: str, cols: int = 80) -> None:
    for line in ANSI.sub("", text).splitlines():
        assert len(line) <= cols, f"{len(line)} columns: {line!r}"


def test_default_view_fits_80_columns_without_colour_on_a_pipe() -> None:
    now = build_store()["now"]
    done = _piped(COLUMNS="80")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out
    _fits(out)
    for heading in ("Today, ", "This week, since ", "This month, ", "Active time per day"):
        assert heading in out
    assert "claude-code" in out and "gpt-5-codex" in out
    sparks = out.split("Active time per day", 1)[1].splitlines()
    claude = next(line for line in sparks if line.startswith("claude-code"))
    # Eight sessions over three weeks plus the open one: one bar per local day they start on
    # (before 03:00 the session of 3 h ago started yesterday, so today's bar is the open one's).
    days = {dt.date.fromtimestamp(now - back * DAY - 3 * 3600) for back in CLAUDE_DAYS_BACK}
    days.add(dt.date.fromtimestamp(now - 240))
    assert sum(ch in "▁▂▃▄▅▆▇█" for ch in claude) == len(days)


def test_colour_on_a_terminal_and_never_with_no_color() -> None:
    build_store()
    coloured = _on_tty()
    assert "\x1b[" in coloured
    _fits(coloured)
    assert "Today, " in ANSI.sub("", coloured)
    plain = _on_tty(NO_COLOR="1")
    assert "\x1b[" not in plain
    _fits(plain)
    assert ANSI.sub("", coloured) == plain


def test_force_color_colours_a_pipe_unless_no_color_is_set() -> None:
    """force-color.org: a non-empty FORCE_COLOR colours output that is not a terminal;
    no-color.org: a non-empty NO_COLOR wins over it; an empty FORCE_COLOR changes nothing."""
    build_store()
    forced = _piped(COLUMNS="80", FORCE_COLOR="1")
    assert forced.returncode == 0, forced.stderr
    assert "\x1b[" in forced.stdout
    assert ANSI.sub("", forced.stdout) == _piped(COLUMNS="80").stdout
    assert "\x1b[" not in _piped(COLUMNS="80", FORCE_COLOR="1", NO_COLOR="1").stdout
    assert "\x1b[" not in _piped(COLUMNS="80", FORCE_COLOR="").stdout
    assert "\x1b[" not in _on_tty(FORCE_COLOR="1", NO_COLOR="1")


@pytest.mark.parametrize("by", ["day", "tool", "model", "project"])
def test_grouped_tables_fit_80_columns(by: str) -> None:
    build_store()
    out = _on_tty("--by", by, "--since", "30d")
    _fits(out)
    lines = ANSI.sub("", out).splitlines()
    assert lines[0].startswith(f"By {by}, ")
    assert lines[1].split()[0] == by
    assert lines[-1 if by != "project" else -2].startswith("total")


def test_json_keeps_its_shape_and_defaults_to_by_tool() -> None:
    build_store()
    data = json.loads(_piped("--json").stdout)
    assert set(data) == {"since", "until", "by", "rows", "totals"}
    assert data["by"] == "tool"
    assert {r["tool"] for r in data["rows"]} == {"claude-code", "codex", "cursor", "gemini-cli"}
    by_day = json.loads(_piped("--json", "--by", "day", "--since", "7d").stdout)
    assert all(set(r) >= {"day", "sessions", "tokens"} for r in by_day["rows"])


def test_without_a_store_it_says_what_to_do() -> None:
    done = _piped()
    assert done.returncode == 0
    assert "aitally status" in done.stdout
    assert json.loads(_piped("--json").stdout)["rows"] == []
    bad = _piped("--by", "day", "--since", "last tuesday")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_first_day_does_not_repeat_the_same_table() -> None:
    now = time.time()
    store = Store(paths.store_file())
    Sessionizer(store).apply(
        [
            Activity("codex", "c-1", now - 50, kind="prompt"),
            Usage("codex", "c-1", now - 40, "gpt-5-codex", Tokens(input=900, output=80), "u1"),
        ]
    )
    store.close()
    out = _piped(COLUMNS="80").stdout
    assert out.count("gpt-5-codex") == 1
    assert "  same as today" in out and "  same as this week" in out


def test_outcomes_of_every_kind_fit_80_columns_and_absent_kinds_show_a_dash() -> None:
    from aitally.core.observation import OutcomeCounts
    from aitally.core.wire import OUTCOME_KINDS

    built = build_store()
    store = Store(paths.store_file())
    every: dict[str, int] = {k: 100 + i for i, k in enumerate(OUTCOME_KINDS)}
    Sessionizer(store).apply(
        [
            OutcomeCounts("claude-code", "cc-open", built["now"] - 30, every, "k1"),
            OutcomeCounts("codex", "cx-0", built["now"] - 5 * 3600, {"commands_run": 7}, "k2"),
        ]
    )
    store.close()
    for args in ((), ("--by", "tool", "--since", "30d")):
        out = ANSI.sub("", _on_tty(*args))
        _fits(out)
        made = out.split("What it produced", 1)[1].split("Active time per day")[0]
        claude = [line for line in made.splitlines() if line.startswith("claude-code")]
        codex = [line for line in made.splitlines() if line.startswith("codex")]
        # Two tables: edits and lines, then commands, commits and suggested lines.
        assert [line.split()[1:] for line in claude] == [
            [str(every[k]) for k in OUTCOME_KINDS[:6]],
            [str(every[k]) for k in OUTCOME_KINDS[6:]],
        ]
        assert [line.split()[1:] for line in codex] == [["-"] * 6, ["7"] + ["-"] * 5]
    data = json.loads(_piped("--json").stdout)
    (codex_row,) = [r for r in data["rows"] if r["tool"] == "codex"]
    assert codex_row["outcomes"] == {"commands_run": 7}
