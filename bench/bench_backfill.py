"""Backfill throughput and peak memory: `aitally run --once` vs ccusage on a >= 1 GB corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.collectors.files import corpus  # noqa: E402

OUT = REPO / "bench" / "out"
CCUSAGE = "ccusage@18.0.11"  # the version the design's anchor figures were measured with
TARGET_BYTES = 1 << 30
REPEAT = 40  # each session file holds the sample conversation 40 times (~0.5-0.7 MB)


def make_corpus(home: Path) -> int:
    projects = home / ".claude" / "projects"
    if projects.is_dir():
        size = sum(p.stat().st_size for p in projects.rglob("*.jsonl"))
        if size >= TARGET_BYTES:
            return size
        shutil.rmtree(home)
    pair = sum(len(corpus.render(t, s, 1, REPEAT)) for s, t in corpus.templates())
    copies = -(-TARGET_BYTES // pair)
    corpus.write_claude_copies(projects, copies, repeat=REPEAT)
    return sum(p.stat().st_size for p in projects.rglob("*.jsonl"))


def timed(cmd: list[str], env: dict[str, str], **kw: object) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (bytes) of that one child, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed with status {proc.returncode}")
    return seconds, usage.ru_maxrss * 1024, out


def ccusage_bin() -> Path:
    folder = OUT / "ccusage"
    binary = folder / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(folder), CCUSAGE], check=True)
    return binary


def main() -> dict[str, float]:
    home = OUT / "corpus-home"
    size = make_corpus(home)
    mb = size / 1e6
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITALLY_", "CLAUDE_"))}
    env["HOME"] = str(home)
    data = OUT / "aitally-data"
    shutil.rmtree(data, ignore_errors=True)
    cfg = OUT / "empty.toml"
    cfg.write_text("")
    aenv = dict(env, AITALLY_DATA_DIR=str(data), AITALLY_CONFIG=str(cfg))
    aitally = str(Path(sys.executable).parent / "aitally")
    # ccusage first: it warms the page cache for both equally (the corpus was just written).
    c_sec, c_rss, c_out = timed(
        [str(ccusage_bin()), "daily", "--offline", "--json"],
        dict(env, CLAUDE_CONFIG_DIR=str(home / ".claude")),
    )
    a_sec, a_rss, _ = timed([aitally, "run", "--once"], aenv)
    _, _, sessions = timed([aitally, "sessions", "--json", "--tool", "claude-code"], aenv)
    ours = corpus.totals(corpus.load(sessions.decode()))
    theirs = json.loads(c_out)["totals"]
    agree = (
        sum(v[0] or 0 for v in ours.values()) == theirs["inputTokens"]
        and sum(v[3] or 0 for v in ours.values()) == theirs["cacheCreationTokens"]
    )
    figures = {
        "corpus_mb": round(mb, 1),
        "aitally_seconds": round(a_sec, 2),
        "aitally_mb_per_s": round(mb / a_sec, 1),
        "aitally_peak_rss_mib": round(a_rss / 2**20, 1),
        "ccusage_seconds": round(c_sec, 2),
        "ccusage_mb_per_s": round(mb / c_sec, 1),
        "ccusage_peak_rss_mib": round(c_rss / 2**20, 1),
        "throughput_ratio": round(c_sec / a_sec, 2),
        "rss_ratio": round(a_rss / c_rss, 3),
        "totals_agree": float(agree),
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
