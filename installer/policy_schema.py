"""The one published managed-policy schema, generated from the configuration SCHEMA."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aitally.core import config
from aitally.core.config_schema import SCHEMA, TABLE_ARRAYS, Key
from aitally.core.native_policy import POLICY_DOMAIN, REGISTRY_KEY

SCHEMA_ID = "aitally.managed-policy.v1"

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def key_schema(spec: Key) -> dict[str, Any]:
    out: dict[str, Any] = {"description": spec.help, "default": spec.default}
    if spec.type is list:
        out.update(type="array", items={"type": "string"})
    elif spec.type is dict:
        out.update(
            type="object", additionalProperties={"type": "array", "items": {"type": "string"}}
        )
    else:
        out["type"] = _JSON_TYPES[spec.type]
    if spec.choices:
        out["enum"] = list(spec.choices)
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a managed policy: sections of keys, nothing else."""
    props: dict[str, Any] = {
        section: {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: key_schema(spec) for key, spec in keys.items()},
        }
        for section, keys in SCHEMA.items()
    }
    for name in TABLE_ARRAYS:
        props[name] = {
            "type": "array",
            "items": {"type": "object"},
            "description": "extra tool catalog entries, validated like collectors/catalog.toml",
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "aitally managed policy",
        "description": "Keys IT enforces; delivered as managed.toml, a macOS preference domain "
        f"({POLICY_DOMAIN}) or HKLM\\{REGISTRY_KEY}. A key set here cannot be overridden.",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def validate(origin: str, data: dict[str, Any]) -> None:
    """Raises ConfigError naming the first bad section, key or value, exactly as the agent would."""
    config.load(user_file=Path(os.devnull), environ={}, managed=lambda: [(origin, data)])


def all_keys() -> list[tuple[str, str, Key]]:
    return [(section, key, spec) for section, keys in SCHEMA.items() for key, spec in keys.items()]
