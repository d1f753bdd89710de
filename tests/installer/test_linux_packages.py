"""`make dist` for a fleet, for real: nFPM's .deb and .rpm from one description, inspected with
dpkg-deb and rpm, unpacked into a scratch root; the baked secret readable by root and its group
only and absent from the metadata; SHA256SUMS and gpg signatures that catch tampering."""

from __future__ import annotations

import grp
import gzip
import os
import shutil
import stat
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aitally import cli_docs
from aitally.installer import dist, linux_packages, signing
from aitally.installer.package_spec import DOC_FILES, SECRET_FILE, SECRET_GROUP

REPO = Path(__file__).resolve().parents[2]
SECRET = "enroll-S3CRET-marker-5be1"
ENDPOINT = "https://aitally.example:8443"

pytestmark = pytest.mark.skipif(
    not linux_packages.available() or not (shutil.which("dpkg-deb") and shutil.which("gpg")),
    reason="needs nfpm (dev extra), dpkg-deb, gpg and /usr/bin/python3",
)
needs_rpm = pytest.mark.skipif(
    shutil.which("rpm") is None, reason="rpm is not installed (apt: rpm)"
)


def run(*argv: str, **kw: object) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


@dataclass
class Build:
    out: Path
    deb: Path
    rpm: Path
    gnupghome: Path


@pytest.fixture(scope="module")
def gnupghome() -> Iterator[Path]:
    """A throwaway signing key in its own keyring (short path: gpg-agent's socket lives there)."""
    home = Path(tempfile.mkdtemp(prefix="gpg-", dir="/tmp"))
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
        "aitally test <test@localhost>", "ed25519", "sign", "1d", env=env)  # fmt: skip
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, gnupghome: Path) -> Build:
    out = tmp_path_factory.mktemp("dist")
    secret_file = out.parent / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    cli_docs.write(out / "cli")
    dist.main(
        ["--out", str(out), "--cli-docs", str(out / "cli"), "--endpoint", ENDPOINT,
         "--enroll-secret-file", str(secret_file), "--sign-key", "test@localhost",
         "--gnupghome", str(gnupghome)],
        project=REPO,
    )  # fmt: skip
    (deb,) = out.glob("*.deb")
    (rpm,) = out.glob("*.rpm")
    return Build(out, deb, rpm, gnupghome)


def _deb_files(deb: Path) -> dict[str, str]:
    """Path -> `dpkg-deb -c` line, for everything but folders."""
    lines = run("dpkg-deb", "-c", str(deb)).splitlines()
    return {ln.split()[5].removeprefix("."): ln for ln in lines if not ln.startswith("d")}


def test_deb_metadata_files_and_scripts(built: Build) -> None:
    info = run("dpkg-deb", "-I", str(built.deb))
    assert "Package: aitally" in info and "Depends: python3." in info
    assert SECRET not in info and ENDPOINT not in info
    files = _deb_files(built.deb)
    assert "/opt/aitally/bin/aitally" in files
    assert "-> /opt/aitally/bin/aitally" in files["/usr/bin/aitally"]
    for dst in DOC_FILES.values():
        assert dst in files, dst
    assert files[SECRET_FILE].split()[:2] == ["-rw-r-----", f"root/{SECRET_GROUP}"]
    control = Path(tempfile.mkdtemp())
    try:
        run("dpkg-deb", "-e", str(built.deb), str(control))
        for name in ("preinst", "postinst", "prerm", "postrm"):
            assert os.access(control / name, os.X_OK), name
            assert SECRET not in (control / name).read_text()
        assert "groupadd --system aitally" in (control / "preinst").read_text()
        assert "install --system" in (control / "postinst").read_text()
        # the baked files are conffiles: an upgrade keeps a local edit
        assert set((control / "conffiles").read_text().split()) == {
            SECRET_FILE, "/etc/aitally/managed.toml"}  # fmt: skip
        for path in control.iterdir():
            assert SECRET.encode() not in path.read_bytes(), path.name
    finally:
        shutil.rmtree(control)


@needs_rpm
def test_rpm_from_the_same_description(built: Build) -> None:
    info = run("rpm", "-qip", str(built.rpm))
    assert "Name        : aitally" in info
    assert SECRET not in info
    assert SECRET not in run("rpm", "-qp", "--xml", str(built.rpm))  # every header tag
    requires = run("rpm", "-qp", "--requires", str(built.rpm))
    assert "python(abi) = 3." in requires
    scripts = run("rpm", "-qp", "--scripts", str(built.rpm))
    for scriptlet in ("preinstall", "postinstall", "preuninstall", "postuninstall"):
        assert f"{scriptlet} scriptlet" in scripts, scriptlet
    assert "configure|1|2)" in scripts and "remove|deconfigure|0)" in scripts
    listing = run("rpm", "-qlvp", str(built.rpm)).splitlines()
    rpm_files = {ln.split()[8]: ln for ln in listing if not ln.startswith("d")}
    assert rpm_files[SECRET_FILE].split()[0] == "-rw-r-----"
    assert rpm_files[SECRET_FILE].split()[2:4] == ["root", SECRET_GROUP]
    # one description: the same files in both formats
    assert set(rpm_files) == set(_deb_files(built.deb))


def test_unpacked_into_a_scratch_root(built: Build) -> None:
    root = Path(tempfile.mkdtemp(prefix="aitally-root-", dir="/tmp"))
    try:
        root.chmod(0o755)  # so that another user can walk to the files
        run("dpkg", "-x", str(built.deb), str(root))
        policy = tomllib.loads((root / "etc/aitally/managed.toml").read_text())
        assert policy == {"upload": {"endpoint": ENDPOINT}}
        secret = root / SECRET_FILE.lstrip("/")
        assert secret.read_text().strip() == SECRET
        mode = secret.stat().st_mode
        assert stat.S_IMODE(mode) == 0o640 and not mode & stat.S_IROTH
        man = gzip.decompress((root / "usr/share/man/man1/aitally.1.gz").read_bytes())
        assert man.startswith(b".\\\" Generated from aitally's argparse parser")
        bash = (root / "usr/share/bash-completion/completions/aitally").read_text()
        assert "complete -F _aitally aitally" in bash
        assert "/opt/aitally" in (root / "opt/aitally/bin/aitally").read_text().splitlines()[0]
        if os.geteuid() == 0 and shutil.which("runuser"):
            try:
                grp.getgrnam(SECRET_GROUP)
            except KeyError:
                pass  # as on a target before preinst: the group is absent, root keeps it
            else:
                assert secret.stat().st_gid == grp.getgrnam(SECRET_GROUP).gr_gid
            # Another user reads the policy next to it, but never the secret.
            as_nobody = ["runuser", "-u", "nobody", "--", "cat"]
            assert subprocess.run([*as_nobody, str(secret.with_name("managed.toml"))],
                                  capture_output=True).returncode == 0  # fmt: skip
            denied = subprocess.run([*as_nobody, str(secret)], capture_output=True, text=True)
            assert denied.returncode != 0 and SECRET not in denied.stdout
    finally:
        shutil.rmtree(root)


def test_checksums_and_signatures_catch_tampering(built: Build, tmp_path: Path) -> None:
    sums = (built.out / signing.SUMS).read_text()
    listed = {line.split("  ", 1)[1] for line in sums.splitlines()}
    for name in (built.deb.name, built.rpm.name, "cli/aitally.1", "windows/aitally.wxs"):
        assert name in listed, name
    run("sha256sum", "--check", "--quiet", signing.SUMS, cwd=built.out)
    for path in (built.deb, built.rpm, built.out / signing.SUMS):
        sig = path.with_name(path.name + ".asc")
        assert sig.read_text().startswith("-----BEGIN PGP SIGNATURE-----")
        assert signing.verify(path, sig, built.gnupghome), path.name
    # One flipped byte in a copy of the .deb: the signature and the sum both fail.
    copy = tmp_path / built.deb.name
    data = bytearray(built.deb.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    assert not signing.verify(copy, built.deb.with_name(built.deb.name + ".asc"), built.gnupghome)
    shutil.copy(built.out / signing.SUMS, tmp_path / signing.SUMS)
    check = subprocess.run(["sha256sum", "--check", "--ignore-missing", signing.SUMS],
                           cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert check.returncode != 0 and "FAILED" in check.stdout


def test_a_wrong_key_is_one_clear_error(built: Build) -> None:
    with pytest.raises(RuntimeError, match="could not sign SHA256SUMS with 'nobody@nowhere'"):
        signing.sign([built.out / signing.SUMS], "nobody@nowhere", built.gnupghome)


def test_without_baking_no_secret_and_no_policy(built: Build, tmp_path: Path) -> None:
    wheel = next(built.out.glob("*.whl"))
    (deb,) = linux_packages.build(wheel, tmp_path, dist.version(REPO), formats=("deb",))
    files = _deb_files(deb)
    assert not any(path.startswith("/etc/") for path in files)
    assert not any(path.startswith("/usr/share/man") for path in files)  # no docs given
