"""Ready-to-deploy managed-policy templates (TOML, plist, mobileconfig), all from one schema."""

from __future__ import annotations

import json
import plistlib
import uuid
from typing import Any

from aitally.core.config_schema import SCHEMA
from aitally.core.native_policy import POLICY_DOMAIN
from aitally.installer import toml_out
from aitally.installer.policy_schema import json_schema
from aitally.installer.service import LABEL

# Fixed namespace: the same template always gets the same payload UUIDs, so re-importing
# an updated profile into an MDM replaces the old one instead of adding a second.
_UUID_NS = uuid.UUID("6f1c2a8e-4b7d-5e0f-9a3c-2d1e0b4c7a95")


def defaults() -> dict[str, dict[str, Any]]:
    return {s: {k: spec.default for k, spec in keys.items()} for s, keys in SCHEMA.items()}


def toml_template() -> str:
    """Every key, commented out at its default: deployed unchanged it enforces nothing."""
    lines = [
        "# aitally managed policy. Install as root, mode 0644, at",
        "#   Linux /etc/aitally/managed.toml",
        "#   macOS /Library/Application Support/aitally/managed.toml",
        "#   Windows %ProgramData%\\aitally\\managed.toml",
        "# Uncomment a key to enforce it: engineers cannot override an enforced key.",
        "",
    ]
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        for key, spec in keys.items():
            lines.append(f"# {spec.help} ({spec.allowed()})")
            lines.append(f"# {key} = {toml_out.value(spec.default)}")
        lines.append("")
    return "\n".join(lines)


def plist_settings() -> bytes:
    """The preference domain's plist, for a Jamf/Kandji "Custom Settings" payload."""
    return plistlib.dumps(defaults())


def _payload_uuid(name: str) -> str:
    return str(uuid.uuid5(_UUID_NS, name)).upper()


def mobileconfig() -> bytes:
    """A configuration profile forcing the preference domain (com.apple.ManagedClient.preferences).

    It carries every key at its default; delete the keys you do not want to enforce.
    """
    inner: dict[str, Any] = {
        "PayloadType": "com.apple.ManagedClient.preferences",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{LABEL}.policy.preferences",
        "PayloadUUID": _payload_uuid("preferences"),
        "PayloadDisplayName": "aitally managed preferences",
        "PayloadEnabled": True,
        "PayloadContent": {
            POLICY_DOMAIN: {"Forced": [{"mcx_preference_settings": defaults()}]},
        },
    }
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{LABEL}.policy",
        "PayloadUUID": _payload_uuid("profile"),
        "PayloadDisplayName": "aitally policy",
        "PayloadDescription": "Enforced aitally settings; delete keys you do not enforce.",
        "PayloadOrganization": "aitally",
        "PayloadScope": "System",
        "PayloadContent": [inner],
    }
    return plistlib.dumps(profile)


def render(fmt: str) -> dict[str, bytes]:
    """File name -> content for one template format."""
    if fmt == "toml":
        return {"managed.toml": toml_template().encode()}
    if fmt == "plist":
        return {f"{POLICY_DOMAIN}.plist": plist_settings()}
    if fmt == "mobileconfig":
        return {"aitally.mobileconfig": mobileconfig()}
    if fmt == "json-schema":
        return {"aitally-policy.schema.json": json.dumps(json_schema(), indent=2).encode()}
    if fmt == "admx":
        from aitally.installer import admx

        return {"aitally.admx": admx.admx().encode(), "en-US/aitally.adml": admx.adml().encode()}
    if fmt == "tools":
        from aitally.installer import tool_policy_templates

        return tool_policy_templates.render()
    raise ValueError(fmt)


FORMATS = ("toml", "mobileconfig", "plist", "admx", "json-schema", "tools")
