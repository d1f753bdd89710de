"""The receiver fixture: a real loopback receiver on a free port with a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aitally.collectors.otlp import receiver as rx
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store


@pytest.fixture
def receiver(isolated_env: Path) -> Iterator[rx.OtlpCollector]:
    """A started receiver on a free port, writing to the agent's store in the data folder."""
    store = Store(isolated_env / "aitally.db")
    collector = rx.OtlpCollector(store, Sessionizer(store), 0, isolated_env)
    collector.start()
    yield collector
    collector.stop()
    store.close()
