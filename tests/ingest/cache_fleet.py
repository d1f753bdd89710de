"""A fleet database for the report cache's tests: seeded records up to the end of this ISO
week (fleet_db), uploads stored in process with the time they arrive, and every answer a
dashboard shows, read through a CachedReports."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aitally.ingest.auth import new_device, token_hash
from aitally.ingest.identity import Enrollment, KeyRing, attribute, owner_tags
from aitally.ingest.levels import RECIPES
from aitally.ingest.report_cache import PERIOD_REPORTS, CachedReports
from aitally.ingest.storage import Storage, Upload
from aitally.ingest.wire import parse_batch
from tests.ingest import fleet_db
from tests.ingest.builders import batch

PEOPLE = 120
WEEKS = 14
HOURS = (10.0, 4.0, 1.0)
KEYS = KeyRing((("k1", b"s" * 40),))


def fill(storage: Storage) -> None:
    """PEOPLE people over the WEEKS weeks up to yesterday (received the same day, so
    never after now)."""
    fleet_db.fill(storage, PEOPLE, weeks=WEEKS, end=dt.datetime.now(dt.UTC).date())


def person(index: int) -> str:
    """The stored person value of the fleet's index-th person."""
    return f"hmac:k1:{index:032x}"


@contextmanager
def uploading(storage: Storage, who: str, records: list[dict[str, Any]]) -> Iterator[Upload]:
    """One upload of records by a new device of person `who`, stored with the time it arrives;
    its transaction commits when the block ends."""
    device_id, token = new_device()
    enrollment = Enrollment(device_id, who, "pseudonymous", "eng", None)
    storage.enroll(enrollment, token_hash(token), "t", "0.1", time.time())
    now = time.time()
    parsed = parse_batch(batch(records), now)
    who_of = [attribute(KEYS, enrollment, "pseudonymous", parsed.batch_id, now)] * len(records)
    with storage.upload(token_hash(token)) as upload:
        upload.store(parsed, who_of, owner_tags(KEYS, device_id), now)
        yield upload


def upload(storage: Storage, who: str, records: list[dict[str, Any]]) -> None:
    """As uploading, committed."""
    with uploading(storage, who, records):
        pass


def every_answer(cache: CachedReports, k: int) -> dict[str, str]:
    """Every report over its default window and every levels recipe, as JSON without as_of."""
    out = {}
    for name, (_, granularities) in PERIOD_REPORTS.items():
        for g in granularities:
            doc = cache.period_report(name, g, None, None, k)
            out[f"{name}/{g}"] = json.dumps({**doc, "as_of": None})
    for recipe in RECIPES:
        out[f"levels/{recipe}"] = json.dumps({**cache.levels(recipe, None, None, k), "as_of": None})
    return out
