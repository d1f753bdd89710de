"""The macOS .pkg and Windows .msi recipes, checked against their formats' rules.

pkgbuild, productbuild and WiX do not exist here: the LaunchAgent is loaded with plistlib, the
distribution XML and the WiX source are validated against subsets of their schemas
(tests/installer/data), and the shell steps are parsed by sh."""

from __future__ import annotations

import plistlib
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from aitally.installer import macos_pkg, windows_msi
from aitally.installer.package_spec import PREFIX
from aitally.installer.service import LABEL

DATA = Path(__file__).parent / "data"
WHEEL = "aitally-1.2.3-py3-none-any.whl"
NS = {"w": windows_msi.WIX_NS}


def test_launch_agent_starts_the_packaged_interpreter() -> None:
    files = macos_pkg.render("1.2.3", WHEEL)
    agent = plistlib.loads(files[f"{LABEL}.plist"])
    assert agent["Label"] == LABEL
    assert agent["ProgramArguments"] == [f"{PREFIX}/bin/python", "-m", "aitally.agent.cli", "run"]
    assert agent["RunAtLoad"] is True and agent["LimitLoadToSessionType"] == "Aqua"


def test_distribution_xml_is_schema_shaped_and_names_the_component() -> None:
    files = macos_pkg.render("1.2.3", WHEEL)
    schema = xmlschema.XMLSchema(DATA / "productbuild_distribution_subset.xsd")
    schema.validate(files["distribution.xml"].decode())
    root = ET.fromstring(files["distribution.xml"])
    ref = root.find("pkg-ref[@version]")
    assert ref is not None and ref.text == macos_pkg.COMPONENT and ref.get("version") == "1.2.3"
    # every choice the outline names exists, and pulls in the one pkg-ref
    outline = {line.get("choice") for line in root.iter("line")}
    assert outline == {c.get("id") for c in root.iter("choice")} == {LABEL}
    build = files["build.sh"].decode()
    assert f"--identifier {LABEL}" in build and f"../{WHEEL}" in build
    assert macos_pkg.COMPONENT in build and "productbuild --distribution distribution.xml" in build


@pytest.mark.parametrize("name", ["build.sh", "scripts/postinstall"])
def test_shell_steps_parse(name: str, tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_bytes(macos_pkg.render("1.2.3", WHEEL)[name])
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


def test_a_bad_version_cannot_break_the_xml() -> None:
    text = macos_pkg.render('1"><evil/>', WHEEL)["distribution.xml"]
    root = ET.fromstring(text)
    assert root.find(".//evil") is None


def test_wix_source_is_schema_shaped() -> None:
    files = windows_msi.render("1.2.3", WHEEL)
    schema = xmlschema.XMLSchema(DATA / "wix_subset.xsd")
    schema.validate(files["aitally.wxs"].decode())
    root = ET.fromstring(files["aitally.wxs"])
    package = root.find("w:Package", NS)
    assert package is not None and package.get("Version") == "1.2.3"
    assert package.get("UpgradeCode") == windows_msi.UPGRADE_CODE
    # every scheduled action is defined, and runs the packaged agent
    actions = {a.get("Id", ""): a for a in root.iter(f"{{{windows_msi.WIX_NS}}}CustomAction")}
    scheduled = [c.get("Action", "") for c in root.iter(f"{{{windows_msi.WIX_NS}}}Custom")]
    assert sorted(scheduled) == sorted(actions) == ["RegisterAgent", "UnregisterAgent"]
    assert actions["RegisterAgent"].get("ExeCommand", "").endswith('aitally.exe" install --system')
    # the components referenced by the feature exist
    groups = {g.get("Id") for g in root.iter(f"{{{windows_msi.WIX_NS}}}ComponentGroup")}
    refs = {g.get("Id") for g in root.iter(f"{{{windows_msi.WIX_NS}}}ComponentGroupRef")}
    assert refs <= groups
    assert "wix build aitally.wxs" in files["build.ps1"].decode()


@pytest.mark.parametrize(
    ("version", "msi"), [("0.1.0", "0.1.0"), ("2.3", "2.3.0"), ("1.2.3rc1", "1.2.3"),
                         ("1.2.3.4", "1.2.3")],
)  # fmt: skip
def test_msi_version(version: str, msi: str) -> None:
    assert windows_msi.msi_version(version) == msi


def test_msi_version_refuses_what_windows_installer_cannot_hold() -> None:
    with pytest.raises(ValueError, match="MSI ProductVersion"):
        windows_msi.msi_version("256.0.0")
    schema = xmlschema.XMLSchema(DATA / "wix_subset.xsd")
    bad = windows_msi.wxs("1.2.3").replace('Version="1.2.3"', 'Version="1.2.3.4.5"')
    assert not schema.is_valid(bad)
