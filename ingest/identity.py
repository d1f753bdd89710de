"""Who a record counts for: decided by the server from the enrollment, never by the record.

The pseudonym key lives only with the ingest service (`AITALLY_INGEST_PSEUDONYM_KEYS` or a
key file); a laptop holds nothing that makes or reverses a colleague's pseudonym. The
person behind an enrollment is fixed when the device enrolls (docs/privacy.md):

- `identified`: the login as asserted at enrollment;
- `pseudonymous`: `hmac:<key id>:<hex>` of the login; the login itself is never stored;
- `anonymous`, `aggregate`: records carry a second keyed hash (`anon:`), distinct from the
  pseudonym, used only to count people for suppression; no device, batch or exact arrival.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from aitally.core.wire import PRIVACY_LEVELS
from aitally.ingest.suppress import ALL, NO_ORG, OTHER

LEVELS = PRIVACY_LEVELS
ENV_KEYS = "AITALLY_INGEST_PSEUDONYM_KEYS"
MIN_KEY_CHARS = 32
HEX_CHARS = 32  # 128 bits, as the agent's own keyed hashes (uploader/policy.py)
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ORG_UNIT = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")
_LOGIN = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,256}$")
RESERVED_ORG_UNITS = frozenset({ALL, OTHER, NO_ORG})


class KeyConfigError(ValueError):
    """The pseudonym key configuration is unusable; str() says what to fix."""


@dataclass(frozen=True)
class KeyRing:
    """Pseudonym keys by id; the first is current, older ones only recognise old pseudonyms."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        """The id new pseudonyms are made under."""
        return self.keys[0][0]

    def pseudonym(self, purpose: str, value: str, key_id: str | None = None) -> str:
        """`hmac:<key id>:<hex>` of value for one purpose, under the current (or a named) key."""
        kid, secret = next((k, s) for k, s in self.keys if key_id in (None, k))
        digest = hmac.new(secret, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
        return f"hmac:{kid}:{digest[:HEX_CHARS]}"

    def all_pseudonyms(self, purpose: str, value: str) -> list[str]:
        """value's pseudonym under every key, current first (to find a person after rotation)."""
        return [self.pseudonym(purpose, value, kid) for kid, _ in self.keys]


def parse_keys(text: str, origin: str) -> KeyRing:
    """`id:secret` entries separated by commas or lines, current first; secrets >= 32 chars."""
    keys: list[tuple[str, bytes]] = []
    for entry in re.split(r"[,\n]", text):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        kid, sep, secret = entry.partition(":")
        if not sep or not _KEY_ID.match(kid):
            raise KeyConfigError(f"{origin}: each key is <id>:<secret>, id of [A-Za-z0-9_.-]")
        if len(secret) < MIN_KEY_CHARS:
            raise KeyConfigError(
                f"{origin}: key {kid!r} is shorter than {MIN_KEY_CHARS} characters"
            )
        if any(k == kid for k, _ in keys):
            raise KeyConfigError(f"{origin}: key id {kid!r} appears twice")
        keys.append((kid, secret.encode()))
    if not keys:
        raise KeyConfigError(
            f"{origin}: no key; give <id>:<secret> (e.g. k1:$(openssl rand -hex 32))"
        )
    return KeyRing(tuple(keys))


def load_keys(key_file: Path | None) -> KeyRing:
    """The key ring from the key file (owner-only), else the environment; KeyConfigError if none."""
    if key_file is not None:
        try:
            mode = key_file.stat().st_mode
            text = key_file.read_text()
        except OSError as exc:
            raise KeyConfigError(f"pseudonym key file {key_file}: {exc.strerror}") from None
        if mode & 0o077:
            raise KeyConfigError(f"pseudonym key file {key_file}: others may read it; chmod 600")
        return parse_keys(text, str(key_file))
    env = os.environ.get(ENV_KEYS)
    if not env:
        raise KeyConfigError(
            f"no pseudonym key: set {ENV_KEYS}=k1:<32+ random characters> or pass "
            "--pseudonym-key-file (docs/privacy.md)"
        )
    return parse_keys(env, ENV_KEYS)


def stricter(a: str, b: str) -> str:
    """The stricter of two privacy levels."""
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def level_of_record(kind: str, user: str | None, declared: str | None = None) -> str:
    """The level a record was shaped for: its declared level (newer agents), else what an
    older agent's fields imply. It can only make storage stricter, never less strict."""
    if kind == "daily_total":
        return "aggregate"
    if declared is not None:
        return declared
    if user is None:
        return "anonymous"
    return "pseudonymous" if user.startswith("hmac:") else "identified"


def check_org_unit(value: str | None) -> str | None:
    """A valid org unit or None; ValueError naming what is allowed."""
    if value is None:
        return None
    if not _ORG_UNIT.match(value):
        raise ValueError("org_unit: must be 1..128 printable characters")
    if value in RESERVED_ORG_UNITS:
        raise ValueError(f"org_unit: {value!r} is reserved for report rows")
    return value


def check_login(value: str) -> str:
    """A valid asserted login; ValueError naming what is allowed."""
    if not _LOGIN.match(value):
        raise ValueError("login: must be 1..256 printable characters")
    return value


@dataclass(frozen=True, slots=True)
class Enrollment:
    """What the server recorded when a device enrolled: the only identity it believes."""

    device_id: str
    person: str
    """login (identified), its pseudonym, or `enrolled:<device id>` for agents that sent none"""
    level: str
    org_unit: str | None
    device_name: str | None
    """the label at identified, else None"""
    proof: str = "asserted"
    """what the identity rests on: "asserted" (enroll secret) or "oidc" (an ID token)"""


@dataclass(frozen=True, slots=True)
class Attribution:
    """The identity columns a stored record gets, all set by the server."""

    owner: str
    """who may send this record id again: the device id, or a keyed tag of it when anonymous"""
    person: str
    user: str | None
    device: str | None
    org_unit: str | None
    batch_id: str
    received_at: float


# Arrival times are coarsened as the level rounds the record's own times (uploader/policy.py).
_ROUNDING = {"identified": 1.0, "pseudonymous": 60.0, "anonymous": 86400.0, "aggregate": 86400.0}


def owner_tags(ring: KeyRing, device_id: str) -> frozenset[str]:
    """Every owner value a device's records may be stored under."""
    return frozenset({device_id, *ring.all_pseudonyms("owner", device_id)})


def attribute(ring: KeyRing, who: Enrollment, shape: str, batch_id: str, now: float) -> Attribution:
    """The stored identity of one record of this enrollment, shaped for level `shape`
    (`level_of_record`); the record's own identity claims are ignored."""
    level = stricter(who.level, shape)
    received = now - now % _ROUNDING[level]
    if level in ("anonymous", "aggregate"):
        # Counting people for suppression needs a stable key; this one is not the
        # pseudonym and the device is not stored.
        return Attribution(
            owner=ring.pseudonym("owner", who.device_id),
            person=ring.pseudonym("anon", who.person),
            user=None,
            device=None,
            org_unit=who.org_unit,
            batch_id="",
            received_at=received,
        )
    device = who.device_name if level == "identified" else ring.pseudonym("device", who.device_id)
    return Attribution(
        owner=who.device_id,
        person=who.person,
        user=who.person if not who.person.startswith("enrolled:") else None,
        device=device,
        org_unit=who.org_unit,
        batch_id=batch_id,
        received_at=received,
    )


def persons_of(
    ring: KeyRing, *, login: str | None = None, pseudonym: str | None = None
) -> set[str]:
    """Every stored person value of one person (to erase): login, pseudonyms, anon keys."""
    base: set[str] = set()
    if login is not None:
        base |= {login, *ring.all_pseudonyms("user", login)}
    if pseudonym is not None:
        base.add(pseudonym)
    return base | {a for p in base for a in ring.all_pseudonyms("anon", p)}
