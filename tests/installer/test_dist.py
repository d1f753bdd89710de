"""`make dist`'s wheel and sdist carry every package of the checkout and its data files; its
input errors are one line."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read --enroll-secret-file: No such file"), ("\n", "is empty")],
)
def test_a_bad_secret_file_is_one_line_before_any_build(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    secret = tmp_path / "secret.txt"
    if content is not None:
        secret.write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "aitally.installer.dist", "--out", str(tmp_path / "out"),
         "--enroll-secret-file", str(secret)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("dist: ") and expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
