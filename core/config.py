"""Layered TOML configuration: defaults < user file < environment < managed policy."""

from __future__ import annotations

import math
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitally.core import paths
from aitally.core.config_schema import PRIVACY_LEVELS, SCHEMA, TABLE_ARRAYS, Key
from aitally.core.errors import ConfigError
from aitally.core.tools import CatalogError, parse_tools

ENV_PREFIX = "AITALLY_"
# Variables that name files rather than configuration values, and the central ingest
# service's own namespace (it may run beside the agent, as `make run` does).
_NOT_SETTINGS = {"AITALLY_CONFIG", "AITALLY_DATA_DIR"}
_OTHER_PREFIXES = ("AITALLY_INGEST_",)


@dataclass
class Config:
    values: dict[str, dict[str, Any]]
    origins: dict[str, dict[str, str]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    managed_keys: set[str] = field(default_factory=set)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def section(self, section: str) -> dict[str, Any]:
        return dict(self.values[section])

    def is_managed(self, section: str, key: str) -> bool:
        return f"{section}.{key}" in self.managed_keys


def _check_value(origin: str, section: str, key: str, spec: Key, value: Any) -> Any:
    where = f"{origin}: {section}.{key}"
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, spec.type) and not (spec.type is not bool and isinstance(value, bool))
    if spec.type is list:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if spec.type is dict:
        ok = isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in value.values()
        )
    if ok and isinstance(value, float) and math.isnan(value):
        ok = False  # NaN passes every range check and would stall the scan loop
    if ok and spec.url and value and not value.startswith(("https://", "http://")):
        ok = False
    if ok and spec.type is dict and (spec.key_pattern or spec.item_pattern):
        ok = all(re.match(spec.key_pattern or "", k) for k in value) and all(
            re.match(spec.item_pattern or "", p) for v in value.values() for p in v
        )
    if ok and spec.choices and spec.type is list:
        ok = all(v in spec.choices for v in value)
    elif ok and spec.choices and value not in spec.choices:
        ok = False
    if ok and isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            ok = False
        if spec.maximum is not None and value > spec.maximum:
            ok = False
    if not ok:
        raise ConfigError(f"{where} = {value!r} is invalid: expected {spec.allowed()}")
    return value


def _stricter_allowed(cfg: Config, section: str, key: str, value: Any) -> bool:
    """An engineer may pick a stricter privacy level than the managed one, if IT allows it."""
    if (section, key) != ("privacy", "level") or not cfg.get("privacy", "allow_stricter"):
        return False
    current = cfg.get("privacy", "level")
    return bool(PRIVACY_LEVELS.index(value) > PRIVACY_LEVELS.index(current))


def _apply(cfg: Config, origin: str, data: Mapping[str, Any], *, managed: bool = False) -> None:
    for section, table in data.items():
        if section in TABLE_ARRAYS:
            if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
                raise ConfigError(f"{origin}: [[{section}]] must be an array of tables")
            cfg.tools.extend(dict(t, _origin=origin) for t in table)
            continue
        if section not in SCHEMA:
            known = ", ".join(sorted([*SCHEMA, *TABLE_ARRAYS]))
            raise ConfigError(f"{origin}: unknown section [{section}]; known sections: {known}")
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        for key, value in table.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                known = ", ".join(sorted(SCHEMA[section]))
                raise ConfigError(f"{origin}: unknown key {section}.{key}; known keys: {known}")
            value = _check_value(origin, section, key, spec, value)
            if (
                not managed
                and cfg.is_managed(section, key)
                and not _stricter_allowed(cfg, section, key, value)
            ):
                continue  # managed policy always wins, whatever the layer order
            cfg.values[section][key] = value
            cfg.origins[section][key] = origin
            if managed:
                cfg.managed_keys.add(f"{section}.{key}")


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except PermissionError:
        raise ConfigError(f"{path}: cannot be read (permission denied); fix its mode") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML (not UTF-8 text); fix the file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; it must be a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _parse_env(name: str, spec: Key, raw: str) -> Any:
    if spec.type is bool:
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        return raw
    if spec.type in (int, float):
        try:
            return spec.type(raw)
        except ValueError:
            return raw
    if spec.type is list:
        return [p.strip() for p in raw.split(",") if p.strip()]
    if spec.type is dict:
        return raw  # tables are not settable from the environment; rejected by the check
    return raw


def env_name(section: str, key: str) -> str:
    """The environment variable that sets `section.key`, e.g. AITALLY_UPLOAD_ENDPOINT."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


def env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """AITALLY_<SECTION>_<KEY> variables, e.g. AITALLY_UPLOAD_ENDPOINT."""
    out: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        if name.startswith(_OTHER_PREFIXES):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        for section, keys in SCHEMA.items():
            if rest.startswith(section + "_") and rest[len(section) + 1 :] in keys:
                key = rest[len(section) + 1 :]
                out.setdefault(section, {})[key] = _parse_env(name, keys[key], raw)
                break
        else:
            raise ConfigError(
                f"environment: {name} is not a setting; use AITALLY_<SECTION>_<KEY>, "
                "e.g. AITALLY_UPLOAD_ENDPOINT"
            )
    return out


ManagedReader = Callable[[], list[tuple[str, dict[str, Any]]]]


def _read_secret(path: Path) -> dict[str, Any] | None:
    """The baked enroll secret as a policy layer; None when absent or not ours to read."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        # Absent (no fleet package), or this user is outside the group that may read it.
        return None
    return {"upload": {"enroll_secret": text}} if text else None


def platform_managed_layers() -> list[tuple[str, dict[str, Any]]]:
    """The managed TOML file, plus the OS's native policy store where it has one."""
    layers: list[tuple[str, dict[str, Any]]] = []
    path = paths.managed_policy_file()
    data = _read_toml(path)
    if data is not None:
        layers.append((f"managed policy {path}", data))
    secret = _read_secret(paths.managed_enroll_secret_file())
    if secret:
        layers.append((f"managed enroll secret {paths.managed_enroll_secret_file()}", secret))
    if sys.platform in ("darwin", "win32"):
        from aitally.core import native_policy  # imported only on that OS

        layers.extend(native_policy.read())
    return layers


def load(
    *,
    user_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    managed: ManagedReader = platform_managed_layers,
) -> Config:
    cfg = Config(
        values={s: {k: spec.default for k, spec in keys.items()} for s, keys in SCHEMA.items()},
        origins={s: dict.fromkeys(keys, "default") for s, keys in SCHEMA.items()},
    )
    # Managed first, marked, so that lower layers can be validated yet never override it.
    for origin, data in managed():
        _apply(cfg, origin, data, managed=True)
    path = user_file if user_file is not None else paths.user_config_file()
    user = _read_toml(path)
    if user is None and user_file is not None:
        raise ConfigError(f"{path}: no such file; create it or unset AITALLY_CONFIG")
    if user is not None:
        _apply(cfg, str(path), user)
    _apply(cfg, "environment", env_layer(os.environ if environ is None else environ))
    try:  # here, not only when the agent builds its catalog: `config show` and doctor see it too
        parse_tools(cfg.tools, "configuration")
    except CatalogError as exc:
        raise ConfigError(f"{exc}; see [[tools]] in the README") from None
    return cfg


def load_default() -> Config:
    """The configuration the CLI and the daemon use."""
    explicit = os.environ.get("AITALLY_CONFIG")
    return load(user_file=Path(explicit) if explicit else None)
