"""The device token: in the OS keyring (every call under a timeout), else an explicit 0600 file."""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aitally.core import paths
from aitally.core.logs import RateLimited

log = logging.getLogger(__name__)
_problems = RateLimited(log, every=300.0)

SERVICE = "aitally"
USERNAME = "device-token"
FILE_NAME = "device-token"
T = TypeVar("T")


class _Timeout(Exception):
    pass


# A keyring call that did not answer in time and still runs: while it does, no other call is
# started (each would hang beside it, one more thread per upload pass).
_hung: threading.Thread | None = None
_hung_lock = threading.Lock()


def _bounded(fn: Callable[[], T], timeout: float) -> T:
    """Runs one keyring call in a daemon thread: a locked Secret Service can hang forever."""
    global _hung
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    with _hung_lock:
        if _hung is not None and _hung.is_alive():
            raise _Timeout("keyring has not answered an earlier call yet")
        _hung = None
    t = threading.Thread(target=run, name="aitally-keyring", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        with _hung_lock:
            _hung = t
        raise _Timeout(f"keyring did not answer within {timeout:g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def token_file() -> Path:
    """The 0600 file that holds the token when no usable keyring exists."""
    return paths.data_dir() / FILE_NAME


def _backend(timeout: float) -> Any | None:
    """The keyring backend if it can really hold a secret; None for fail/null/plaintext ones."""

    def pick() -> Any:
        import keyring

        return keyring.get_keyring()

    try:
        backend = _bounded(pick, timeout)
    except Exception as exc:
        _problems.warning("backend", "keyring unavailable (%s); using the token file", exc)
        return None
    return backend if _usable(backend) else None


def _usable(backend: Any) -> bool:
    module = type(backend).__module__
    # fail raises on every call, null silently stores nothing, keyrings.alt writes plaintext.
    if module.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")):
        return False
    if module.startswith("keyring.backends.chainer"):
        return bool(getattr(backend, "backends", ()))
    return True


def _backend_name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def store_name(timeout: float = 5.0) -> str:
    """Where the token lives (or would go): "keyring:<backend>" or "file:<path>"."""
    backend = _backend(timeout)
    if backend is not None and not token_file().exists():
        return f"keyring:{_backend_name(backend)}"
    return f"file:{token_file()}"


def get_token(timeout: float = 5.0) -> str | None:
    """The stored token from the keyring, else the token file; None when there is none."""
    backend = _backend(timeout)
    if backend is not None:
        try:
            value = _bounded(lambda: backend.get_password(SERVICE, USERNAME), timeout)
            if value:
                return str(value)
        except Exception as exc:
            _problems.warning("get", "keyring read failed (%s); trying the token file", exc)
    return _read_file()


def set_token(token: str, timeout: float = 5.0) -> str:
    """Stores the token; returns the store used. The keyring wins; the file is the fallback."""
    if not token or any(c.isspace() for c in token):
        raise ValueError("a device token is a non-empty string without whitespace")
    backend = _backend(timeout)
    if backend is not None:
        try:
            _bounded(lambda: backend.set_password(SERVICE, USERNAME, token), timeout)
        except Exception as exc:
            _problems.warning("set", "keyring write failed (%s); using the token file", exc)
        else:
            token_file().unlink(missing_ok=True)  # one place only, so status names it truly
            return f"keyring:{_backend_name(backend)}"
    _write_file(token)
    return f"file:{token_file()}"


def delete_token(timeout: float = 5.0) -> None:
    """Removes the token from the keyring and the token file alike."""
    backend = _backend(timeout)
    if backend is not None:
        try:
            _bounded(lambda: backend.delete_password(SERVICE, USERNAME), timeout)
        except Exception as exc:  # PasswordDeleteError when absent: nothing to do
            log.debug("keyring delete: %s", exc)
    token_file().unlink(missing_ok=True)


def _write_file(token: str) -> None:
    path = token_file()
    paths.make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    # Created 0600 from the start (never world-readable for an instant), then renamed
    # over the old file so a crash leaves either the old token or the new one.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, token.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_file() -> str | None:
    path = token_file()
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    # Like ssh with private keys: a token others can read may have leaked; refuse it.
    if sys.platform != "win32" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        _problems.warning(
            "mode",
            "token file %s is readable by others (mode %o); run `chmod 600 %s` or enroll again",
            path,
            stat.S_IMODE(st.st_mode),
            path,
        )
        return None
    value = path.read_text(encoding="utf-8").strip()
    return value or None
