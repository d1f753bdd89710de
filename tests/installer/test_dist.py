"""`make dist`'s wheel and sdist carry every package of the checkout and its data files."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from aitally.installer import dist

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"agent": "agent", "collectors": "collectors", "uploader": "uploader",
           "installer": "installer", "ingest": "ingest"}  # fmt: skip


def test_wheel_and_sdist_carry_every_package(tmp_path: Path) -> None:
    wheel, sdist = dist.build_python(REPO, tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in FOLDERS:
        for init in (REPO / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.relative_to(REPO).as_posix()
            assert f"aitally/{rel}" in names, f"{rel} is missing from the wheel"
    assert "aitally/collectors/catalog.toml" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    with tarfile.open(sdist) as tar:
        assert any(n.endswith("/pyproject.toml") for n in tar.getnames())
