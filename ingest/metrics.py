"""Counters and latency histograms, rendered in the Prometheus text exposition format."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

Labels = tuple[tuple[str, str], ...]

# Seconds; batch handling on loopback runs from ~1 ms (duplicates) to ~1 s (large, contended).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HELP = {
    "aitally_ingest_requests_total": "HTTP requests by route and status",
    "aitally_ingest_records_total": "records received, by result (accepted, duplicate, rejected)",
    "aitally_ingest_rejects_total": "rejected records by the field that failed validation",
    "aitally_ingest_batches_refused_total": "whole batches refused, by HTTP status",
    "aitally_ingest_request_seconds": "request latency by route",
    "aitally_ingest_inflight_batches": "batches being processed now",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    pairs = [*labels, extra] if extra else list(labels)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


class Metrics:
    """Thread-safe counters, gauges and histograms of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._hist: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._gauges: dict[str, float] = {}

    def inc(self, name: str, n: float = 1.0, **labels: str) -> None:
        """Adds n to the counter series with these labels."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + n

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        """Records one duration in the histogram series with these labels."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            # Per series: one count per bucket, then +Inf count and sum.
            h = self._hist[name].setdefault(key, [0.0] * (len(BUCKETS) + 2))
            h[bisect.bisect_left(BUCKETS, seconds)] += 1
            h[-1] += seconds

    def gauge(self, name: str, value: float) -> None:
        """Sets a gauge to value."""
        with self._lock:
            self._gauges[name] = value

    def value(self, name: str, **labels: str) -> float:
        """The counter series' current value (0 if never incremented)."""
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        """Every series in the Prometheus text exposition format."""
        lines: list[str] = []
        with self._lock:
            for name, series in sorted(self._counters.items()):
                lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} counter"]
                lines += [f"{name}{_fmt(k)} {v:g}" for k, v in sorted(series.items())]
            for name, value in sorted(self._gauges.items()):
                lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} gauge"]
                lines.append(f"{name} {value:g}")
            for name, hseries in sorted(self._hist.items()):
                lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} histogram"]
                for k, h in sorted(hseries.items()):
                    cumulative = 0.0
                    for bound, n in zip([*map(str, BUCKETS), "+Inf"], h[:-1], strict=True):
                        cumulative += n
                        lines.append(f"{name}_bucket{_fmt(k, ('le', bound))} {cumulative:g}")
                    lines.append(f"{name}_sum{_fmt(k)} {h[-1]:g}")
                    lines.append(f"{name}_count{_fmt(k)} {cumulative:g}")
        return "\n".join(lines) + "\n"
