"""The local store: WAL, migrations, corruption recovery, unwritable folders."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from aitally.core.errors import StoreError
from aitally.core.store import Store
from aitally.core.store.schema import MIGRATIONS
from tests.conftest import aitally_cmd


def test_wal_and_schema_version(tmp_path: Path) -> None:
    st = Store(tmp_path / "a.db")
    assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    st.close()
    Store(tmp_path / "a.db").close()  # reopening migrates nothing and keeps the version


def test_transaction_rolls_back_together(tmp_path: Path) -> None:
    st = Store(tmp_path / "a.db")
    with pytest.raises(RuntimeError), st.transaction() as c:
        st.kv_set("a", "1", c)
        raise RuntimeError("boom")
    assert st.kv_get("a") is None


def test_a_full_disk_names_itself_and_the_store_stays_usable(tmp_path: Path) -> None:
    # A store capped at its current size fails like a full disk; SQLite rolls back itself.
    st = Store(tmp_path / "a.db")
    pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
    st.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"), st.transaction() as c:
        for i in range(2000):
            st.kv_set(f"k{i}", "x" * 200, c)
    assert not st.conn.in_transaction
    st.conn.execute("PRAGMA max_page_count = 1000000")
    with st.transaction() as c:
        st.kv_set("a", "1", c)
    assert st.kv_get("a") == "1" and st.kv_get("k0") is None


def test_corrupt_store_is_moved_aside_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    st = Store(path)
    st.kv_set("x", "y")
    st.close()
    with path.open("r+b") as fh:  # wreck the header and the first pages
        fh.write(b"garbage" * 2000)
    # A reader (the CLI) only reports it: moving it under a running agent would lose data.
    with pytest.raises(StoreError, match=r"unreadable.*aitally run"):
        Store(path)
    assert path.exists() and not list(tmp_path.glob("a.db.corrupt-*"))
    fresh = Store(path, recover=True)  # the agent, at start
    assert fresh.kv_get("x") is None
    assert fresh.counters("store") == {"corrupt_moved_aside": 1}
    assert [p.name for p in tmp_path.glob("a.db.corrupt-*")]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this aitally"):
        Store(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; checked via a file below")
def test_unwritable_dir_raises(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    with pytest.raises(StoreError, match="not writable"):
        Store(d / "a.db")


def test_cli_unwritable_data_dir_exits_2_naming_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A regular file where the data folder should be: unwritable even for root.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("AITALLY_DATA_DIR", str(blocker / "data"))
    res = subprocess.run(aitally_cmd("run", "--once"), capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert str(blocker / "data") in res.stderr and len(res.stderr.strip().splitlines()) == 1
