"""Installs the pinned clients from npm, each into its own folder of the scratch tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.realclients.clients import Client


def client_bin(scratch: Path, client: Client) -> Path:
    """Where the client's command lands after `npm install --prefix`."""
    return scratch / "npm" / client.tool / client.version / "node_modules" / ".bin" / client.command


def install(scratch: Path, client: Client) -> Path:
    """`npm install --prefix <scratch>/npm/<tool>/<version> <package>@<version>`, unless already
    there; returns the command's path. Raises with npm's last lines when the install fails."""
    binary = client_bin(scratch, client)
    if binary.exists():
        return binary
    prefix = binary.parent.parent.parent
    prefix.mkdir(parents=True, exist_ok=True)
    spec = f"{client.package}@{client.version}"
    done = subprocess.run(
        ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", spec],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0 or not binary.exists():
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-5:])
        raise RuntimeError(f"npm install {spec} failed:\n{tail}")
    return binary
