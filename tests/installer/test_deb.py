"""The Debian package for real: dpkg -i on this machine, doctor passes, purge leaves nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitally.installer import dist, linux_packages
from aitally.installer.service import UNIT

REPO = Path(__file__).resolve().parents[2]
OWNED = [
    Path("/opt/aitally"),
    Path("/usr/bin/aitally"),
    Path("/etc/systemd/user") / UNIT,
    Path("/etc/systemd/user/default.target.wants") / UNIT,
    Path("/etc/xdg/autostart/aitally.desktop"),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not linux_packages.available() or shutil.which("dpkg") is None or os.geteuid() != 0,
        reason="needs root, dpkg, nfpm and /usr/bin/python3",
    ),
]


def _installed() -> bool:
    done = subprocess.run(["dpkg", "-s", "aitally"], capture_output=True, text=True)
    return done.returncode == 0 and "Status: install ok installed" in done.stdout


@pytest.fixture
def deb(tmp_path: Path) -> Iterator[Path]:
    if _installed() or any(p.exists() or p.is_symlink() for p in OWNED):
        pytest.skip("aitally is already installed system-wide here; not touching it")
    wheel, _ = dist.build_python(REPO, tmp_path / "dist")
    (deb,) = linux_packages.build(wheel, tmp_path / "dist", dist.version(REPO), formats=("deb",))
    yield deb
    # Whatever happened, the machine is left as it was found.
    subprocess.run(["dpkg", "--purge", "aitally"], capture_output=True)


def _leftovers() -> list[str]:
    return [str(p) for p in OWNED if p.exists() or p.is_symlink()]


def test_deb_installs_registers_passes_doctor_and_purges(deb: Path, home: Path) -> None:
    done = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _installed()
    registration = [p for p in OWNED[2:] if p.exists()]
    assert registration, "postinst registered nothing"
    # The unit (or desktop entry) starts the packaged interpreter, never the build's.
    assert "/opt/aitally/bin/python" in registration[0].read_text()

    # Start the agent the way a login would, as this test's user, then ask doctor.
    env = dict(os.environ)
    agent = subprocess.Popen(
        ["/opt/aitally/bin/python", "-m", "aitally.agent.cli", "run"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        report: dict[str, object] = {}
        for _ in range(100):
            out = subprocess.run(
                ["/usr/bin/aitally", "doctor", "--system", "--json"],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            report = json.loads(out.stdout)
            if report["ok"]:
                break
            time.sleep(0.2)
        assert report["ok"] is True, report
    finally:
        agent.terminate()
        agent.wait(30)

    done = subprocess.run(
        ["dpkg", "--purge", "aitally"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not _installed()
    assert _leftovers() == []
