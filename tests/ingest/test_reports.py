"""Reports through the real service and CLI: groups under 5 never shown, nor derivable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aitally.ingest import reports
from aitally.ingest.suppress import ALL, OTHER, Group, merge_small, total
from tests.ingest.builders import record
from tests.ingest.conftest import Server, ingest_cmd

TODAY = dt.datetime.now(dt.UTC).date()
LAST_WEEK = TODAY - dt.timedelta(days=TODAY.weekday() + 5)  # Wednesday of the last full week
# eng 6, sales 7, ops 2 people on claude-code; 3 of sales also on codex, 5 on gemini-cli.
PEOPLE = {
    f"hmac:k:{i:032x}": org for i, org in enumerate(["eng"] * 6 + ["sales"] * 7 + ["ops"] * 2)
}


def _populate(server: Server) -> None:
    """Each person enrolls their own device; the enrollment says who and which org unit."""
    by_person: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for i, (person, org) in enumerate(PEOPLE.items()):
        weeks = 1 + i % 12  # different consistency levels
        for w in range(weeks):
            by_person[(person, org)].append(
                record(
                    day=LAST_WEEK - dt.timedelta(weeks=w),
                    active=600.0 * (i + 1),
                    n_tokens=100 * (i + 1),
                )
            )
    sales = [p for p, org in PEOPLE.items() if org == "sales"]
    for p in sales[:3]:
        by_person[(p, "sales")].append(record(day=LAST_WEEK, tool="codex", model="gpt-5"))
    for p in sales[:5]:
        by_person[(p, "sales")].append(
            record(day=LAST_WEEK, tool="gemini-cli", model="gemini-2.5-pro")
        )
    # A pause record is not usage; a presence-only segment is not activity.
    by_person[("pause", "ops")].append(record(day=LAST_WEEK, kind="pause", tool="aitally"))
    by_person[("idle", "ops")].append(
        record(day=LAST_WEEK, active=0, turns=0, tokens=None, models={})
    )
    for (person, org), records in by_person.items():
        server.post_as(person, records, org_unit=org)


def _get(server: Server, path: str) -> dict[str, Any]:
    r = server.admin("GET", path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_adoption_suppresses_and_balances(fresh_server: Server) -> None:
    _populate(fresh_server)
    doc = _get(fresh_server, f"/v1/reports/adoption?granularity=week&since={LAST_WEEK}")
    assert doc["min_group_size"] == 5 and doc["since"] <= LAST_WEEK.isoformat()
    week = (LAST_WEEK - dt.timedelta(days=LAST_WEEK.weekday())).isoformat()
    rows = [r for r in doc["rows"] if r["period"] == week]
    cc = {r["org_unit"]: r["active_users"] for r in rows if r["tool"] == "claude-code"}
    # ops (2) merged into (other), which then takes the smallest shown group (eng, 6).
    assert cc == {"sales": 7, OTHER: 8, ALL: 15}
    assert not any(r["tool"] == "codex" for r in doc["rows"])  # 3 people: never shown
    # gemini-cli's sales cell (5) beside all tools' sales cell (7) would isolate the two
    # sales people on other tools only: it is suppressed; its (all) row stays.
    assert {r["org_unit"] for r in rows if r["tool"] == "gemini-cli"} == {ALL}
    assert all(r["active_users"] >= 5 for r in doc["rows"])
    for tool in {r["tool"] for r in rows}:  # total minus shown rows leaves 0 or >= 5 people
        shown = [r["active_users"] for r in rows if r["tool"] == tool and r["org_unit"] != ALL]
        whole = next(r["active_users"] for r in rows if r["tool"] == tool and r["org_unit"] == ALL)
        assert whole - sum(shown) == 0 or whole - sum(shown) >= 5
    text = fresh_server.admin("GET", f"/v1/reports/adoption?since={LAST_WEEK}&format=csv").text
    table = list(csv.DictReader(io.StringIO(text)))
    assert table and list(table[0]) == [*doc["columns"]]
    assert doc["columns"] == ["period", "tool", "org_unit", "active_users", "engaged_users"]
    cells = text.partition("\n")[2]
    assert "ops" not in cells and "eng" not in cells and "codex" not in cells


def test_usage_and_levels(fresh_server: Server) -> None:
    _populate(fresh_server)
    usage = _get(fresh_server, f"/v1/reports/usage?granularity=month&since={LAST_WEEK}")
    period = LAST_WEEK.replace(day=1).isoformat()
    tools = {r["tool"]: r for r in usage["rows"] if r["period"] == period}
    assert set(tools) == {"claude-code", OTHER, ALL}  # codex (3) merged with gemini (5)
    summed = sum(r["tokens"]["input"] for k, r in tools.items() if k != ALL)
    assert summed == tools[ALL]["tokens"]["input"]
    models = {(r["tool"], r["model"]) for r in usage["models"]}
    assert models == {("claude-code", "claude-sonnet-4")}
    assert all(r["people"] >= 5 for r in usage["rows"] + usage["models"])

    volume = _get(fresh_server, f"/v1/reports/levels?recipe=volume&as_of={TODAY}")
    assert volume["recipe_version"] == "volume-v2"
    by_org = {r["org_unit"]: r for r in volume["rows"]}
    assert set(by_org) == {"sales", OTHER, ALL}
    whole = by_org[ALL]
    assert whole["people"] == 16  # 15 active plus the presence-only person
    shown = [whole[level] for level in volume["levels"] if whole[level] is not None]
    assert sum(shown) <= 16 and all(n >= 5 for n in shown if n)
    # Thresholds are coarsened to half hours: never one person's exact seconds.
    assert all(t % 1800 == 0 for t in volume["thresholds"].values())
    assert volume["thresholds"]["p75_seconds"] > 0
    for row in volume["rows"]:  # no row holds exactly one hidden cell, nor a count under 5
        cells = [row[level] for level in volume["levels"]]
        assert cells.count(None) != 1 and all(c is None or c == 0 or c >= 5 for c in cells)
    consistency = _get(fresh_server, f"/v1/reports/levels?recipe=consistency&as_of={TODAY}")
    assert consistency["recipe_version"] == "consistency-v1"
    c_whole = next(r for r in consistency["rows"] if r["org_unit"] == ALL)
    assert c_whole["people"] == 16 and c_whole["occasional"] >= 5
    # The CLI reads the same database and gives the same answer.
    out = subprocess.run(
        ingest_cmd(
            "report",
            "levels",
            "--db",
            fresh_server.db,
            "--until",
            TODAY.isoformat(),
            "--recipe",
            "consistency",
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["rows"] == consistency["rows"]


def test_reports_need_admin_and_valid_params(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    r = s.http.get(s.url + "/v1/reports/adoption", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    for bad in (
        "granularity=year",
        "since=yesterday",
        "since=2026-02-30",
        "format=xml",
    ):
        r = s.admin("GET", f"/v1/reports/adoption?{bad}")
        assert r.status_code == 400 and r.json()["error"], bad
    empty = s.admin("GET", "/v1/reports/usage?since=2026-12-01&until=2026-01-01")
    assert empty.status_code == 200 and empty.json()["rows"] == []


@given(st.lists(st.sets(st.integers(0, 30), max_size=12), max_size=8), st.integers(1, 6))
def test_merge_small_never_isolates_a_small_group(people: list[set[int]], k: int) -> None:
    # People in disjoint groups (as org units are): shown rows and the total must never
    # leave a remainder of fewer than k people.
    seen: set[int] = set()
    groups = []
    for i, members in enumerate(people):
        members = members - seen
        seen |= members
        groups.append(Group(f"g{i}", {str(m) for m in members}))
    shown = merge_small(groups, k)
    assert all(len(g.persons) >= k for g in shown)
    whole = total(groups, k)
    shown_people = set().union(*(g.persons for g in shown)) if shown else set()
    if whole is not None:
        remainder = whole.persons - shown_people
        assert not remainder, "the total would reveal merged-away people"
    else:
        assert len(seen) < k


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_cli_report_formats(shared_server: Server, fmt: str) -> None:
    done = subprocess.run(
        ingest_cmd("report", "usage", "--db", shared_server.db, "--format", fmt),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip()


@pytest.mark.parametrize(("granularity", "window"), [
    ("day", ("2026-08-31", "2026-11-30")),    # 92 days
    ("week", ("2026-06-01", "2026-12-06")),   # 26 whole ISO weeks up to until's
    ("month", ("2026-06-01", "2026-11-30")),  # 183 days back, widened to whole months
])  # fmt: skip
def test_report_window_is_bounded(granularity: str, window: tuple[str, str]) -> None:
    start, end = reports.window(granularity, dt.date(2020, 1, 1), dt.date(2026, 11, 30))
    assert (start.isoformat(), end.isoformat()) == window


def test_a_too_early_since_is_moved_up_and_the_answer_says_so(shared_server: Server) -> None:
    r = shared_server.admin(
        "GET", "/v1/reports/usage?granularity=day&since=2020-01-01&until=2026-11-30"
    )
    assert r.status_code == 200 and r.json()["since"] == "2026-08-31"
