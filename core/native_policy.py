"""Managed policy from the OS's own channel: macOS managed preferences, Windows HKLM Policies.

core/config.py imports this module only on macOS and Windows; the readers of the raw
data (`from_plist`, `from_registry`) are plain functions so every OS can test them.
"""

from __future__ import annotations

import getpass
import importlib
import plistlib
import sys
from pathlib import Path
from typing import Any

from aitally.core.config_schema import SCHEMA, TABLE_ARRAYS

# Where the managed configuration keys arrive through each OS's native channel.
POLICY_DOMAIN = "org.aitally.agent"  # macOS managed preference domain (Jamf/Kandji)
REGISTRY_KEY = r"SOFTWARE\Policies\aitally"  # Windows; one subkey per section
MANAGED_PREFERENCES = Path("/Library/Managed Preferences")
Layer = tuple[str, dict[str, Any]]


def read() -> list[Layer]:
    """(origin, {section: {key: value}}) layers, later ones winning."""
    if sys.platform == "darwin":
        return read_managed_preferences(MANAGED_PREFERENCES, getpass.getuser())
    if sys.platform == "win32":
        tree = _registry_tree(REGISTRY_KEY)
        return [(f"managed policy HKLM\\{REGISTRY_KEY}", from_registry(tree))] if tree else []
    return []


def from_plist(data: dict[str, Any]) -> dict[str, Any]:
    """Drops the bookkeeping keys MDM tools add to a preference file; keeps everything else,
    so a misspelt section still reaches validation and is reported, not silently ignored."""
    return {k: v for k, v in data.items() if not k.startswith(("_", "Payload"))}


def read_managed_preferences(base: Path, user: str) -> list[Layer]:
    """Device-wide file first, then the user's, which outranks it (as macOS resolves them).

    Only these root-owned files are read, never ~/Library/Preferences: a user's own
    defaults must not pass for policy.
    """
    layers: list[Layer] = []
    for path in (base / f"{POLICY_DOMAIN}.plist", base / user / f"{POLICY_DOMAIN}.plist"):
        try:
            with path.open("rb") as fh:
                data = plistlib.load(fh)
        except FileNotFoundError:
            continue
        except (OSError, plistlib.InvalidFileException, ValueError) as exc:
            from aitally.core.errors import ConfigError

            raise ConfigError(f"managed preferences {path}: unreadable ({exc})") from None
        if isinstance(data, dict):
            layers.append((f"managed preferences {path}", from_plist(data)))
    return layers


def _typed(spec_type: type, raw: Any) -> Any:
    """A registry value as the schema's type; left raw when it does not convert, so the
    configuration check reports it with the key's name."""
    try:
        if spec_type is bool:
            if isinstance(raw, int):
                return raw != 0
            low = str(raw).strip().lower()
            return {"true": True, "1": True, "false": False, "0": False}.get(low, raw)
        if spec_type is int:
            return int(raw)
        if spec_type is float:
            return float(raw)
    except (TypeError, ValueError):
        return raw
    return raw


def from_registry(tree: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """{relative subkey: {value name: data}} -> {section: {key: value}} (layout in admx.py)."""
    out: dict[str, Any] = {}
    for subkey, values in tree.items():
        parts = subkey.split("\\")
        section = parts[0]
        if section in TABLE_ARRAYS:
            continue  # catalog entries are a TOML-file feature
        keys = SCHEMA.get(section)
        if keys is None:
            out.setdefault(section, {}).update(values)  # reported by validation
            continue
        if len(parts) == 2:
            spec = keys.get(parts[1])
            if spec is not None and spec.type is dict:
                out.setdefault(section, {})[parts[1]] = {
                    name: [p for p in str(v).split(";") if p] for name, v in values.items()
                }
            else:
                out.setdefault(section, {})[parts[1]] = [
                    str(values[n]) for n in sorted(values, key=lambda n: (len(n), n))
                ]
            continue
        for name, raw in values.items():
            spec = keys.get(name)
            out.setdefault(section, {})[name] = _typed(spec.type, raw) if spec else raw
    return out


def _registry_tree(path: str) -> dict[str, dict[str, Any]]:
    winreg = registry()

    tree: dict[str, dict[str, Any]] = {}

    def walk(rel: str) -> None:
        full = f"{path}\\{rel}" if rel else path
        try:
            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, full)
        except OSError:
            return
        with key:
            n_keys, n_values, _ = winreg.QueryInfoKey(key)
            if rel:
                tree[rel] = {
                    winreg.EnumValue(key, i)[0]: winreg.EnumValue(key, i)[1]
                    for i in range(n_values)
                }
            children = [winreg.EnumKey(key, i) for i in range(n_keys)]
        for child in children:
            walk(f"{rel}\\{child}" if rel else child)

    walk("")
    return tree


def registry() -> Any:
    """The stdlib `winreg` module (Windows only; typeshed hides it from type checks elsewhere)."""
    return importlib.import_module("winreg")
