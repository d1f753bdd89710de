"""Device token storage: a working keyring first, every call bounded, else an explicit 0600 file."""

from __future__ import annotations

import os
import stat
import threading
import time

import keyring
import pytest
from keyring.backend import KeyringBackend

from aitally.uploader import credentials


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keychain, which a headless container does not have."""

    # Negative: never picked by keyring's own discovery (its chainer would include it for
    # every later test of the run); these tests install it explicitly.
    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


class HangingKeyring(MemoryKeyring):
    """A locked Secret Service whose unlock prompt nobody answers."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(10)
        return None

    def set_password(self, service, username, password):
        self.release.wait(10)


@pytest.fixture
def restore_keyring():
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_headless_linux_falls_back_to_a_0600_file(restore_keyring):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    where = credentials.set_token("tok-1")
    path = credentials.token_file()
    assert where == f"file:{path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.get_token() == "tok-1"
    assert credentials.store_name() == where
    credentials.delete_token()
    assert credentials.get_token() is None and not path.exists()


def test_a_group_readable_token_file_is_refused(restore_keyring):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    credentials.set_token("tok-1")
    os.chmod(credentials.token_file(), 0o644)
    assert credentials.get_token() is None


def test_a_working_keyring_is_preferred_and_named(restore_keyring):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    where = credentials.set_token("tok-2")
    assert where.startswith("keyring:") and "MemoryKeyring" in where
    assert backend.items == {("aitally", "device-token"): "tok-2"}
    assert not credentials.token_file().exists()
    assert credentials.get_token() == "tok-2"
    assert credentials.store_name() == where


def test_a_hanging_keyring_times_out_and_the_file_is_used(restore_keyring):
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    try:
        start = time.monotonic()
        where = credentials.set_token("tok-3", timeout=0.3)
        assert where.startswith("file:")
        assert credentials.get_token(timeout=0.3) == "tok-3"
        assert time.monotonic() - start < 2
    finally:
        backend.release.set()


def test_token_must_be_a_single_word():
    with pytest.raises(ValueError):
        credentials.set_token("two words")


def test_a_hung_keyring_leaks_no_thread_per_upload_pass(restore_keyring):
    """Issue 17: each pass started one more keyring thread that hung beside the others."""
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    try:
        for _ in range(10):  # ten upload passes, each reading the token
            credentials.get_token(timeout=0.05)
        alive = [t for t in threading.enumerate() if t.name == "aitally-keyring"]
        assert len(alive) <= 1, alive
    finally:
        backend.release.set()
    for t in threading.enumerate():
        if t.name == "aitally-keyring":
            t.join(5)
    # Once the keyring answers again, it is used again.
    keyring.set_keyring(MemoryKeyring())
    assert credentials.set_token("tok-4", timeout=1).startswith("keyring:")
