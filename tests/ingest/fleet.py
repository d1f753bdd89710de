"""A synthetic organisation for the dashboard tests and screenshots: 30 people in three org
units over the 8 last full ISO weeks, with outcomes; the same every run (seeded)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from tests.ingest.builders import record
from tests.ingest.conftest import Server

TODAY = dt.datetime.now(dt.UTC).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())  # this week's; data ends the day before
WEEKS = 8
ORGS = {"eng": 14, "data": 9, "ops": 7}
MODELS = {"claude-code": "claude-sonnet-4", "codex": "gpt-5", "gemini-cli": "gemini-2.5-pro"}


def _outcomes(rnd: random.Random, tool: str, style: str) -> dict[str, int] | None:
    if style == "chat":
        return None  # a tool used for questions only, or one that records nothing
    if tool == "cursor":
        suggested = rnd.randint(20, 200)
        return {"lines_suggested": suggested, "lines_accepted": suggested * rnd.randint(1, 5) // 10}
    proposed = rnd.randint(0, 8)
    rejected = rnd.randint(0, proposed) if rnd.random() < 0.2 else rnd.randint(0, proposed // 3)
    accepted = proposed - rejected
    run = rnd.randint(0, 6)
    commit = int(style == "agentic" and accepted >= 2 and run >= 1 and rnd.random() < 0.6)
    return {
        "edits_proposed": proposed,
        "edits_accepted": accepted,
        "edits_rejected": rejected,
        "edits_modified": rnd.randint(0, accepted // 3),
        "lines_added": accepted * rnd.randint(3, 15),
        "lines_removed": rnd.randint(0, accepted * 4),
        "commands_run": run,
        "commands_failed": rnd.randint(0, run // 3),
        "commits": commit,
        "commits_with_ai": commit,
    }


def populate(server: Server) -> None:
    """Enrolls every person's device (their org unit) and posts their 8 weeks."""
    rnd = random.Random(14)
    by_person: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for org, size in ORGS.items():
        for i in range(size):
            person = f"{org}-{i:02d}"
            style = rnd.choice(["chat", "assisted", "assisted", "agentic"])
            tools = ["claude-code"] if rnd.random() < 0.8 else []
            tools += [t for t, p in (("cursor", 0.4), ("codex", 0.3), ("gemini-cli", 0.2))
                      if rnd.random() < p] or ["cursor"]  # fmt: skip
            first_week = rnd.randint(0, 4)  # adoption grows over the weeks
            for w in range(first_week, WEEKS):
                monday = MONDAY - dt.timedelta(weeks=WEEKS - w)
                for d in sorted(rnd.sample(range(5), rnd.randint(1, 4))):
                    day = monday + dt.timedelta(days=d)
                    tool = rnd.choice(tools)
                    n = rnd.randint(2, 40) * 1000
                    rec = record(
                        day=day,
                        tool=tool,
                        active=float(rnd.randint(6, 90) * 60),
                        n_tokens=n,
                        model=MODELS.get(tool, "unknown"),
                    )
                    if tool == "cursor":  # Cursor keeps no token counts locally
                        rec.update(tokens=None, models={})
                    outcomes = _outcomes(rnd, tool, style)
                    if outcomes is not None:
                        rec["outcomes"] = outcomes
                    by_person[(person, org)].append(rec)
    for (person, org), records in by_person.items():
        server.post_as(person, records, org_unit=org)
