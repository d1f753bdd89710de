"""The Windows Installer package's recipe: a WiX source (.wxs) for `wix build`, generated.

WiX runs only on Windows (.NET), so `make dist` writes the source and a build script; a Windows
machine makes the `.msi` (docs/packaging.md). The MSI installs the agent per machine and runs
`aitally install --system` (the per-user logon task) after its files are in place.
"""

from __future__ import annotations

import re
import uuid
from xml.sax.saxutils import quoteattr

WIX_NS = "http://wixtoolset.org/schemas/v4/wxs"
# Fixed for the product's life: Windows Installer finds the installed version by it, so a new
# .msi upgrades the old one instead of installing beside it.
UPGRADE_CODE = "{" + str(uuid.UUID("3b6f2f0e-9a41-4c77-8f2d-5e1a0c9b7d21")).upper() + "}"
EXE = r"[INSTALLFOLDER]venv\Scripts\aitally.exe"


def msi_version(version: str) -> str:
    """MSI ProductVersion: three numeric fields (major < 256, minor < 256, build < 65536)."""
    # Each field's leading digits: a pre-release tag (1.2.3rc1) does not fit the format.
    fields = [int(m.group()) if (m := re.match(r"\d+", p)) else 0 for p in version.split(".")]
    fields = [*fields, 0, 0, 0][:3]
    if fields[0] > 255 or fields[1] > 255 or fields[2] > 65535:
        raise ValueError(f"{version!r} does not fit an MSI ProductVersion")
    return ".".join(map(str, fields))


def wxs(version: str) -> str:
    """The WiX v4/v5 source: files from `payload\\` (the venv), register and unregister."""
    register = quoteattr(f'"{EXE}" install --system')
    unregister = quoteattr(f'"{EXE}" uninstall --system')
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="{WIX_NS}">
  <Package Name="aitally" Manufacturer="aitally" Version="{msi_version(version)}"
           UpgradeCode="{UPGRADE_CODE}" Scope="perMachine" Compressed="yes">
    <MajorUpgrade DowngradeErrorMessage="A newer aitally is already installed." />
    <MediaTemplate EmbedCab="yes" />
    <StandardDirectory Id="ProgramFiles64Folder">
      <Directory Id="INSTALLFOLDER" Name="aitally">
        <Directory Id="VENVFOLDER" Name="venv" />
      </Directory>
    </StandardDirectory>
    <ComponentGroup Id="Payload" Directory="VENVFOLDER">
      <Files Include="payload\\**" />
    </ComponentGroup>
    <Feature Id="Agent" Title="aitally agent" Level="1">
      <ComponentGroupRef Id="Payload" />
    </Feature>
    <CustomAction Id="RegisterAgent" Directory="INSTALLFOLDER" ExeCommand={register}
                  Execute="deferred" Impersonate="no" Return="check" />
    <CustomAction Id="UnregisterAgent" Directory="INSTALLFOLDER" ExeCommand={unregister}
                  Execute="deferred" Impersonate="no" Return="ignore" />
    <InstallExecuteSequence>
      <Custom Action="RegisterAgent" After="InstallFiles" Condition="NOT REMOVE" />
      <Custom Action="UnregisterAgent" Before="RemoveFiles" Condition='REMOVE="ALL"' />
    </InstallExecuteSequence>
  </Package>
</Wix>
"""


def build_script(version: str, wheel: str) -> str:
    """The PowerShell steps a Windows machine runs in the recipe folder to make the .msi."""
    return f"""# Run on Windows in this folder, with the wheel one level up, Python 3.11 and WiX 5
# (dotnet tool install --global wix):  powershell -File build.ps1
$ErrorActionPreference = "Stop"
Remove-Item -Recurse -Force payload -ErrorAction SilentlyContinue
py -3.11 -m venv payload
payload\\Scripts\\pip install --quiet --no-compile ..\\{wheel}
wix build aitally.wxs -arch x64 -o aitally-{msi_version(version)}.msi
"""


def render(version: str, wheel: str) -> dict[str, bytes]:
    """Recipe file name -> content."""
    return {
        "aitally.wxs": wxs(version).encode(),
        "build.ps1": build_script(version, wheel).encode(),
    }
