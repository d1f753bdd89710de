"""The central dashboard: self-contained, every number the API's, filters applied, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import pytest

from aitally.ingest.charts import LEVEL_COLORS, PALETTE
from aitally.ingest.suppress import ALL, OTHER
from tests.browser import CHROMIUM, SKIP_REASON, chromium, screenshot
from tests.ingest.conftest import ADMIN_TOKEN, Server
from tests.ingest.fleet import populate
from tests.ingest.png import colours

RECIPES = ("volume", "consistency", "depth", "absolute")


class Tables(HTMLParser):
    """The page's tables (by data-table name) as rows of cell texts, its links and selects."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: dict[str, str] = {}
        self.selected: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._select = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("data-table") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "a" and a.get("download"):
            self.links[str(a["download"])] = str(a.get("href"))
        elif tag == "select":
            self._select = str(a.get("name"))
        elif tag == "option" and "selected" in a:
            self.selected[self._select] = str(a.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("fleet")
    server = Server(f"sqlite:///{workdir / 'fleet.db'}", workdir)
    populate(server)
    yield server
    server.stop()


def _api(server: Server, path: str, **params: str) -> dict[str, Any]:
    r = server.admin("GET", f"{path}?{urlencode(params)}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not isinstance(v, dict)}
    out.update({f"{k}.{n}": x for k, v in row.items() if isinstance(v, dict) for n, x in v.items()})
    return out


def _expected(rows: list[dict[str, Any]], columns: list[str], **only: str) -> list[list[str]]:
    """The API's rows as the page must print them: header, then cells; None: suppressed."""
    picked = [r for r in rows if all(r.get(k, v) == v for k, v in only.items() if v)]
    body = [
        ["suppressed" if r[c] is None else str(r[c]) for c in columns] for r in map(_flat, picked)
    ]
    return [columns, *body] if body else []


def _page_tables(server: Server, query: str) -> Tables:
    """The dashboard as Chromium rendered it (its DOM), with the admin token as password."""
    host = server.url.removeprefix("http://")
    return _parse(chromium(f"http://admin:{ADMIN_TOKEN}@{host}/dashboard?{query}", "--dump-dom"))


def _check_page_equals_api(server: Server, **f: str) -> Tables:
    period = {k: f[k] for k in ("granularity", "since", "until") if k in f}
    page = _page_tables(server, urlencode(f))
    only = {"tool": f.get("tool", ""), "org_unit": f.get("org_unit", "")}
    adoption = _api(server, "/v1/reports/adoption", **period)
    assert page.tables.get("adoption", []) == _expected(
        adoption["rows"], adoption["columns"], **only
    )
    effect = _api(server, "/v1/reports/effectiveness", **period)
    assert page.tables.get("effectiveness", []) == _expected(
        effect["rows"], effect["columns"], **only
    )
    usage = _api(server, "/v1/reports/usage", **period)
    tool = {"tool": only["tool"]}
    assert page.tables.get("usage", []) == _expected(usage["rows"], usage["columns"], **tool)
    model_columns = [
        "period",
        "tool",
        "model",
        "people",
        *[c for c in usage["columns"] if "." in c],
    ]
    assert page.tables.get("models", []) == _expected(usage["models"], model_columns, **tool)
    levels_params = {"tool": only["tool"]} if only["tool"] else {}
    if "until" in f:
        levels_params["as_of"] = f["until"]
    for recipe in RECIPES:
        doc = _api(server, "/v1/reports/levels", recipe=recipe, **levels_params)
        org = {"org_unit": only["org_unit"]}
        assert page.tables.get(f"levels-{recipe}", []) == _expected(
            doc["rows"], doc["columns"], **org
        )
    return page


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_page_numbers_are_the_api_answers_and_filters_apply(fleet: Server) -> None:
    whole = _check_page_equals_api(fleet)
    assert {
        "adoption",
        "effectiveness",
        "usage",
        "models",
        *(f"levels-{r}" for r in RECIPES),
    } <= set(whole.tables)
    assert len(whole.tables["effectiveness"]) > 5 and whole.selected == {
        "granularity": "week",
        "tool": "",
        "org_unit": "",
    }
    # A tool and a named org unit the monthly answer has a row for (dates move with today).
    months = _api(fleet, "/v1/reports/effectiveness", granularity="month")["rows"]
    tool, org = next(
        (r["tool"], r["org_unit"])
        for r in months
        if r["tool"] != ALL and r["org_unit"] not in (ALL, OTHER)
    )
    picked = _check_page_equals_api(fleet, granularity="month", tool=tool, org_unit=org)
    assert picked.selected == {"granularity": "month", "tool": tool, "org_unit": org}
    rows = picked.tables["effectiveness"][1:]
    assert rows and all(r[1] == tool and r[2] == org for r in rows)
    assert all(r[0].endswith("-01") for r in rows)  # months
    assert len(rows) < len(whole.tables["effectiveness"]) - 1


def test_csv_downloads_hold_the_api_csv(fleet: Server) -> None:
    page = _parse(fleet.admin("GET", "/dashboard").text)
    for name, path, params in (
        ("adoption", "/v1/reports/adoption", {}),
        ("effectiveness", "/v1/reports/effectiveness", {}),
        ("usage", "/v1/reports/usage", {}),
        ("levels-depth", "/v1/reports/levels", {"recipe": "depth"}),
    ):
        href = page.links[f"aitally-{name}.csv"]
        assert href.startswith("data:text/csv;charset=utf-8,")
        api_csv = fleet.admin("GET", f"{path}?{urlencode({**params, 'format': 'csv'})}").text
        assert unquote(href.split(",", 1)[1]) == api_csv, name
    assert {f"aitally-{n}.csv" for n in ("models", *(f"levels-{r}" for r in RECIPES))} <= set(
        page.links
    )


def test_page_is_self_contained_and_refuses_bad_filters(fleet: Server) -> None:
    assert fleet.http.get(fleet.url + "/dashboard").status_code == 401
    page = fleet.admin("GET", "/dashboard")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    html = page.text
    assert html.count("<svg") == 1 + len(RECIPES) and "<polyline" in html
    for external in ("<script", "src=", "@import", "url("):
        assert external not in html  # nothing to fetch
    hrefs = html.count("href=")
    assert hrefs == html.count('href="data:text/csv;') and hrefs >= 8  # only CSV downloads
    for bad, field in (("since=2026-13-01", "since"), ("granularity=day", "granularity")):
        r = fleet.admin("GET", f"/dashboard?{bad}")
        assert r.status_code == 400 and field in r.json()["error"], bad
    hostile = fleet.admin("GET", "/dashboard?tool=%3Cscript%3E&org_unit=%22%3E%3Cb%3E")
    assert (
        hostile.status_code == 200
        and "<script>" not in hostile.text
        and '"><b>' not in hostile.text
    )


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_screenshots_show_the_charts(fleet: Server) -> None:
    """The whole page, and the page filtered to one tool (copies kept in docs/screenshots)."""
    host = fleet.url.removeprefix("http://")
    base = f"http://admin:{ADMIN_TOKEN}@{host}/dashboard"
    shot = Path(screenshot(base, "central-dashboard", size="1200,2000"))
    width, height, counts = colours(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    assert counts[_rgb(PALETTE[1])] > 500, "adoption chart missing"  # first tool's line
    for level in ("heavy", "none", "suppressed"):
        assert counts[_rgb(LEVEL_COLORS[level])] > 200, f"level bars: {level}"
    picked = Path(
        screenshot(
            f"{base}?tool=claude-code&granularity=month", "central-dashboard-tool", size="1200,2000"
        )
    )
    assert colours(picked.read_bytes())[2][_rgb(LEVEL_COLORS["heavy"])] > 200


def test_effectiveness_people_are_adoption_people(fleet: Server) -> None:
    """Two tables on one page: their people never differ, so neither can be subtracted from
    the other, at any granularity."""
    for granularity in ("week", "month"):
        adoption = _api(fleet, "/v1/reports/adoption", granularity=granularity)
        effect = _api(fleet, "/v1/reports/effectiveness", granularity=granularity)
        people = {(r["period"], r["tool"], r["org_unit"]): r["people"] for r in effect["rows"]}
        active = {
            (r["period"], r["tool"], r["org_unit"]): r["active_users"] for r in adoption["rows"]
        }
        assert people == active and len(people) > 10


def test_empty_database_draws_notes_not_errors(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    try:
        for query in ("", "?granularity=month&since=2026-01-01&tool=codex&org_unit=eng"):
            page = server.admin("GET", f"/dashboard{query}")
            assert page.status_code == 200 and "No groups large enough to show" in page.text
            assert "<table" not in page.text  # nothing under k, so nothing at all
    finally:
        server.stop()
