"""The data folder and the store are private whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

from aitally.core.store.connection import Store


def test_data_folder_0700_and_store_files_0600_under_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        folder = tmp_path / "data"
        store = Store(folder / "aitally.db")
        store.kv_set("device_secret_probe", "x")
        store.conn.close()
        # A store left 0644 by an older version is tightened on open.
        (folder / "aitally.db").chmod(0o644)
        Store(folder / "aitally.db").conn.close()
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o700
    for f in folder.iterdir():
        assert f.stat().st_mode & 0o077 == 0, f"{f.name} is readable by others"
