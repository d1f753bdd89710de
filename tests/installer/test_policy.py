"""One schema, every channel: each SCHEMA key reaches every template and reads back the same."""

from __future__ import annotations

import json
import plistlib
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from aitally.core import native_policy
from aitally.core.config_schema import SCHEMA
from aitally.core.errors import ConfigError
from aitally.core.native_policy import POLICY_DOMAIN, REGISTRY_KEY
from aitally.installer import admx, templates
from aitally.installer.policy_schema import json_schema, validate
from tests.conftest import aitally_cmd

ALL_KEYS = [(s, k) for s, keys in SCHEMA.items() for k in keys]
ADMX_NS = {"p": admx.NS}


def test_json_schema_lists_every_key_with_its_type() -> None:
    schema = json_schema()
    for section, key in ALL_KEYS:
        prop = schema["properties"][section]["properties"][key]
        assert prop["default"] == SCHEMA[section][key].default
        assert prop["type"] in ("boolean", "integer", "number", "string", "array", "object")
    assert schema["properties"]["privacy"]["properties"]["level"]["enum"][0] == "identified"


def test_toml_template_has_every_key_and_uncommented_is_a_valid_policy() -> None:
    text = templates.toml_template()
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and " = " in line else line for line in text.splitlines()
    )
    data = tomllib.loads(uncommented)
    assert {(s, k) for s, t in data.items() for k in t} == set(ALL_KEYS)
    assert data == templates.defaults()
    validate("template", data)
    assert tomllib.loads(text) == {s: {} for s in SCHEMA}  # as shipped it enforces nothing


def test_mobileconfig_is_a_profile_forcing_every_key() -> None:
    profile = plistlib.loads(templates.mobileconfig())
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    inner = profile["PayloadContent"][0]
    assert inner["PayloadType"] == "com.apple.ManagedClient.preferences"
    settings = inner["PayloadContent"][POLICY_DOMAIN]["Forced"][0]["mcx_preference_settings"]
    for section, key in ALL_KEYS:
        value = settings[section][key]
        assert type(value) is type(SCHEMA[section][key].default), (section, key)
    for payload in (profile, inner):
        assert len(payload["PayloadUUID"]) == 36 and payload["PayloadIdentifier"]
    # The same settings, read back the way native_policy reads the managed preference file.
    validate("mobileconfig", native_policy.from_plist(settings))


def _policies() -> list[ET.Element]:
    return ET.fromstring(admx.admx()).findall("p:policies/p:policy", ADMX_NS)


def test_admx_has_a_policy_for_every_key_and_adml_defines_every_reference() -> None:
    policies = _policies()
    assert {p.get("name") for p in policies} == {admx.policy_name(s, k) for s, k in ALL_KEYS}
    adml = ET.fromstring(admx.adml())
    strings = {e.get("id") for e in adml.iter(f"{{{admx.NS}}}string")}
    presentations = {e.get("id") for e in adml.iter(f"{{{admx.NS}}}presentation")}
    for el in ET.fromstring(admx.admx()).iter():
        for value in el.attrib.values():
            if value.startswith("$(string."):
                assert value[9:-1] in strings, value
            if value.startswith("$(presentation."):
                assert value[15:-1] in presentations, value
    for p in policies:
        assert p.get("key", "").startswith(REGISTRY_KEY + "\\")
        assert p.get("class") == "Machine"


def _registry_from_admx() -> dict[str, dict[str, Any]]:
    """What Group Policy writes when every ADMX policy is enabled at its default."""
    tree: dict[str, dict[str, Any]] = {}
    for p in _policies():
        name = p.get("name", "")
        # Section names may hold "_" themselves (otlp_receiver): match the schema, not a split.
        section, key = next(
            (s, name[len(s) + 1 :])
            for s in SCHEMA
            if name.startswith(s + "_") and name[len(s) + 1 :] in SCHEMA[s]
        )
        default = SCHEMA[section][key].default
        sub = p.get("key", "")[len(REGISTRY_KEY) + 1 :]
        elements = p.find("p:elements", ADMX_NS)
        el = elements[0] if elements is not None else None
        if el is None:  # boolean: enabledValue/disabledValue DWORD
            tree.setdefault(sub, {})[p.get("valueName", "")] = 1 if default else 0
        elif el.tag.endswith("list"):
            items = default.items() if isinstance(default, dict) else enumerate(default, 1)
            tree[el.get("key", "")[len(REGISTRY_KEY) + 1 :]] = {
                str(n): ";".join(v) if isinstance(v, list) else v for n, v in items
            }
        elif el.tag.endswith("decimal"):
            tree.setdefault(sub, {})[el.get("valueName", "")] = int(default)
        else:  # text and enum: REG_SZ
            tree.setdefault(sub, {})[el.get("valueName", "")] = str(default)
    return tree


def test_registry_written_by_admx_reads_back_as_the_defaults() -> None:
    data = native_policy.from_registry(_registry_from_admx())
    for section, key in ALL_KEYS:
        if SCHEMA[section][key].type in (list, dict) and not SCHEMA[section][key].default:
            continue  # an empty list writes no subkey at all
        assert data[section][key] == SCHEMA[section][key].default, (section, key)
    validate("registry", data)


def test_registry_lists_tables_and_bad_values() -> None:
    tree: dict[str, dict[str, Any]] = {
        "collectors\\disabled_tools": {"1": "ollama", "2": "cursor"},
        "collectors\\extra_roots": {"claude-code": "C:\\a;D:\\b"},
        "upload": {"interval": "60", "verify_tls": 1, "batch_max_records": 100},
    }
    data = native_policy.from_registry(tree)
    assert data["collectors"] == {
        "disabled_tools": ["ollama", "cursor"],
        "extra_roots": {"claude-code": ["C:\\a", "D:\\b"]},
    }
    assert data["upload"] == {"interval": 60.0, "verify_tls": True, "batch_max_records": 100}
    validate("registry", data)
    with pytest.raises(ConfigError, match=r"upload\.interval"):
        validate("registry", native_policy.from_registry({"upload": {"interval": "soon"}}))


def test_managed_preferences_user_file_outranks_device_file(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    device = {"upload": {"endpoint": "https://device"}, "PayloadUUID": "x"}
    user = {"upload": {"endpoint": "https://user"}, "privacy": {"level": "anonymous"}}
    (tmp_path / f"{POLICY_DOMAIN}.plist").write_bytes(plistlib.dumps(device))
    (tmp_path / "alice" / f"{POLICY_DOMAIN}.plist").write_bytes(plistlib.dumps(user))
    layers = native_policy.read_managed_preferences(tmp_path, "alice")
    assert [d for _, d in layers] == [{"upload": {"endpoint": "https://device"}}, user]
    from aitally.core import config

    cfg = config.load(user_file=Path("/dev/null"), environ={}, managed=lambda: layers)
    assert cfg.get("upload", "endpoint") == "https://user"
    assert cfg.is_managed("privacy", "level")
    (tmp_path / "alice" / f"{POLICY_DOMAIN}.plist").write_bytes(b"not a plist")
    with pytest.raises(ConfigError, match="managed preferences"):
        native_policy.read_managed_preferences(tmp_path, "alice")


@pytest.mark.parametrize("fmt", templates.FORMATS)
def test_policy_template_command_writes_every_format(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        aitally_cmd("policy", "template", "--format", fmt, "--output", str(out)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted(templates.render(fmt))
    for path in out.rglob("*"):
        if path.suffix in (".admx", ".adml"):
            ET.parse(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())


def test_policy_template_admx_to_stdout_is_a_usage_error() -> None:
    done = subprocess.run(
        aitally_cmd("policy", "template", "--format", "admx"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--output" in done.stderr


@pytest.mark.parametrize(("fmt", "where"), [("toml", "missing/managed.toml"), ("admx", "file")])
def test_policy_template_unwritable_output_is_one_line_exit_2(
    fmt: str, where: str, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")  # admx needs a folder; a file is in the way
    done = subprocess.run(
        aitally_cmd("policy", "template", "--format", fmt, "--output", str(tmp_path / where)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot write" in done.stderr and "--output" in done.stderr
