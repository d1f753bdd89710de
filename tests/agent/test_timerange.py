"""--since/--until values: the forms the CLI accepts and one clear line for the rest."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from aitally.core.errors import TimeRangeError
from aitally.core.timerange import parse_bound
from tests.conftest import aitally_cmd

TODAY = dt.date(2026, 3, 10)


def test_forms() -> None:
    midnight = dt.datetime(2026, 3, 10).astimezone().timestamp()
    assert parse_bound("today", today=TODAY) == midnight
    assert parse_bound("1d", today=TODAY) == midnight
    assert parse_bound("2026-03-10", end=True, today=TODAY) == parse_bound("2026-03-11")
    assert parse_bound("yesterday", end=True, today=TODAY) == midnight


@pytest.mark.parametrize(
    ("text", "end"),
    [("0001-01-01", False), ("9999-12-31", True), ("2024-02-30", False), ("10000d", False)],
)
def test_bad_values_raise_time_range_error(text: str, end: bool) -> None:
    with pytest.raises(TimeRangeError):
        parse_bound(text, end=end)


@pytest.mark.parametrize(
    ("option", "value"), [("--since", "0001-01-01"), ("--until", "9999-12-31")]
)
def test_calendar_edges_are_one_line_exit_2(option: str, value: str) -> None:
    for command in ("sessions", "stats", "export"):
        done = subprocess.run(
            aitally_cmd(command, option, value), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.count("\n") == 1 and "out of range" in done.stderr, done.stderr
