"""History databases in the browsers' own schemas, built by the tests (Chromium, Firefox, Safari).

The tables carry the columns the real browsers have (titles, typed counts, ...), so a test can
plant marker strings where a careless reader would pick them up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT,url INTEGER NOT NULL,
  visit_time INTEGER NOT NULL,from_visit INTEGER,external_referrer_url TEXT,
  transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL,
  incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,opener_visit INTEGER,
  originator_cache_guid TEXT,originator_visit_id INTEGER,originator_from_visit INTEGER,
  originator_opener_visit INTEGER,is_known_to_sync BOOLEAN DEFAULT FALSE NOT NULL,
  consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,
  visited_link_id INTEGER DEFAULT 0 NOT NULL,app_id TEXT);
CREATE INDEX visits_time_index ON visits (visit_time);
CREATE TABLE visit_source(id INTEGER PRIMARY KEY,source INTEGER NOT NULL);
CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,
  term LONGVARCHAR NOT NULL,normalized_term LONGVARCHAR NOT NULL);
"""

FIREFOX_SCHEMA = """
CREATE TABLE moz_origins (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL,
  frecency INTEGER NOT NULL, UNIQUE (prefix, host));
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
  rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,
  typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL,
  last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,
  url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT,
  site_name TEXT, origin_id INTEGER REFERENCES moz_origins(id));
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER,
  place_id INTEGER, visit_date INTEGER, visit_type INTEGER, session INTEGER,
  source INTEGER DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER);
CREATE INDEX moz_historyvisits_dateindex ON moz_historyvisits (visit_date);
CREATE TABLE moz_inputhistory (place_id INTEGER NOT NULL, input LONGVARCHAR NOT NULL,
  use_count INTEGER, PRIMARY KEY (place_id, input));
"""

SAFARI_SCHEMA = """
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT,url TEXT NOT NULL UNIQUE,
  domain_expansion TEXT NULL,visit_count INTEGER NOT NULL,daily_visit_counts BLOB NOT NULL,
  weekly_visit_counts BLOB NULL,autocomplete_triggers BLOB NULL,
  should_recompute_derived_visit_counts INTEGER NOT NULL,visit_count_score INTEGER NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,
  history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE,
  visit_time REAL NOT NULL,title TEXT NULL,load_successful BOOLEAN NOT NULL DEFAULT 1,
  http_non_get BOOLEAN NOT NULL DEFAULT 0,synthesized BOOLEAN NOT NULL DEFAULT 0,
  redirect_source INTEGER NULL UNIQUE,redirect_destination INTEGER NULL UNIQUE,
  origin INTEGER NOT NULL DEFAULT 0,generation INTEGER NOT NULL DEFAULT 0,
  attributes INTEGER NOT NULL DEFAULT 0,score INTEGER NOT NULL DEFAULT 0);
CREATE INDEX history_visits__last_visit ON history_visits (visit_time);
"""


@dataclass(frozen=True, slots=True)
class V:
    """A visit to plant: URL (with whatever path, query and title), epoch seconds, duration,
    and whether it came from another device."""

    url: str
    at: float
    duration: float = 0.0
    synced: bool = False
    title: str = ""


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
        conn.executescript(schema)
    return conn


def chromium(path: Path, visits: Iterable[V], *, wal: bool = False) -> Path:
    """Adds visits to a Chromium `History` (created when missing)."""
    conn = _connect(path, CHROMIUM_SCHEMA)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        for v in visits:
            micro = int((v.at + 11_644_473_600) * 1e6)
            cur = conn.execute(
                "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES (?, ?, 1, ?)",
                (v.url, v.title, micro),
            )
            vid = conn.execute(
                "INSERT INTO visits(url, visit_time, transition, visit_duration,"
                " originator_cache_guid) VALUES (?, ?, 805306368, ?, ?)",
                (cur.lastrowid, micro, int(v.duration * 1e6), "remote-guid" if v.synced else ""),
            ).lastrowid
            if v.synced:
                conn.execute("INSERT INTO visit_source(id, source) VALUES (?, 0)", (vid,))
            conn.execute(
                "INSERT INTO keyword_search_terms VALUES (1, ?, ?, ?)",
                (cur.lastrowid, v.title, v.title),
            )
    conn.close()
    return path


def firefox(path: Path, visits: Iterable[V]) -> Path:
    """Adds visits to a Firefox `places.sqlite` (created when missing, in WAL mode)."""
    from urllib.parse import urlsplit

    conn = _connect(path, FIREFOX_SCHEMA)
    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        for v in visits:
            host = urlsplit(v.url).hostname or ""
            place = conn.execute(
                "INSERT INTO moz_places(url, title, rev_host, visit_count) VALUES (?, ?, ?, 1)",
                (v.url, v.title, host[::-1] + "."),
            ).lastrowid
            conn.execute(
                "INSERT INTO moz_historyvisits(place_id, visit_date, visit_type, source)"
                " VALUES (?, ?, 1, ?)",
                (place, int(v.at * 1e6), 4 if v.synced else 0),
            )
            conn.execute("INSERT INTO moz_inputhistory VALUES (?, ?, 1)", (place, v.title))
    conn.close()
    return path


def safari(path: Path, visits: Iterable[V]) -> Path:
    """Adds visits to a Safari `History.db` (created when missing)."""
    conn = _connect(path, SAFARI_SCHEMA)
    with conn:
        for v in visits:
            conn.execute(
                "INSERT OR IGNORE INTO history_items(url, visit_count, daily_visit_counts,"
                " should_recompute_derived_visit_counts, visit_count_score)"
                " VALUES (?, 1, x'00', 0, 0)",
                (v.url,),
            )
            item = conn.execute("SELECT id FROM history_items WHERE url = ?", (v.url,)).fetchone()[
                0
            ]
            conn.execute(
                "INSERT INTO history_visits(history_item, visit_time, title, origin)"
                " VALUES (?, ?, ?, ?)",
                (item, v.at - 978_307_200, v.title, 1 if v.synced else 0),
            )
    conn.close()
    return path
