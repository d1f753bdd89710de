"""Upload drain rate to the real ingest service on loopback, and bytes per record on the wire."""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aitally.core import config, paths  # noqa: E402
from aitally.core.store import Store  # noqa: E402
from aitally.uploader import credentials, records, sinks  # noqa: E402
from aitally.uploader.delivery import Delivery, health, select_batch  # noqa: E402
from tests.uploader.helpers import make_segments  # noqa: E402
from tests.uploader.ingest_proc import ingest  # noqa: E402

RECORDS = 20_000


def baseline(url: str, token: str, template: list[records.Record], batches: int) -> float:
    """Records/s for bare POSTs of pre-encoded 500-record batches: the ingest's own ceiling."""
    session = requests.Session()
    bodies = []
    for _ in range(batches):
        recs = [dict(r, record_id=str(uuid.uuid4())) for r in template]
        bodies.append((records.batch_id(recs), gzip.compress(records.body(recs, {}, time.time()))))
    start = time.perf_counter()
    for _, wire in bodies:
        resp = session.post(
            f"{url}/v1/batches",
            data=wire,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
            timeout=60,
        )
        resp.raise_for_status()
    return batches * len(template) / (time.perf_counter() - start)


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AITALLY_DATA_DIR"] = str(Path(tmp) / "data")
        cfg_file = Path(tmp) / "config.toml"
        with ingest(Path(tmp)) as server:
            token = server.enroll()
            credentials.set_token(token)
            cfg_file.write_text(f'[upload]\nendpoint = "{server.url}"\n')
            cfg = config.load(user_file=cfg_file, managed=lambda: [])
            store = Store(paths.store_file())
            make_segments(store, RECORDS, project="/home/dev/src/project")
            template = select_batch(cfg, store, time.time(), claim=False)
            raw_per_record = (len(records.body(template, health(store), time.time()))) / len(
                template
            )
            base = baseline(server.url, token, template, RECORDS // len(template) // 4)
            targets = sinks.make_sinks(cfg)
            start = time.perf_counter()
            result = Delivery(cfg, store, targets).run()
            elapsed = time.perf_counter() - start
            wire = sum(s.bytes_sent for s in targets)
            assert result.acked == RECORDS, result
            assert len(server.record_ids()) >= RECORDS
            store.close()
    rate = RECORDS / elapsed
    figures: dict[str, object] = {
        "records": RECORDS,
        "drain_records_per_s": round(rate),
        "baseline_bare_post_records_per_s": round(base),
        "ratio_to_bare_post": round(rate / base, 2),
        "wire_bytes_per_record_gzip": round(wire / RECORDS, 1),
        "json_bytes_per_record": round(raw_per_record, 1),
        "batches": result.batches,
    }
    for k, v in figures.items():
        print(f"{k:36} {v}")
    return figures


if __name__ == "__main__":
    main()
