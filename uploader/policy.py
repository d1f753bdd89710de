"""The privacy policy in force: identities as keyed pseudonyms or nothing, rounded times."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import math
import socket
import sqlite3
from dataclasses import dataclass

from aitally.core.config import Config
from aitally.core.store.keys import pseudonym_key

DAY = 86400.0
# Seconds each level rounds timestamps to: minutes still show a working day's shape,
# days (anonymous, aggregate) no longer tie a record to a moment.
ROUNDING = {"identified": 1.0, "pseudonymous": 60.0, "anonymous": DAY, "aggregate": DAY}
# 128 bits: collision-free for any fleet, and shorter than a full digest on the wire.
HEX_CHARS = 32


@dataclass(frozen=True, slots=True)
class Policy:
    """What leaves the machine at one privacy level, and the key its pseudonyms are made with."""

    level: str
    key: bytes
    key_id: str
    org_key: bool  # False: a per-install random key, so pseudonyms aggregate nowhere
    org_unit: str | None
    send_projects: bool

    def pseudonym(self, kind: str, value: str) -> str:
        """A keyed hash of `value`, prefixed with the key id: stable per key, not reversible."""
        digest = hmac.new(self.key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
        return f"hmac:{self.key_id}:{digest[:HEX_CHARS]}"

    def user(self) -> str | None:
        """The login at `identified`, else None.

        At `pseudonymous` the ingest service makes the pseudonym from the login asserted at
        enrollment with a key only it holds (docs/privacy.md): a pseudonym made here would
        need a key every laptop can read, so anyone could reverse a colleague's.
        """
        return login() if self.level == "identified" else None

    def device(self) -> str | None:
        """The host name at `identified`, else None (the server knows the enrollment)."""
        return socket.gethostname() if self.level == "identified" else None

    def project(self, label: str | None) -> str | None:
        """A pseudonym of the project label when projects are sent at this level, else None."""
        if not label or not self.send_projects or self.level == "aggregate":
            return None
        return self.pseudonym("project", label)

    def round_start(self, t: float) -> float:
        """`t` rounded down to the level's step."""
        step = ROUNDING[self.level]
        return math.floor(t / step) * step

    def round_end(self, t: float) -> float:
        """Ends round up below a day (the interval still covers the work), down to the day above."""
        step = ROUNDING[self.level]
        return math.floor(t / step) * step if step >= DAY else math.ceil(t / step) * step


def login() -> str:
    """The current login name, or "unknown" when the OS cannot say."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def load(cfg: Config, conn: sqlite3.Connection) -> Policy:
    """The policy the configuration sets; without an org key, keyed by this install's own key."""
    p = cfg.section("privacy")
    if p["org_key"]:
        key, key_id, org = p["org_key"].encode(), p["org_key_id"], True
    else:
        raw = pseudonym_key(conn)
        # The key id names the key without revealing it, so rotations stay visible.
        key, key_id, org = (
            raw.encode(),
            "local-" + hashlib.sha256(raw.encode()).hexdigest()[:8],
            False,
        )
    return Policy(
        level=p["level"],
        key=key,
        key_id=key_id,
        org_key=org,
        org_unit=p["org_unit"] or None,
        send_projects=p["send_projects"],
    )
