"""The upload thread inside the agent: it sends under the policy in force at each pass."""

from __future__ import annotations

import os
import time
from pathlib import Path

from aitally.uploader.service import UploadService
from tests.uploader.helpers import make_segments, open_store, receiver, upload_config, write_config


def test_a_tightened_level_applies_without_a_restart() -> None:
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        service = UploadService(cfg, Path(store.path))
        # The engineer picks a stricter level while the agent runs; preview shows it at once.
        text = Path(os.environ["AITALLY_CONFIG"]).read_text()
        write_config(text + '\n[privacy]\nlevel = "anonymous"\n')
        ids = make_segments(store, 3)
        service.start()
        service.step(time.time())
        service.step(time.time())
        deadline = time.monotonic() + 10
        while len(server.records) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        service.stop()
        store.close()
        assert sorted(server.records) == sorted(ids)
        assert all(r["user"] is None and r["device"] is None for r in server.records.values())
        assert all(r["started_at"].endswith("T00:00:00Z") for r in server.records.values())
