"""What a receiver said about one batch, reduced to what the delivery loop must do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Outcome(Enum):
    """What the delivery loop does next with a batch."""

    OK = "ok"  # taken; per-record rejections in `rejected`
    RETRY = "retry"  # try the same records later
    SPLIT = "split"  # too large: halve the batch
    REJECT = "reject"  # the batch as a whole is refused: halve to isolate the bad record
    AUTH = "auth"  # credentials refused: pause uploads


@dataclass
class Answer:
    """One receiver's answer to one batch: the outcome, the HTTP status and the details."""

    outcome: Outcome
    status: int | None
    detail: str
    accepted: int = 0
    duplicate: int = 0
    rejected: dict[int, str] = field(default_factory=dict)  # index in the batch -> reason
    retry_after: float | None = None


def classify_status(status: int, detail: str, retry_after: float | None) -> Answer:
    """The outcome of every answer except a verified 200.

    401/403 pause uploads until re-enrollment, 413 halves the batch, 400/422 halve it to
    isolate the refused record, and everything else is retried later with backoff.
    """
    if status in (401, 403):
        return Answer(Outcome.AUTH, status, detail)
    if status == 413:
        return Answer(Outcome.SPLIT, status, detail)
    if status in (400, 422):
        return Answer(Outcome.REJECT, status, detail)
    if status == 407:
        detail = "proxy authentication required; put credentials in upload.proxy"
    # 408, 429, 5xx, and anything unexpected (404 from a wrong URL, a 3xx from a captive
    # portal): keep the data and back off; the detail shows in `status`.
    return Answer(Outcome.RETRY, status, detail, retry_after=retry_after)
