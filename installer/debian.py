"""The Debian package: a self-contained venv under /opt/aitally and the --system registration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PREFIX = "/opt/aitally"
# The venv is bound to one interpreter's ABI (lib/python3.X, compiled psutil), so the
# package depends on exactly that interpreter package, as Debian's own Python packages do.
PYTHON = "/usr/bin/python3"

POSTINST = """#!/bin/sh
set -e
# Register the agent for every user's next login (systemd --user unit enabled globally,
# or XDG autostart where systemd is absent). It never runs as root.
if [ "$1" = configure ]; then
    /opt/aitally/bin/aitally install --system
fi
"""

PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
    /opt/aitally/bin/aitally uninstall --system || true
fi
"""

POSTRM = """#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
    # Bytecode a root-run command may have cached: dpkg only removes the files it shipped.
    rm -rf /opt/aitally
fi
if [ "$1" = purge ]; then
    # The endpoint `aitally install --system --endpoint` wrote; a policy IT placed stays.
    f=/etc/aitally/managed.toml
    if [ -f "$f" ] && head -n 1 "$f" | grep -q '^# written by `aitally install`'; then
        rm -f "$f"
        rmdir /etc/aitally 2>/dev/null || true
    fi
fi
"""


def _run(argv: list[str], **kw: object) -> None:
    subprocess.run(argv, check=True, **kw)  # type: ignore[call-overload]


def architecture() -> str:
    done = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _python_minor(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _relocate(venv: Path, staged: str, final: str) -> None:
    """A venv records its own path in scripts and pyvenv.cfg; rewrite it to the installed one."""
    old, new = staged.encode(), final.encode()
    for path in venv.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        data = path.read_bytes()
        if old in data:
            path.write_bytes(data.replace(old, new))


def build_deb(wheel: Path, out_dir: Path, version: str, python: str = PYTHON) -> Path:
    """The .deb for `wheel`; needs dpkg-deb and the package index for the dependencies."""
    python = str(Path(python).resolve())  # python3.X itself, matching the Depends line
    minor = _python_minor(python)
    arch = architecture()
    with tempfile.TemporaryDirectory(prefix="aitally-deb-") as tmp:
        root = Path(tmp) / "pkg"
        venv = root / PREFIX.lstrip("/")
        _run([python, "-m", "venv", "--without-pip", str(venv)])
        # This interpreter's pip installs into the package's venv: no pip inside the package.
        _run(
            [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
             "--quiet", "--no-compile", "--disable-pip-version-check", str(wheel)],
        )  # fmt: skip
        _relocate(venv, str(venv), PREFIX)
        # Bytecode compiled now, with the installed paths: the agent runs as a user who
        # cannot write under /opt, so it could never cache it itself.
        _run([python, "-m", "compileall", "-q", "-s", str(root), "-p", "/", str(venv / "lib")])
        usr_bin = root / "usr" / "bin"
        usr_bin.mkdir(parents=True)
        os.symlink(f"{PREFIX}/bin/aitally", usr_bin / "aitally")
        debian = root / "DEBIAN"
        debian.mkdir()
        size_kib = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) // 1024
        (debian / "control").write_text(
            f"Package: aitally\nVersion: {version}\nArchitecture: {arch}\n"
            "Maintainer: aitally maintainers <aitally@localhost>\n"
            f"Depends: python{minor}\nSection: utils\nPriority: optional\n"
            f"Installed-Size: {size_kib}\n"
            "Description: measures AI-tool usage on engineer workstations, content-free\n"
            " A per-user background agent registered for every user's login; it uploads\n"
            " privacy-shaped usage records to the ingest service IT configures.\n"
        )
        for name, text in (("postinst", POSTINST), ("prerm", PRERM), ("postrm", POSTRM)):
            (debian / name).write_text(text)
            (debian / name).chmod(0o755)
        out_dir.mkdir(parents=True, exist_ok=True)
        deb = out_dir / f"aitally_{version}_{arch}.deb"
        _run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)],
             stdout=subprocess.DEVNULL)  # fmt: skip
    return deb


def available() -> bool:
    return shutil.which("dpkg-deb") is not None and Path(PYTHON).exists()
