"""The macOS installer package's recipe: what `pkgbuild` and `productbuild` need, generated.

pkgbuild and productbuild exist only on macOS, so `make dist` writes the recipe (payload
LaunchAgent, postinstall script, distribution XML, build script) and a Mac turns it into the
`.pkg` with `sh build.sh` (docs/packaging.md).
"""

from __future__ import annotations

import plistlib
import shlex
from xml.sax.saxutils import escape, quoteattr

from aitally.installer._macos import plist_data
from aitally.installer.package_spec import PREFIX
from aitally.installer.service import LABEL

LAUNCH_AGENT = f"/Library/LaunchAgents/{LABEL}.plist"
COMPONENT = "aitally-component.pkg"
# The oldest macOS the recipe allows: the first with the Python 3.11 the venv is built on.
MIN_MACOS = "12.0"


def launch_agent() -> bytes:
    """The LaunchAgent every user's GUI login loads; it starts the packaged interpreter."""
    return plistlib.dumps(plist_data((f"{PREFIX}/bin/python", "-m", "aitally.agent.cli", "run")))


# Runs as root after the payload is in place: start the agent for whoever is logged in now
# (later logins load the LaunchAgent by themselves). bootout first: bootstrap refuses a label
# that is already loaded, as on an upgrade.
POSTINSTALL = f"""#!/bin/sh
chown root:wheel {LAUNCH_AGENT}
chmod 0644 {LAUNCH_AGENT}
uid=$(stat -f %u /dev/console)
if [ "$uid" != 0 ]; then
    launchctl bootout "gui/$uid/{LABEL}" 2>/dev/null || true
    launchctl bootstrap "gui/$uid" {LAUNCH_AGENT} || true
fi
exit 0
"""


def distribution(version: str) -> str:
    """productbuild's distribution XML: one hidden choice installing the component package."""
    v = quoteattr(version)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
    <title>aitally</title>
    <options customize="never" require-scripts="false" hostArchitectures="arm64,x86_64"/>
    <domains enable_anywhere="false" enable_currentUserHome="false" enable_localSystem="true"/>
    <volume-check>
        <allowed-os-versions><os-version min="{MIN_MACOS}"/></allowed-os-versions>
    </volume-check>
    <choices-outline>
        <line choice="{LABEL}"/>
    </choices-outline>
    <choice id="{LABEL}" visible="false" title="aitally">
        <pkg-ref id="{LABEL}"/>
    </choice>
    <pkg-ref id="{LABEL}" version={v} onConclusion="none">{escape(COMPONENT)}</pkg-ref>
</installer-gui-script>
"""


def build_script(version: str, wheel: str) -> str:
    """The shell steps a Mac runs in the recipe folder to make `aitally-VERSION.pkg`."""
    v, w = shlex.quote(version), shlex.quote(wheel)
    return f"""#!/bin/sh
# Run on macOS in this folder, with the wheel beside it and python3.11 installed:
#   sh build.sh            (set SIGN_IDENTITY="Developer ID Installer: ..." to sign)
set -eu
rm -rf payload && mkdir -p payload{PREFIX} payload/Library/LaunchAgents
python3.11 -m venv payload{PREFIX}
payload{PREFIX}/bin/pip install --quiet --no-compile ../{w}
cp {LABEL}.plist payload{LAUNCH_AGENT}
chmod 0755 scripts/postinstall
pkgbuild --root payload --identifier {LABEL} --version {v} \\
    --scripts scripts --install-location / {COMPONENT}
productbuild --distribution distribution.xml --package-path . \\
    ${{SIGN_IDENTITY:+--sign "$SIGN_IDENTITY"}} aitally-{v}.pkg
"""


def render(version: str, wheel: str) -> dict[str, bytes]:
    """Recipe file name -> content."""
    return {
        f"{LABEL}.plist": launch_agent(),
        "scripts/postinstall": POSTINSTALL.encode(),
        "distribution.xml": distribution(version).encode(),
        "build.sh": build_script(version, wheel).encode(),
    }
