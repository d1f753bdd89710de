"""SHA256SUMS and detached OpenPGP signatures (gpg) for the built artifacts."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

SUMS = "SHA256SUMS"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(paths: Sequence[Path], folder: Path) -> Path:
    """`folder/SHA256SUMS` in `sha256sum`'s format (two spaces, then the file name), so
    `sha256sum -c SHA256SUMS` checks it. Every path must be inside `folder`."""
    lines = [f"{sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in sorted(paths)]
    out = folder / SUMS
    out.write_text("".join(lines))
    return out


def _gpg(gnupghome: Path | None) -> tuple[list[str], dict[str, str]]:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise RuntimeError("gpg is missing: install it (Debian package gnupg) to sign")
    env = dict(os.environ)
    if gnupghome is not None:
        env["GNUPGHOME"] = str(gnupghome)
    return [gpg, "--batch", "--yes", "--quiet"], env


def sign(paths: Sequence[Path], key: str, gnupghome: Path | None = None) -> list[Path]:
    """An ASCII-armoured detached signature `FILE.asc` beside each file, made with `key`
    (a fingerprint, key id or user id of a secret key in the keyring)."""
    base, env = _gpg(gnupghome)
    made = []
    for path in paths:
        sig = path.with_name(path.name + ".asc")
        done = subprocess.run(
            [*base, "--local-user", key, "--armor", "--output", str(sig), "--detach-sign",
             str(path)],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(
                f"gpg could not sign {path.name} with {key!r}: {done.stderr.strip()}"
            )
        made.append(sig)
    return made


def verify(path: Path, signature: Path, gnupghome: Path | None = None) -> bool:
    """True when `signature` is a good signature of `path` by a key in the keyring."""
    base, env = _gpg(gnupghome)
    done = subprocess.run(
        [*base, "--verify", str(signature), str(path)], env=env, capture_output=True
    )
    return done.returncode == 0
