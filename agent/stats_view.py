"""Terminal rendering of `aitally stats`."""

from __future__ import annotations

from typing import Any

from aitally.agent.table import human_seconds, human_tokens, render, use_colour


def print_stats(data: dict[str, Any]) -> None:
    by = data["by"]
    rows = []
    for r in data["rows"]:
        t = r["tokens"]
        rows.append(
            [
                str(r[by]),
                str(r["sessions"]),
                human_seconds(r["active_seconds"]),
                str(r["turns"]),
                human_tokens(t["input"]),
                human_tokens(t["output"]),
                human_tokens(t["cache_read"] + t["cache_write"]),
            ]
        )
    if not rows:
        print("nothing recorded in this period")
        return
    tot = data["totals"]
    tt = tot["tokens"]
    rows.append(
        [
            "total",
            str(tot["sessions"]),
            human_seconds(tot["active_seconds"]),
            str(tot["turns"]),
            human_tokens(tt["input"]),
            human_tokens(tt["output"]),
            human_tokens(tt["cache_read"] + tt["cache_write"]),
        ]
    )
    print(f"{data['since']} .. {data['until']}")
    print(
        render(
            [by, "sessions", "active", "turns", "in", "out", "cache"],
            rows,
            colour=use_colour(),
            right=(1, 2, 3, 4, 5, 6),
        )
    )
