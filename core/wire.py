"""The wire contract between the agent's uploader and the ingest service (docs/wire-protocol.md).

Only what both sides must agree on lives here: schema names, the closed vocabularies
(record kinds, token kinds, surfaces, signals) and the size limits. Plain constants and
`Literal` types, standard library only: the agent installs this module too, and its
install stays small. The ingest service builds its validating models on top of it.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

BatchSchema = Literal["aitally.batch.v1"]
"""The `schema` field of every batch envelope this protocol version sends."""
BATCH_SCHEMA: Final[str] = get_args(BatchSchema)[0]

RECORD_SCHEMA: Final = "aitally.session.v1"
"""The name and version of the record layout carried in a batch's `records`."""

RecordKind = Literal["segment", "pause", "daily_total"]
"""A record is one closed segment, a pause, or a daily total (privacy level `aggregate`)."""
RECORD_KINDS: Final[tuple[RecordKind, ...]] = get_args(RecordKind)

TokenKind = Literal["input", "output", "cache_read", "cache_write", "reasoning"]
"""The token figures a record may carry, each an integer or null; always in this order."""
TOKEN_KINDS: Final[tuple[TokenKind, ...]] = get_args(TokenKind)

Surface = Literal["cli", "ide", "ide-extension", "desktop-app", "local-runtime", "web"]
"""Where a tool runs (`web`: an AI service used in a browser tab); a record's `surface` is one
of these or null."""
SURFACES: Final[tuple[Surface, ...]] = get_args(Surface)

Signal = Literal["process", "transcript", "log", "state-db", "otlp", "history"]
"""The kinds of evidence a record was built from (`history`: a browser's visit history)."""
SIGNALS: Final[tuple[Signal, ...]] = get_args(Signal)

OutcomeKind = Literal[
    "edits_proposed",
    "edits_accepted",
    "edits_rejected",
    "edits_modified",
    "lines_added",
    "lines_removed",
    "commands_run",
    "commands_failed",
    "commits",
    "commits_with_ai",
    "lines_suggested",
    "lines_accepted",
]
"""Content-free counts of what a use produced (docs/wire-protocol.md, docs/measuring.md), each
a non-negative integer or absent where the tool records nothing of the kind: code edits the
tool proposed and how the person answered them (`edits_modified`: accepted after the person
changed them), lines the tool added and removed, shell commands run and failed, commits made in
the session and those carrying an AI trailer, and (Cursor) lines suggested and accepted. A
record's `outcomes` object has these keys only; always in this order."""
OUTCOME_KINDS: Final[tuple[OutcomeKind, ...]] = get_args(OutcomeKind)

PrivacyLevel = Literal["identified", "pseudonymous", "anonymous", "aggregate"]
"""Privacy levels from least to most strict (docs/privacy.md)."""
PRIVACY_LEVELS: Final[tuple[PrivacyLevel, ...]] = get_args(PrivacyLevel)

MAX_RECORDS: Final = 500
"""At most this many records per batch; the uploader splits larger backlogs."""

MAX_WIRE_BYTES: Final = 5 << 20
"""A batch body on the wire (gzip-compressed or not) is at most 5 MiB."""

MAX_BODY_BYTES: Final = 20 << 20
"""A gzip-compressed batch body decompresses to at most 20 MiB."""

MAX_COUNT: Final = 10**12
"""Counts (turns, sessions, token figures) are at most 10^12: far above any real record,
and small enough that stored columns and report sums stay within 64-bit integers."""

MAX_SECONDS: Final = 400 * 86400
"""`active_seconds` and `present_seconds` are at most 400 days (a daily total sums sessions)."""

TOOL_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""A tool id is a lower-case slug such as `claude-code` (`aitally` for pause records)."""

KEYED_HASH_PATTERN: Final = r"^hmac:[A-Za-z0-9_.-]{1,64}:[0-9a-f]{16,128}$"
"""`hmac:<key id>:<hex>`: how a project (and, pseudonymously, a user or device) is sent."""

MAX_TOOL_VERSION: Final = 64
"""Characters in `tool_version`."""

MAX_IDENTITY: Final = 256
"""Characters in `project`, `user` and `device`."""

MAX_ORG_UNIT: Final = 128
"""Characters in `org_unit`."""

MAX_MODEL_NAME: Final = 128
"""Characters in a model name (the keys of `models`)."""
