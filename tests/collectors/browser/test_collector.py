"""The browser collector on history databases in each browser's schema: web sessions of the
right tools, synced and non-AI visits ignored, nothing of a URL beyond its host kept."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitally.agent.reports import sessions
from aitally.collectors.browser import collector as browser
from aitally.collectors.browser import profiles
from aitally.core import config
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store, positions
from tests.collectors.browser import histories
from tests.collectors.browser.histories import V

MARK = "QZXMARK"
NOW = time.time()
BASE = NOW - 3 * 3600


def planted(base: float = BASE) -> list[V]:
    """Two ChatGPT visits, one Claude, a non-AI host, and a Gemini visit from another device;
    markers in every path, query, fragment and title."""
    tail = f"{MARK}-path?q={MARK}-query#{MARK}-fragment"
    return [
        V(f"https://chatgpt.com/c/{tail}", base, 120, title=f"{MARK}-title"),
        V(f"https://news.example.org/{tail}", base + 50, 300, title=f"{MARK}-title"),
        V(f"https://claude.ai/chat/{tail}", base + 100, 0, title=f"{MARK}-title"),
        V(f"https://chatgpt.com/c/{tail}", base + 200, 60, title=f"{MARK}-title"),
        V(f"https://gemini.google.com/app/{tail}", base + 300, 30, synced=True, title=MARK),
    ]


class Agent:
    """The real store, sessionizer and collector, with a configuration file of the test's."""

    def __init__(self, tmp: Path, cfg_text: str, managed: dict[str, object] | None = None) -> None:
        path = Path(os.environ["AITALLY_CONFIG"])
        path.write_text(cfg_text)
        layers = [("managed policy (test)", managed)] if managed else []
        self.cfg = config.load(user_file=path, managed=lambda: layers)
        self.store = Store(tmp / "data" / "aitally.db")
        self.sessionizer = Sessionizer(self.store)
        self.collector = browser.create(self.cfg, self.store, self.sessionizer)

    def poll(self, now: float = NOW) -> None:
        assert self.collector is not None
        self.collector.poll(now)

    def segments(self) -> list[dict[str, object]]:
        return sorted(sessions(self.store.conn), key=lambda s: (str(s["tool"]), s["started_at"]))


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for a in made:
        a.store.close()


def roots(browser_name: str, folder: Path) -> str:
    return f'[browser]\nextra_roots = {{ {browser_name} = ["{folder}"] }}\n'


def assert_no_content(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            assert MARK.encode() not in p.read_bytes(), p
            assert b"news.example.org" not in p.read_bytes(), p


@pytest.mark.parametrize(
    ("name", "build", "db_name", "chatgpt_active"),
    [
        # Chromium: 120 s + the gap to the next visit (80 s) + its 60 s duration.
        ("chromium", histories.chromium, "History", 260.0),
        # Firefox and Safari record no duration: the gap between the two visits.
        ("firefox", histories.firefox, "places.sqlite", 200.0),
        ("safari", histories.safari, "History.db", 200.0),
    ],
)
def test_visits_become_web_sessions(
    tmp_path: Path,
    agents: list[Agent],
    name: str,
    build: object,
    db_name: str,
    chatgpt_active: float,
) -> None:
    profile = tmp_path / "browser" / "Default"
    build(profile / db_name, planted())  # type: ignore[operator]
    agent = Agent(tmp_path, roots(name, profile.parent))
    agents.append(agent)
    agent.poll()
    segs = agent.segments()
    assert [(s["tool"], s["surface"], s["signals"]) for s in segs] == [
        ("chatgpt-web", "web", ["history"]),
        ("claude-web", "web", ["history"]),
    ]
    assert segs[0]["active_seconds"] == chatgpt_active
    assert segs[1]["active_seconds"] == 0
    assert agent.store.counters("browser_visits") == {name: 3}
    # Read again: nothing counted twice.
    agent.collector.seen.clear()  # type: ignore[union-attr]
    agent.poll(NOW + 1)
    assert agent.segments() == segs
    # New visits: only they are read, from the saved position.
    build(profile / db_name, [V("https://perplexity.ai/search/x", NOW - 60, 30)])  # type: ignore[operator]
    agent.poll(NOW + 2)
    assert [s["tool"] for s in agent.segments()] == ["chatgpt-web", "claude-web", "perplexity-web"]
    saved = positions.load_positions(agent.store.conn, positions.BROWSER_PREFIX)
    assert [(p.tool, json.loads(p.state or "")["id"]) for p in saved] == [(f"browser:{name}", 6)]
    agent.store.close()
    assert_no_content(tmp_path / "data")


def test_history_is_read_while_the_browser_holds_it_locked(
    tmp_path: Path, agents: list[Agent]
) -> None:
    db = histories.chromium(tmp_path / "chrome" / "Default" / "History", planted(), wal=True)
    holder = sqlite3.connect(db)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta VALUES ('held', '1')")
    try:
        agent = Agent(tmp_path, roots("chrome", db.parent.parent))
        agents.append(agent)
        agent.poll()
        assert [s["tool"] for s in agent.segments()] == ["chatgpt-web", "claude-web"]
        # Nothing was created beside the browser's files (the copy lives in a private folder).
        assert {p.name for p in db.parent.iterdir()} <= {"History", "History-wal", "History-shm"}
    finally:
        holder.rollback()
        holder.close()


def test_a_visit_still_on_screen_waits_for_its_duration(
    tmp_path: Path, agents: list[Agent]
) -> None:
    db = tmp_path / "chromium" / "Default" / "History"
    histories.chromium(db, [V("https://claude.ai/chat/1", NOW - 60, 0)])
    agent = Agent(tmp_path, roots("chromium", db.parent.parent))
    agents.append(agent)
    agent.poll()
    assert agent.segments() == []
    agent.poll(NOW + browser.MAX_VISIT)  # the tab may have stayed: read, as a point
    assert [s["tool"] for s in agent.segments()] == ["claude-web"]


def test_a_long_visit_is_capped(tmp_path: Path, agents: list[Agent]) -> None:
    db = tmp_path / "chromium" / "Default" / "History"
    histories.chromium(db, [V("https://chatgpt.com/", BASE, 8 * 3600)])  # open all night
    agent = Agent(tmp_path, roots("chromium", db.parent.parent))
    agents.append(agent)
    agent.poll()
    assert [s["active_seconds"] for s in agent.segments()] == [browser.MAX_VISIT]


def test_policy_turns_it_off_or_restricts_browsers(tmp_path: Path, agents: list[Agent]) -> None:
    db = histories.chromium(tmp_path / "chrome" / "Default" / "History", planted())
    off = Agent(tmp_path, roots("chrome", db.parent.parent), {"browser": {"enabled": False}})
    agents.append(off)
    assert off.collector is None
    only_firefox = Agent(
        tmp_path, roots("chrome", db.parent.parent), {"browser": {"browsers": ["firefox"]}}
    )
    agents.append(only_firefox)
    only_firefox.poll()
    assert only_firefox.segments() == []


def test_internal_portals_from_configuration(tmp_path: Path, agents: list[Agent]) -> None:
    db = tmp_path / "edge" / "Default" / "History"
    histories.chromium(db, [V(f"https://ai.acme.internal/{MARK}", BASE, 30)])
    text = roots("edge", db.parent.parent) + 'extra_hosts = { acme-ai = ["ai.acme.internal"] }\n'
    agent = Agent(tmp_path, text)
    agents.append(agent)
    agent.poll()
    assert [(s["tool"], s["surface"]) for s in agent.segments()] == [("acme-ai", "web")]


def test_bad_histories_are_counted_and_skipped(tmp_path: Path, agents: list[Agent]) -> None:
    data = tmp_path / "chrome"
    (data / "Corrupt").mkdir(parents=True)
    (data / "Corrupt" / "History").write_bytes(b"not a database " * 1000)
    (data / "Fifo").mkdir()
    os.mkfifo(data / "Fifo" / "History")
    histories.chromium(data / "Good" / "History", planted())
    agent = Agent(tmp_path, roots("chrome", data))
    agents.append(agent)
    started = time.monotonic()
    agent.poll()
    assert time.monotonic() - started < 10  # the FIFO was never opened for reading
    assert [s["tool"] for s in agent.segments()] == ["chatgpt-web", "claude-web"]
    assert agent.store.counters("browser_skipped") == {
        "chrome/unreadable": 1,
        "chrome/not_a_file": 1,
    }


def test_profiles_per_platform(tmp_path: Path) -> None:
    home = tmp_path / "h"
    env = {"HOME": str(home), "LOCALAPPDATA": str(home / "L"), "APPDATA": str(home / "R")}
    places = {
        "linux": [
            (".config/google-chrome/Default/History", "chrome"),
            (".config/BraveSoftware/Brave-Browser/Profile 1/History", "brave"),
            ("snap/chromium/common/chromium/Default/History", "chromium"),
            (".mozilla/firefox/ab12.default-release/places.sqlite", "firefox"),
        ],
        "darwin": [
            ("Library/Application Support/Microsoft Edge/Default/History", "edge"),
            ("Library/Application Support/Firefox/Profiles/x.default/places.sqlite", "firefox"),
            ("Library/Safari/History.db", "safari"),
        ],
        "win32": [
            ("L/Vivaldi/User Data/Default/History", "vivaldi"),
            ("R/Mozilla/Firefox/Profiles/y.default/places.sqlite", "firefox"),
        ],
    }
    for platform, files in places.items():
        for rel, _ in files:
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).touch()
        found = profiles.find(profiles.ENGINES, {}, env, platform)
        assert sorted((p.browser, str(p.db)) for p in found) == sorted(
            (b, str(home / rel)) for rel, b in files
        ), platform
        for rel, _ in files:
            (home / rel).unlink()
