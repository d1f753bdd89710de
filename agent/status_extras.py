"""Extra `status` fields contributed by optional parts (uploader, collectors), if installed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from aitally.core.config import Config
from aitally.core.store import Store

# Each provider returns a dict merged into `aitally status --json`.
PROVIDERS = [
    "aitally.uploader.status:status_fields",
    "aitally.collectors.files.status:status_fields",
]


def collect(cfg: Config, store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PROVIDERS:
        module, _, attr = name.partition(":")
        try:
            fn: Callable[[Config, Store], dict[str, Any]] = getattr(
                importlib.import_module(module), attr
            )
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                continue
            raise
        out.update(fn(cfg, store))
    return out
