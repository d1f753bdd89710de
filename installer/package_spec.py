"""The one description of the Linux packages: files, dependencies, maintainer scripts, units.

It is an nFPM configuration (nFPM builds .deb and .rpm from one description); the `.deb` and
the `.rpm` differ only where the formats do: the interpreter dependency's name and the
arguments dpkg and rpm pass to maintainer scripts (docs/packaging.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitally.core import paths

PREFIX = "/opt/aitally"
MAINTAINER = "aitally maintainers <aitally@localhost>"
DESCRIPTION = (
    "measures AI-tool usage on engineer workstations, content-free\n"
    "A per-user background agent registered for every user's login; it uploads\n"
    "privacy-shaped usage records to the ingest service IT configures."
)
# The baked enroll secret's file and the group that may read it (never world-readable).
SECRET_FILE = str(paths.managed_enroll_secret_file("linux"))
SECRET_GROUP = "aitally"
MANAGED_FILE = str(paths.managed_policy_file("linux"))
BAKED_HEADER = "# baked into this package at build time (make dist ENDPOINT=...)"

# Where each generated shell completion and man page goes (file name under the docs folder).
DOC_FILES = {
    "aitally.bash": "/usr/share/bash-completion/completions/aitally",
    "_aitally": "/usr/share/zsh/vendor-completions/_aitally",
    "aitally.fish": "/usr/share/fish/vendor_completions.d/aitally.fish",
    "aitally.1.gz": "/usr/share/man/man1/aitally.1.gz",
}

# The group exists before the secret file is unpacked, so dpkg and rpm give it that group.
PREINSTALL = f"""#!/bin/sh
set -e
getent group {SECRET_GROUP} >/dev/null || groupadd --system {SECRET_GROUP}
"""

# Register the agent for every user's next login (systemd --user unit enabled globally, or
# XDG autostart where systemd is absent). It never runs as root. dpkg passes `configure`,
# rpm passes 1 (install) or 2 (upgrade).
POSTINSTALL = f"""#!/bin/sh
set -e
case "$1" in configure|1|2)
    {PREFIX}/bin/aitally install --system ;;
esac
"""

# dpkg: `remove`/`deconfigure`; rpm: 0 when the package goes (1 during an upgrade).
PREREMOVE = f"""#!/bin/sh
set -e
case "$1" in remove|deconfigure|0)
    {PREFIX}/bin/aitally uninstall --system || true ;;
esac
"""

POSTREMOVE = f"""#!/bin/sh
set -e
case "$1" in remove|purge|0)
    # Bytecode a root-run command may have cached: dpkg and rpm only remove what they shipped.
    rm -rf {PREFIX} ;;
esac
if [ "$1" = purge ]; then
    # The endpoint `aitally install --system --endpoint` wrote; a policy IT placed stays.
    f={MANAGED_FILE}
    if [ -f "$f" ] && head -n 1 "$f" | grep -q '^# written by `aitally install`'; then
        rm -f "$f"
        rmdir /etc/aitally 2>/dev/null || true
    fi
fi
"""

SCRIPTS = {
    "preinstall": PREINSTALL,
    "postinstall": POSTINSTALL,
    "preremove": PREREMOVE,
    "postremove": POSTREMOVE,
}


@dataclass(frozen=True)
class Baked:
    """What a fleet build carries in: the endpoint and the enroll secret (both optional)."""

    endpoint: str | None = None
    enroll_secret: str | None = None


def describe(
    *,
    stage: Path,
    scripts: Path,
    version: str,
    arch: str,
    python_minor: str,
    cli_docs: Path | None,
    baked: Path | None,
) -> dict[str, Any]:
    """The nFPM configuration: `stage` holds the venv (as PREFIX), `scripts` the four maintainer
    scripts by name, `cli_docs` the generated completions and man page, `baked` the managed
    policy and secret files when there are any."""
    contents: list[dict[str, Any]] = [
        {"src": str(stage), "dst": PREFIX, "type": "tree"},
        {"src": f"{PREFIX}/bin/aitally", "dst": "/usr/bin/aitally", "type": "symlink"},
    ]
    if cli_docs is not None:
        contents += [
            {"src": str(cli_docs / name), "dst": dst, "file_info": {"mode": 0o644}}
            for name, dst in DOC_FILES.items()
        ]
    if baked is not None and (baked / "managed.toml").exists():
        contents.append(
            {"src": str(baked / "managed.toml"), "dst": MANAGED_FILE, "type": "config|noreplace",
             "file_info": {"mode": 0o644}}
        )  # fmt: skip
    if baked is not None and (baked / "enroll-secret").exists():
        contents.append(
            {"src": str(baked / "enroll-secret"), "dst": SECRET_FILE, "type": "config|noreplace",
             "file_info": {"mode": 0o640, "owner": "root", "group": SECRET_GROUP}}
        )  # fmt: skip
    return {
        "name": "aitally",
        "arch": arch,
        "platform": "linux",
        "version": version,
        "release": "1",
        "section": "utils",
        "priority": "optional",
        "maintainer": MAINTAINER,
        "description": DESCRIPTION,
        "vendor": "aitally",
        "license": "Apache-2.0",
        "contents": contents,
        "scripts": {name: str(scripts / name) for name in SCRIPTS},
        # The venv is bound to one interpreter's ABI (lib/python3.X, compiled psutil), so the
        # package depends on exactly that interpreter, by each format's own name for it.
        "overrides": {
            "deb": {"depends": [f"python{python_minor}"]},
            "rpm": {"depends": [f"python(abi) = {python_minor}"]},
        },
    }
