"""ADMX/ADML Group Policy templates (Intune "Import ADMX") for every managed-policy key.

Registry layout, which native_policy reads back: HKLM\\SOFTWARE\\Policies\\aitally\\<section>
holds one value per key (REG_DWORD for booleans and integers, REG_SZ otherwise); a list key
is the subkey <section>\\<key> with one value per item; a table key (tool -> folders) is the
subkey <section>\\<key> with one value per tool, its folders joined by ";".
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from aitally.core.config_schema import SCHEMA, Key
from aitally.core.native_policy import REGISTRY_KEY
from aitally.installer.policy_schema import all_keys

NS = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
PREFIX = "aitally"
DWORD_MAX = 2**32 - 1


def policy_name(section: str, key: str) -> str:
    return f"{section}_{key}"


def _reg_key(section: str) -> str:
    return f"{REGISTRY_KEY}\\{section}"


def _element(section: str, key: str, spec: Key) -> str:
    pid = policy_name(section, key)
    if spec.type is int:
        lo = max(0, int(spec.minimum or 0))
        hi = int(spec.maximum) if spec.maximum is not None else DWORD_MAX
        return (
            f'<decimal id="{pid}" valueName="{key}" minValue="{lo}" maxValue="{hi}" '
            'required="true"/>'
        )
    if spec.type is str and spec.choices:
        items = "".join(
            f'<item displayName="$(string.{pid}_{c})"><value><string>{escape(c)}</string>'
            "</value></item>"
            for c in spec.choices
        )
        return f'<enum id="{pid}" valueName="{key}" required="true">{items}</enum>'
    if spec.type is list:
        return f'<list id="{pid}" key="{_reg_key(section)}\\{key}"/>'
    if spec.type is dict:
        return f'<list id="{pid}" key="{_reg_key(section)}\\{key}" explicitValue="true"/>'
    # str and float: REG_SZ (the registry has no floating-point type).
    return f'<text id="{pid}" valueName="{key}" required="true"/>'


def _policy(section: str, key: str, spec: Key) -> str:
    pid = policy_name(section, key)
    head = (
        f'<policy name="{pid}" class="Machine" displayName="$(string.{pid})" '
        f'explainText="$(string.{pid}_help)" key="{_reg_key(section)}"'
    )
    tail = f'<parentCategory ref="{PREFIX}_{section}"/><supportedOn ref="SUPPORTED_{PREFIX}"/>'
    if spec.type is bool:
        return (
            f'{head} valueName="{key}">{tail}'
            '<enabledValue><decimal value="1"/></enabledValue>'
            '<disabledValue><decimal value="0"/></disabledValue></policy>'
        )
    return (
        f'{head} presentation="$(presentation.{pid})">{tail}'
        f"<elements>{_element(section, key, spec)}</elements></policy>"
    )


def admx() -> str:
    categories = "".join(
        f'<category name="{PREFIX}_{s}" displayName="$(string.cat_{s})">'
        f'<parentCategory ref="{PREFIX}"/></category>'
        for s in SCHEMA
    )
    policies = "\n    ".join(_policy(s, k, spec) for s, k, spec in all_keys())
    return f"""<?xml version="1.0" encoding="utf-8"?>
<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" \
xmlns="{NS}">
  <policyNamespaces>
    <target prefix="{PREFIX}" namespace="aitally.Policies.aitally"/>
    <using prefix="windows" namespace="Microsoft.Policies.Windows"/>
  </policyNamespaces>
  <resources minRequiredRevision="1.0"/>
  <supportedOn>
    <definitions>
      <definition name="SUPPORTED_{PREFIX}" displayName="$(string.SUPPORTED_{PREFIX})"/>
    </definitions>
  </supportedOn>
  <categories>
    <category name="{PREFIX}" displayName="$(string.cat_root)"/>
    {categories}
  </categories>
  <policies>
    {policies}
  </policies>
</policyDefinitions>
"""


def _strings() -> dict[str, str]:
    out = {"SUPPORTED_" + PREFIX: "aitally 0.1 or later", "cat_root": "aitally"}
    for section in SCHEMA:
        out[f"cat_{section}"] = f"[{section}]"
    for section, key, spec in all_keys():
        pid = policy_name(section, key)
        out[pid] = f"{section}.{key}"
        out[f"{pid}_help"] = (
            f"{spec.help}. Allowed: {spec.allowed()}. Default: {spec.default!r}. "
            "Enforced: engineers cannot override it."
        )
        for c in spec.choices:
            out[f"{pid}_{c}"] = str(c)
    return out


def _presentation(section: str, key: str, spec: Key) -> str:
    pid = policy_name(section, key)
    label = escape(f"{section}.{key}")
    if spec.type is int:
        body = (
            f'<decimalTextBox refId="{pid}" defaultValue="{spec.default}">{label}</decimalTextBox>'
        )
    elif spec.type is str and spec.choices:
        default = spec.choices.index(spec.default)
        body = f'<dropdownList refId="{pid}" defaultItem="{default}">{label}</dropdownList>'
    elif spec.type in (list, dict):
        body = f'<listBox refId="{pid}">{label}</listBox>'
    else:
        body = f"<textBox refId={quoteattr(pid)}><label>{label}</label></textBox>"
    return f'<presentation id="{pid}">{body}</presentation>'


def adml() -> str:
    strings = "\n      ".join(
        f"<string id={quoteattr(k)}>{escape(v)}</string>" for k, v in _strings().items()
    )
    presentations = "\n      ".join(
        _presentation(s, k, spec) for s, k, spec in all_keys() if spec.type is not bool
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" \
xmlns="{NS}">
  <displayName>aitally</displayName>
  <description>aitally managed policy</description>
  <resources>
    <stringTable>
      {strings}
    </stringTable>
    <presentationTable>
      {presentations}
    </presentationTable>
  </resources>
</policyDefinitionResources>
"""
