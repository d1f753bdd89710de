"""Where aitally reads and writes on each OS: data, config, logs, fixed managed-policy paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "aitally"


def data_dir() -> Path:
    """Everything the agent writes (store, lock, token fallback); AITALLY_DATA_DIR overrides."""
    env = os.environ.get("AITALLY_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP, appauthor=False))


def log_file() -> Path:
    """The agent's log file (rotated beside it as agent.log.1 ... .5)."""
    return log_dir() / "agent.log"


def log_dir() -> Path:
    """Logs go beside the data when AITALLY_DATA_DIR is set, so tests and CI stay self-contained."""
    env = os.environ.get("AITALLY_DATA_DIR")
    return Path(env) / "logs" if env else Path(platformdirs.user_log_dir(APP, appauthor=False))


def user_config_file() -> Path:
    env = os.environ.get("AITALLY_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml"


def managed_policy_file(platform: str = sys.platform) -> Path:
    """The root-owned managed policy file. Deliberately not redirectable by any variable."""
    if platform == "darwin":
        return Path("/Library/Application Support/aitally/managed.toml")
    if platform == "win32":
        program_data = Path(os.environ.get("SYSTEMDRIVE", "C:") + "\\") / "ProgramData"
        return program_data / "aitally" / "managed.toml"
    return Path("/etc/aitally/managed.toml")


def managed_enroll_secret_file(platform: str = sys.platform) -> Path:
    """The enroll secret a fleet package bakes in, beside the managed policy file.

    Root-owned and readable only by root and the `aitally` group (docs/packaging.md), so the
    secret is never world-readable; an agent whose user is outside the group does not see it.
    """
    return managed_policy_file(platform).with_name("enroll-secret")


def store_file() -> Path:
    return data_dir() / "aitally.db"


def lock_file() -> Path:
    return data_dir() / "agent.lock"


def make_private_dir(folder: Path) -> None:
    """Creates folder (and parents) and makes it 0700 whatever the umask: it holds the
    device secret, usage history and transcript paths. OSError if it cannot be created."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix" and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)


def make_private_file(path: Path) -> None:
    """Creates path if missing and makes it 0600 whatever the umask (POSIX).

    An existing file is never opened: closing any descriptor of a SQLite database drops
    every POSIX lock the process holds on it, under the feet of its open connections.
    """
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if os.name == "posix":
        path.chmod(0o600)
