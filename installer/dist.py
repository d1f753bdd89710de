"""`make dist`: the wheel and sdist, and the Debian package built from that wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from aitally.installer import debian


def build_python(project: Path, out_dir: Path) -> tuple[Path, Path]:
    """Wheel and sdist through setuptools' PEP 517 hooks, in this environment (no download)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    code = (
        # The folder is read before building: setuptools rewrites sys.argv while it works.
        "import sys; from setuptools import build_meta as b; out = sys.argv[1]; "
        "print('built:' + b.build_wheel(out)); print('built:' + b.build_sdist(out))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out_dir.resolve())],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    # setuptools chatters on stdout too; the two names are the marked lines.
    wheel, sdist = [ln[6:] for ln in done.stdout.splitlines() if ln.startswith("built:")]
    return out_dir / wheel, out_dir / sdist


def version(project: Path) -> str:
    with (project / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def main(project: Path | None = None, out_dir: Path | None = None) -> list[Path]:
    project = project or Path.cwd()
    if not (project / "pyproject.toml").is_file():
        sys.exit(f"dist: run from the repository root ({project} has no pyproject.toml)")
    out = out_dir or project / "dist"
    wheel, sdist = build_python(project, out)
    built = [wheel, sdist]
    if debian.available():
        built.append(debian.build_deb(wheel, out, version(project)))
    else:
        print("dist: dpkg-deb or /usr/bin/python3 missing; no .deb built", file=sys.stderr)
    for path in built:
        print(path)
    return built


if __name__ == "__main__":
    main()
