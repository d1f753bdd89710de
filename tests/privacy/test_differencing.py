"""Attacks on the reports: differencing across dimensions, periods and reports, and
threshold inversion. No subtraction of shown figures may isolate fewer than k people."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aitally.ingest.suppress import ALL
from tests.ingest.builders import record
from tests.ingest.conftest import Server

TODAY = dt.datetime.now(dt.UTC).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday() + 7)  # of the last full ISO week
K = 5


def _get(server: Server, path: str) -> dict[str, Any]:
    r = server.admin("GET", path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_tool_versus_all_tools_never_isolates_a_few(fresh_server: Server) -> None:
    # Six people use claude-code; one more uses only gemini-cli. Before: (all)=7 beside
    # claude-code=6, so exactly one person used something else that day.
    for i in range(6):
        fresh_server.post_as(f"p{i}", [record(day=MONDAY)])
    fresh_server.post_as("loner", [record(day=MONDAY, tool="gemini-cli")])
    doc = _get(fresh_server, f"/v1/reports/adoption?granularity=day&since={MONDAY}")
    cells = {(r["tool"], r["org_unit"]): r["active_users"] for r in doc["rows"]}
    for (tool, org), n in cells.items():
        whole = cells.get((ALL, org))
        if tool != ALL and whole is not None:
            assert whole - n == 0 or whole - n >= K, f"{tool}/{org}: {whole} - {n}"


def test_week_minus_days_never_reveals_a_lone_day(fresh_server: Server) -> None:
    # Six people on codex Monday to Saturday; on Sunday one of them alone, distinctively.
    for i in range(6):
        records = [record(day=MONDAY + dt.timedelta(days=d), tool="codex") for d in range(6)]
        if i == 0:
            records.append(record(day=MONDAY + dt.timedelta(days=6), tool="codex", active=7777))
        fresh_server.post_as(f"p{i}", records)
    span = f"since={MONDAY}&until={MONDAY + dt.timedelta(days=6)}"
    week = _get(fresh_server, f"/v1/reports/usage?granularity=week&{span}")
    days = _get(fresh_server, f"/v1/reports/usage?granularity=day&{span}")
    for key in ("codex", ALL):
        for figure in ("active_seconds", "turns"):
            w = sum(r[figure] for r in week["rows"] if r["tool"] == key)
            d = sum(r[figure] for r in days["rows"] if r["tool"] == key)
            assert w == d, f"{key}: the week minus its days is {w - d} {figure} of < {K} people"
    models = [sum(r["tokens"]["input"] for r in doc["models"]) for doc in (week, days)]
    assert models[0] == models[1]


def test_org_unit_versus_all_never_isolates_a_small_unit(fresh_server: Server) -> None:
    for i in range(6):
        fresh_server.post_as(f"e{i}", [record(day=MONDAY)], org_unit="eng")
    for i in range(2):
        fresh_server.post_as(f"s{i}", [record(day=MONDAY)], org_unit="legal")
    doc = _get(fresh_server, f"/v1/reports/adoption?granularity=week&since={MONDAY}")
    for tool in {r["tool"] for r in doc["rows"]}:
        rows = [r for r in doc["rows"] if r["tool"] == tool]
        whole = sum(r["active_users"] for r in rows if r["org_unit"] == ALL)
        parts = sum(r["active_users"] for r in rows if r["org_unit"] != ALL)
        assert whole - parts == 0 or whole - parts >= K
        assert "legal" not in {r["org_unit"] for r in rows}


def test_level_thresholds_never_invert_to_one_persons_figure(fresh_server: Server) -> None:
    # Seven people in eng; one alone uses codex, for a distinctive 12345 s. Before, with
    # tool=codex, P25=P50=P75 = 12345 and the row showed heavy: 1.
    for i in range(6):
        fresh_server.post_as(f"p{i}", [record(day=MONDAY, active=600.0 * (i + 1))])
    fresh_server.post_as("solo", [record(day=MONDAY, tool="codex", active=12345.0)])
    doc = _get(fresh_server, f"/v1/reports/levels?recipe=volume&tool=codex&as_of={TODAY}")
    assert 12345.0 not in doc["thresholds"].values() and not doc["thresholds"]
    for row in doc["rows"]:
        cells = [row[level] for level in doc["levels"]]
        assert 1 not in cells and cells.count(None) != 1, row
    # Over everyone the thresholds exist, coarsened: none equals a person's seconds.
    whole = _get(fresh_server, f"/v1/reports/levels?recipe=volume&as_of={TODAY}")
    figures = {600.0 * (i + 1) for i in range(6)} | {12345.0}
    assert whole["thresholds"] and not set(whole["thresholds"].values()) & figures


def test_absolute_recipe_is_versioned_with_its_thresholds(tmp_path: Any) -> None:
    server = Server(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "--absolute-hours", "8,3,0.5")
    try:
        for i in range(6):
            server.post_as(f"p{i}", [record(day=MONDAY, active=3600.0 * 4 * (i + 1))])
        doc = _get(server, f"/v1/reports/levels?recipe=absolute&as_of={TODAY}")
        assert doc["recipe_version"] == "absolute-v1:8h-3h-0.5h"
        assert doc["thresholds"]["heavy_hours_week"] == 8
        whole = next(r for r in doc["rows"] if r["org_unit"] == ALL)
        assert whole["people"] == 6
    finally:
        server.stop()


def test_engaged_beside_active_never_isolates_a_few(fresh_server: Server) -> None:
    # Six people on codex; five of them on two days, one on a single day. Engaged 5 beside
    # active 6 would tell that exactly one person came once: the engaged figure is hidden.
    for i in range(6):
        days = [MONDAY] if i == 0 else [MONDAY, MONDAY + dt.timedelta(days=1)]
        fresh_server.post_as(f"p{i}", [record(day=d, tool="codex") for d in days])
    doc = _get(fresh_server, f"/v1/reports/adoption?granularity=week&since={MONDAY}")
    cells = {(r["tool"], r["org_unit"]): r for r in doc["rows"] if r["period"] == str(MONDAY)}
    assert cells[("codex", ALL)]["active_users"] == 6
    assert all(r["engaged_users"] is None for r in cells.values())
    # A seventh engaged person makes it 6 of 7, still one apart; ten engaged of eleven too.
    for i in range(6, 11):
        fresh_server.post_as(f"p{i}", [record(day=MONDAY + dt.timedelta(days=d), tool="codex")
                                       for d in (2, 3)])  # fmt: skip
    doc = _get(fresh_server, f"/v1/reports/adoption?granularity=week&since={MONDAY}")
    whole = next(r for r in doc["rows"] if r["period"] == str(MONDAY) and r["tool"] == ALL
                 and r["org_unit"] == ALL)  # fmt: skip
    assert (whole["active_users"], whole["engaged_users"]) == (11, None)
