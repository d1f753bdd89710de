"""`make dist`: the wheel and sdist, the .deb and .rpm built from that wheel, the macOS .pkg
and Windows .msi recipes, SHA256SUMS, and with a signing key detached signatures of each.

The completions and man pages come in as a folder (`--cli-docs`), generated from the parsers
beforehand by `python -m aitally.cli_docs` (the installer does not import the command lines).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from aitally.core.cli_args import Parser
from aitally.installer import linux_packages, macos_pkg, signing, windows_msi
from aitally.installer.package_spec import Baked


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
    """The project's version, from pyproject.toml."""
    with (project / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def write_recipes(out: Path, version: str, wheel: str) -> list[Path]:
    """The macOS .pkg and Windows .msi recipes, under `out/macos` and `out/windows`."""
    written = []
    for folder, files in (
        ("macos", macos_pkg.render(version, wheel)),
        ("windows", windows_msi.render(version, wheel)),
    ):
        for name, data in files.items():
            path = out / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    return written


def build_parser() -> argparse.ArgumentParser:
    """`python -m aitally.installer.dist`'s options (the Makefile passes them through)."""
    p = Parser(
        prog="dist",
        description="Build the wheel, sdist, .deb and .rpm into --out, with SHA256SUMS.",
    )
    p.add_argument("--out", type=Path, default=Path("dist"), help="output folder")
    p.add_argument("--cli-docs", type=Path, help="generated completions and man pages")
    p.add_argument("--endpoint", help="bake this ingest URL into the packages' managed policy")
    p.add_argument(
        "--enroll-secret-file", type=Path, help="bake the enroll secret read from this file"
    )
    p.add_argument("--sign-key", help="gpg key (fingerprint or user id) for .asc signatures")
    p.add_argument("--gnupghome", type=Path, help="gpg home holding that key")
    return p


def main(argv: Sequence[str] | None = None, project: Path | None = None) -> list[Path]:
    """Builds everything; returns the paths written."""
    args = build_parser().parse_args(argv)
    project = project or Path.cwd()
    if not (project / "pyproject.toml").is_file():
        sys.exit(f"dist: run from the repository root ({project} has no pyproject.toml)")
    out: Path = args.out if args.out.is_absolute() else project / args.out
    secret = None
    if args.enroll_secret_file is not None:
        try:
            secret = args.enroll_secret_file.read_text().strip()
        except OSError as exc:
            sys.exit(f"dist: cannot read --enroll-secret-file: {exc.strerror}")
        if not secret:
            sys.exit(f"dist: --enroll-secret-file {args.enroll_secret_file} is empty")
    try:
        built = _build_all(project, out, args, Baked(args.endpoint, secret))
    except RuntimeError as exc:  # nfpm or gpg refused: one line naming it
        sys.exit(f"dist: {exc}")
    for path in built:
        print(path)
    return built


def _build_all(project: Path, out: Path, args: argparse.Namespace, baked: Baked) -> list[Path]:
    """Every artifact, then SHA256SUMS over them, then their signatures."""
    wheel, sdist = build_python(project, out)
    built = [wheel, sdist]
    if linux_packages.available():
        built += linux_packages.build(
            wheel, out, version(project), cli_docs=args.cli_docs, baked=baked
        )
    else:
        print("dist: nfpm or /usr/bin/python3 missing; no .deb or .rpm built", file=sys.stderr)
    built += write_recipes(out, version(project), wheel.name)
    if args.cli_docs is not None:
        # Listed in SHA256SUMS when generated inside the output folder (as `make dist` does).
        docs = args.cli_docs.resolve()
        built += sorted(p for p in docs.rglob("*") if p.is_file() and out.resolve() in p.parents)
    sums = signing.write_sums(built, out)
    if args.sign_key:
        built += signing.sign([*built, sums], args.sign_key, args.gnupghome)
    return [*built, sums]


if __name__ == "__main__":
    main()
