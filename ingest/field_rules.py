"""Rules every field of the batch body shares: the printable-text pattern, the `Reason` a
field carries (the text a rejected record's `reason` gives for it; `aitally.ingest.wire` turns
pydantic's errors into those texts), and the error whose message is already a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic_core import PydanticCustomError

from aitally.core.wire import MAX_COUNT

# No control characters (C0, DEL, C1: terminal escapes); lone surrogates (JSON "\ud800")
# fail as strings before this.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
CUSTOM = "aitally_record"  # the error type whose message is already the reason


@dataclass(frozen=True)
class Reason:
    """A field's rejection text: `default`, or the entry for pydantic's error type."""

    default: str
    by_type: Mapping[str, str] = field(default_factory=dict)

    def text(self, error_type: str) -> str:
        """The reason for an error of this pydantic type."""
        return self.by_type.get(error_type, self.default)


def count_reason(minimum: int, suffix: str = "") -> Reason:
    """The reason for an integer count from `minimum` to MAX_COUNT."""
    too_big = f"must be at most {MAX_COUNT}"
    return Reason(f"must be an integer >= {minimum}{suffix}", {"less_than_equal": too_big})


def text_reason(limit: int) -> Reason:
    """The reason for a printable text of 1..limit characters."""
    return Reason(f"must be 1..{limit} printable characters", {"string_type": "must be a string"})


def one_of(values: tuple[str, ...], suffix: str = "") -> Reason:
    """The reason for a value of a vocabulary."""
    return Reason("must be one of " + ", ".join(sorted(values)) + suffix)


def rejected(message: str) -> PydanticCustomError:
    """A validator's error whose message is the reason itself."""
    return PydanticCustomError(CUSTOM, message)


def field_reason(model: type[BaseModel], name: str) -> Reason:
    """The Reason declared on one field of model."""
    found = [m for m in model.model_fields[name].metadata if isinstance(m, Reason)]
    return found[0]
