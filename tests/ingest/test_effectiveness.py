"""The outcome reports over the fixture central database, against figures worked out by hand.

tests/fixtures/central/outcomes.json holds ten people; the service runs with a minimum group
size of 3. Each expectation below says how it was computed, so a reader can check it.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aitally.ingest.suppress import ALL, OTHER
from tests.conftest import REPO
from tests.ingest.builders import record
from tests.ingest.conftest import BACKENDS, Server, backend_db, ingest_cmd

FIXTURE = REPO / "tests" / "fixtures" / "central" / "outcomes.json"
WEEK = "2026-11-09"
K = 3


def load_fixture(server: Server) -> None:
    """Each fixture person enrolls a device in their org unit and posts their records."""
    by_person: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in json.loads(FIXTURE.read_text())["records"]:
        rec = record(
            tool=r["tool"],
            active=float(r["active"]),
            started_at=f"{r['day']}T10:00:00Z",
            ended_at=f"{r['day']}T11:00:00Z",
            models={},
            tokens=None,
        )
        if "outcomes" in r:
            rec["outcomes"] = r["outcomes"]
        by_person[(r["person"], r["org"])].append(rec)
    for (person, org), records in by_person.items():
        server.post_as(person, records, org_unit=org)


@pytest.fixture(scope="module", params=BACKENDS)
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("central")
    server = Server(backend_db(request, workdir), workdir, "--min-group-size", str(K))
    load_fixture(server)
    yield server
    server.stop()


def _get(server: Server, path: str) -> dict[str, Any]:
    r = server.admin("GET", path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _rows(doc: dict[str, Any], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in doc["rows"]}


def test_effectiveness_matches_hand_computed_figures(central: Server) -> None:
    doc = _get(central, f"/v1/reports/effectiveness?granularity=week&since={WEEK}&until={WEEK}")
    assert (doc["since"], doc["until"], doc["min_group_size"]) == (WEEK, "2026-11-15", K)
    rows = _rows(doc, "tool", "org_unit")
    # Org units on all tools: eng 5, ops 2, data 3; ops is merged into (other) and, that
    # staying under 3, so is the smallest shown unit (data): (other) = o1 o2 d1 d2 d3.
    # codex (e1 alone) is never shown. claude-code's eng row (e1-e4) and (all) row (9) are
    # left out: beside all tools' eng (5) and (all) (10) they would give e5 alone.
    assert list(rows) == [
        (ALL, "eng"),
        (ALL, OTHER),
        (ALL, ALL),
        ("claude-code", OTHER),
        ("cursor", OTHER),
        ("cursor", ALL),
    ]
    figures = ["people", "acceptance_rate", "lines_per_active_hour"]
    figures += ["kept_change_share", "failure_rate", "commits_with_ai_per_person_week"]
    expected = {
        # eng: accepted 4+3 (e1) +3 (e2) +6 (e3) = 16 of decided 7+3+5+6 = 21; lines
        # 40+30+30+60+10 = 170 over the 6 h of records with a line figure; kept segments
        # 2+2+1+1 = 6 of 7 carrying outcomes; failed 1+1+2+0 = 4 of 12 run; commits with AI
        # 1+1+2 = 4 over 3 person-weeks (e1 e2 e3). e4 sent no outcomes: only volume.
        (ALL, "eng"): [5, 0.762, 28.3, 0.857, 0.333, 1.33],
        # (other): accepted 2+2+1+0+2 = 7 of 8+2+2+1+4 = 17; lines 10+8+54+10+12 = 94 over
        # 7.5 h; kept 2+1+3+1+1 = 8 of 10; failed 2+0+0+1 = 3 of 7; commits 1 over 5 weeks.
        (ALL, OTHER): [5, 0.412, 12.5, 0.8, 0.429, 0.2],
        # both: 23/38, 264 lines / 13.5 h, 14/17, 7/19, 5 commits / 8 person-weeks.
        (ALL, ALL): [10, 0.605, 19.6, 0.824, 0.368, 0.62],
        # claude-code (other): accepted 7 of 17; kept 5 of 6; failed 3 of 7; no commits with
        # AI in 5 person-weeks. Lines (o1 o2 d1 d3: 34 over 4 h) are hidden: all tools'
        # (other) line figure has d2 too (Cursor), and the two would differ by d2 alone.
        ("claude-code", OTHER): [5, 0.412, None, 0.833, 0.429, 0.0],
        # Cursor: e5 d1 d2 d3, lines 10+50+10+0 = 70 over 4 h, kept 4 of 5 segments; no
        # edits or commands recorded; commits with AI from d1 alone: hidden.
        ("cursor", OTHER): [4, None, 17.5, 0.8, None, None],
        ("cursor", ALL): [4, None, 17.5, 0.8, None, None],
    }
    assert {key: [row[f] for f in figures] for key, row in rows.items()} == expected
    assert doc["columns"] == ["period", "tool", "org_unit", *figures]
    # Its people are the adoption report's active people, row for row: no report differs
    # from another by a few people (hours are left to the usage report for the same reason).
    adoption = _get(central, f"/v1/reports/adoption?granularity=week&since={WEEK}&until={WEEK}")
    assert {k: r["people"] for k, r in rows.items()} == {
        (r["tool"], r["org_unit"]): r["active_users"] for r in adoption["rows"]
    }
    month = _get(central, f"/v1/reports/effectiveness?granularity=month&since={WEEK}")
    # November holds only this week's records: the same figures, one period 2026-11-01.
    assert {(r["tool"], r["org_unit"]): [r[f] for f in figures] for r in month["rows"]} == expected
    assert {r["period"] for r in month["rows"]} == {"2026-11-01"}
    day = central.admin("GET", "/v1/reports/effectiveness?granularity=day")
    assert day.status_code == 400 and day.json()["error"].startswith("granularity:")


def test_differencing_attack_reveals_no_one(central: Server) -> None:
    """The attack: read claude-code's eng row and all tools' eng row, subtract, and get e5
    (the only eng person not on claude-code); the same with the (all) rows. Neither the
    effectiveness nor the adoption report shows both halves of any such pair."""
    q = f"granularity=week&since={WEEK}&until={WEEK}"
    for name in ("effectiveness", "adoption"):
        rows = _rows(_get(central, f"/v1/reports/{name}?{q}"), "tool", "org_unit")
        people = "people" if name == "effectiveness" else "active_users"
        assert rows[(ALL, "eng")][people] == 5 and rows[(ALL, ALL)][people] == 10
        assert ("claude-code", "eng") not in rows and ("claude-code", ALL) not in rows
        # Cursor's (other) (e5 d1 d2 d3) is no subset of all tools' (o1 o2 d1 d2 d3): their
        # difference is no one's figure, so both show.
        assert rows[("cursor", OTHER)][people] == 4 and rows[(ALL, OTHER)][people] == 5


def test_engaged_beside_active(central: Server) -> None:
    doc = _get(central, f"/v1/reports/adoption?granularity=week&since={WEEK}&until={WEEK}")
    rows = _rows(doc, "tool", "org_unit")
    got = {key: (r["active_users"], r["engaged_users"]) for key, r in rows.items()}
    # Engaged by the end of the week (2026-10-19..11-15), on any tool: e1 (3 days), e2 (10th,
    # 12th), o1, d1, d2 (Cursor 10th, claude-code 12th). eng has 2: under 3, hidden.
    # (other) has 3 (o1 d1 d2) of 5 active: the 2 not engaged would stand out, hidden.
    # The hidden rows hold 2 + 3 = 5 >= 3, so the (all) figure (5 of 10) may show.
    # On claude-code only e1 e2 o1 are engaged ((other): o1 alone); on Cursor only d1.
    assert got == {
        (ALL, "eng"): (5, None),
        (ALL, OTHER): (5, None),
        (ALL, ALL): (10, 5),
        ("claude-code", OTHER): (5, None),
        ("cursor", OTHER): (4, None),
        ("cursor", ALL): (4, None),
    }


def test_depth_levels_match_hand_computed_counts(central: Server) -> None:
    doc = _get(central, "/v1/reports/levels?recipe=depth&as_of=2026-11-30")
    assert doc["recipe_version"] == "depth-v1"
    assert (doc["since"], doc["until"]) == ("2026-11-02", "2026-11-29")
    # e1 agentic on claude-code (4 accepted, 3 run, a commit) and Codex: multi_agentic;
    # e3 agentic; e4 active without outcomes: chat; everyone else kept edits or lines
    # without an agentic record (o2 and d3 never committed): assisted.
    # eng [1, 1, 2, 1, 0], (other) = ops + data [0, 0, 5, 0, 0], (all) [1, 1, 7, 1, 0];
    # counts 1..2 are hidden, then complements: (other)'s 5 assisted (else the assisted
    # column would give eng's 2), then a zero of (other)'s row (else its row sum would).
    levels = ["multi_agentic", "agentic", "assisted", "chat", "none"]
    got = {r["org_unit"]: (r["people"], [r[n] for n in levels]) for r in doc["rows"]}
    assert got == {
        "eng": (5, [None, None, None, None, 0]),
        OTHER: (5, [None, 0, None, 0, 0]),
        ALL: (10, [None, None, 7, None, 0]),
    }
    # One tool only: Codex's sole user e1 is agentic there, everyone else none. The 1 is
    # hidden in eng's row and in (all)'s, each with a complement: suppression hides the
    # smallest non-zero figure first (zeros say nothing), here the none counts 4 and 9.
    codex = _get(central, "/v1/reports/levels?recipe=depth&as_of=2026-11-30&tool=codex")
    got = {r["org_unit"]: (r["people"], [r[n] for n in levels]) for r in codex["rows"]}
    assert got == {
        "eng": (5, [0, None, 0, 0, None]),
        OTHER: (5, [0, 0, 0, 0, 5]),
        ALL: (10, [0, None, 0, 0, None]),
    }


def test_cli_answers_what_the_api_answers(central: Server) -> None:
    q = f"granularity=week&since={WEEK}&until={WEEK}"
    api = _get(central, f"/v1/reports/effectiveness?{q}")
    args = ["--db", central.db, "--min-group-size", str(K), "--since", WEEK, "--until", WEEK]
    out = subprocess.run(
        ingest_cmd("report", "effectiveness", *args), capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["rows"] == api["rows"]
    daily = subprocess.run(
        ingest_cmd("report", "effectiveness", "--granularity", "day", "--db", central.db),
        capture_output=True,
        text=True,
    )
    assert daily.returncode == 2 and daily.stderr.count("\n") == 1
    assert "granularity: effectiveness counts person-weeks; use week or month" in daily.stderr
    csv_text = central.admin("GET", f"/v1/reports/effectiveness?{q}&format=csv").text
    header, *lines = csv_text.splitlines()
    assert header.split(",") == api["columns"] and len(lines) == len(api["rows"])
    assert lines[0].startswith(f"{WEEK},(all),eng,5,0.762,")


def test_fixture_is_what_the_test_says() -> None:
    people = {r["person"] for r in json.loads(FIXTURE.read_text())["records"]}
    assert len(people) == 10 and Path(FIXTURE).stat().st_size < 10_000


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = Server(backend_db(request, tmp_path), tmp_path, "--min-group-size", str(K))
    yield server
    server.stop()


def test_lines_per_active_hour_leaves_out_lines_without_active_time(empty: Server) -> None:
    # Three people each kept 30 lines in an hour of Cursor, and their day's own Cursor record
    # (docs/clients/cursor.md: counts read while no chat was in use) carries 100 lines and no
    # active time: those lines have no hours to go over, so the figure stays 30 an hour.
    for login in ("c1", "c2", "c3"):
        timed = record(tool="cursor", active=3600.0, models={}, tokens=None)
        timed["outcomes"] = {"lines_suggested": 60, "lines_accepted": 30}
        day = record(tool="cursor", active=0.0, turns=0, models={}, tokens=None)
        day["outcomes"] = {"lines_suggested": 200, "lines_accepted": 100}
        empty.post_as(login, [timed, day], org_unit="eng")
    rows = _rows(_get(empty, "/v1/reports/effectiveness?granularity=week"), "tool", "org_unit")
    assert {key: row["lines_per_active_hour"] for key, row in rows.items()} == {
        (tool, org): 30.0 for tool in ("cursor", ALL) for org in ("eng", ALL)
    }
