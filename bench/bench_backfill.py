"""Backfill throughput and peak memory: `aitally run --once` vs ccusage, on two corpus shapes.

Reply-heavy: the real Claude Code samples repeated (replies and small tool results).
Tool-result-heavy: the same conversations with every tool result grown to 1-40 KB (its text
in `message.content` and again in `toolUseResult.stdout`, as Claude Code writes them), so tool
results carry most of the bytes, as in real use. Beside each: the limits any reader of the
corpus meets, page-cache reads in 1 MiB chunks and a bare Python line split; the CPU seconds of
the agent's own first steps, each including those before it (its line reader, + the marker
test, + the decoder, + the adapter), so that what each step costs is their difference; and the
start-up of `aitally run --once` with nothing to read, which every run pays.

`AITALLY_BENCH_BACKFILL_MB` sets the size of each corpus (default 400 MB: two shapes, each read
by ccusage and aitally, on a shared 2-core machine).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.collectors.files import corpus  # noqa: E402

OUT = REPO / "bench" / "out"
CCUSAGE = "ccusage@18.0.11"  # the version the design's anchor figures were measured with
TARGET_BYTES = int(float(os.environ.get("AITALLY_BENCH_BACKFILL_MB", "400")) * 1e6)
REPEAT = 40  # each session file holds the sample conversation 40 times
CHUNK = 1 << 20
# Filler for grown tool results: source-like text with the escapes JSON gives real output.
FILLER = "".join(
    f'    def step_{i}(self, value: int) -> str:\n\t\treturn "row {i}: %s" % value  # ok\n'
    for i in range(2000)
)


def _grow(text: str) -> str:
    """A session file's text with every tool result grown to 1-40 KB (deterministic sizes)."""
    out = []
    for line in text.splitlines(keepends=True):
        if '"type":"tool_result"' in line:
            seed = int.from_bytes(hashlib.blake2b(line.encode(), digest_size=4).digest(), "big")
            half = (1_000 + seed % 39_000) // 2
            body = json.dumps(FILLER[:half])
            line = line.replace('"content":"(Bash completed with no output)"', f'"content":{body}')
            line = line.replace('"stdout":""', f'"stdout":{body}')
        out.append(line)
    return "".join(out)


SHAPES: dict[str, Callable[[str], str]] = {"reply": lambda text: text, "tools": _grow}


def make_corpus(home: Path, shape: str) -> int:
    """Writes (or reuses) the corpus of that shape under home; returns its size in bytes."""
    projects = home / ".claude" / "projects"
    if projects.is_dir():
        size = sum(p.stat().st_size for p in projects.rglob("*.jsonl"))
        if TARGET_BYTES <= size <= TARGET_BYTES * 1.1:
            return size
        shutil.rmtree(home)
    folder = projects / "-home-dev-src-generated"
    folder.mkdir(parents=True)
    grow = SHAPES[shape]
    written, copy = 0, 0
    while written < TARGET_BYTES:
        copy += 1
        for sid, text in corpus.templates():
            new = corpus.session_id(sid, copy)
            body = grow(corpus.render(text, new, copy, REPEAT)).encode()
            (folder / f"{new}.jsonl").write_bytes(body)
            written += len(body)
    return written


def files_of(home: Path) -> list[Path]:
    return sorted((home / ".claude" / "projects").rglob("*.jsonl"))


def page_cache_read(files: list[Path]) -> float:
    """Seconds to read every file in 1 MiB chunks (the corpus already in the page cache)."""
    start = time.perf_counter()
    for f in files:
        with open(f, "rb", buffering=0) as fh:
            while fh.read(CHUNK):
                pass
    return time.perf_counter() - start


def line_split(files: list[Path]) -> float:
    """Seconds for a bare Python line split of every file (one loop turn per line, nothing else)."""
    start = time.perf_counter()
    n = 0
    for f in files:
        with open(f, "rb", buffering=CHUNK) as fh:
            for _ in fh:
                n += 1
    return time.perf_counter() - start


STEPS = ("reader", "marker", "decode", "adapter")


def steps(home: Path) -> dict[str, float]:
    """CPU seconds of the agent's first steps over the corpus, each step including those
    before it: `complete_lines` (the reader), + the marker test, + the adapter's decoder, +
    the adapter's `line` (observations made, not stored). Run in a child process of its own
    (`steps_in_child`), so that this one stays small: a child's peak RSS as `wait4` reports it
    starts from its parent's at the fork."""
    from aitally.collectors.files.adapters.claude_code import ClaudeCode
    from aitally.collectors.files.lines import LINE, complete_lines, open_regular
    from aitally.collectors.files.readers import marker_search
    from aitally.collectors.files.state import FileState

    adapter = ClaudeCode()
    marked, decode, line = marker_search(adapter.markers), adapter.decode, adapter.line
    root = home / ".claude"
    out: dict[str, float] = {}
    for depth, name in enumerate(STEPS):
        start = time.process_time()
        for f in files_of(home):
            rel = PurePosixPath(f.relative_to(root).as_posix())
            st = FileState()
            with open_regular(f) as fh:
                for event, raw, _ in complete_lines(fh, 0, False):
                    if depth == 0 or event != LINE or not marked(raw):
                        continue
                    obj = decode(raw) if depth >= 2 else None
                    if depth == 3 and obj is not None:
                        line(obj, rel, st)
        out[name] = time.process_time() - start
    return out


def steps_in_child(home: Path) -> dict[str, float]:
    """`steps` in a fresh interpreter: its figures as JSON on stdout."""
    done = subprocess.run(
        [sys.executable, __file__, "steps", str(home)], capture_output=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


# Runs the measured command from a bare interpreter (about 9 MiB) and reports its exit status,
# peak RSS and CPU seconds on stderr. A child's peak RSS as wait4 reports it starts from its
# parent's at the fork, and this process (corpus helpers, pytest) holds about 35 MiB: measured
# from here directly, a smaller command reads as this process's size.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
figures = [os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime]
print(json.dumps(figures), file=sys.stderr)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, bytes, float]:
    """Wall seconds, peak RSS (bytes) of that one command, its stdout and its CPU seconds (user
    and system: the fairer figure on a shared machine, where wall time includes waiting)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], env=env, capture_output=True, check=False
    )
    seconds = time.perf_counter() - start
    status, peak_kib, cpu = json.loads(done.stderr.decode().strip().splitlines()[-1])
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return seconds, peak_kib * 1024, done.stdout, cpu


def ccusage_bin() -> Path:
    folder = OUT / "ccusage"
    binary = folder / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(folder), CCUSAGE], check=True)
    return binary


def run_shape(shape: str, prefix: str) -> dict[str, float]:
    """ccusage, aitally and the two limits on one corpus shape; figures named with prefix."""
    home = OUT / ("corpus-home" if shape == "reply" else f"corpus-{shape}-home")
    size = make_corpus(home, shape)
    mb = size / 1e6
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITALLY_", "CLAUDE_"))}
    env["HOME"] = str(home)
    data = OUT / "aitally-data"
    shutil.rmtree(data, ignore_errors=True)
    cfg = OUT / "empty.toml"
    cfg.write_text("")
    aenv = dict(env, AITALLY_DATA_DIR=str(data), AITALLY_CONFIG=str(cfg))
    # Bytecode as an installed agent has it (pip compiles on install): without it every start
    # compiles some 60 modules again, about 0.25 CPU s (bench/README.md, File collectors).
    aenv.pop("PYTHONDONTWRITEBYTECODE", None)
    aitally = str(Path(sys.executable).parent / "aitally")
    # Start-up alone, with nothing to read: once to write the bytecode, then measured.
    empty = OUT / "empty-home"
    empty.mkdir(exist_ok=True)
    for _ in range(2):
        shutil.rmtree(data, ignore_errors=True)
        _, idle_rss, _, idle_cpu = timed([aitally, "run", "--once"], dict(aenv, HOME=str(empty)))
    shutil.rmtree(data, ignore_errors=True)
    # ccusage first: it warms the page cache for both equally (the corpus was just written).
    c_sec, c_rss, c_out, c_cpu = timed(
        [str(ccusage_bin()), "daily", "--offline", "--json"],
        dict(env, CLAUDE_CONFIG_DIR=str(home / ".claude")),
    )
    a_sec, a_rss, _, a_cpu = timed([aitally, "run", "--once"], aenv)
    _, _, sessions, _ = timed([aitally, "sessions", "--json", "--tool", "claude-code"], aenv)
    files = files_of(home)
    read_sec, split_sec = page_cache_read(files), line_split(files)
    cpu = steps_in_child(home)
    ours = corpus.totals(corpus.load(sessions.decode()))
    theirs = json.loads(c_out)["totals"]
    agree = (
        sum(v[0] or 0 for v in ours.values()) == theirs["inputTokens"]
        and sum(v[3] or 0 for v in ours.values()) == theirs["cacheCreationTokens"]
    )
    return {
        f"{prefix}corpus_mb": round(mb, 1),
        f"{prefix}aitally_seconds": round(a_sec, 2),
        f"{prefix}aitally_mb_per_s": round(mb / a_sec, 1),
        f"{prefix}aitally_peak_rss_mib": round(a_rss / 2**20, 1),
        f"{prefix}ccusage_seconds": round(c_sec, 2),
        f"{prefix}ccusage_mb_per_s": round(mb / c_sec, 1),
        f"{prefix}ccusage_peak_rss_mib": round(c_rss / 2**20, 1),
        f"{prefix}throughput_ratio": round(c_sec / a_sec, 2),
        f"{prefix}aitally_cpu_seconds": round(a_cpu, 2),
        f"{prefix}ccusage_cpu_seconds": round(c_cpu, 2),
        f"{prefix}cpu_ratio": round(c_cpu / a_cpu, 2),
        f"{prefix}rss_ratio": round(a_rss / c_rss, 3),
        f"{prefix}page_cache_mb_per_s": round(mb / read_sec, 1),
        f"{prefix}line_split_mb_per_s": round(mb / split_sec, 1),
        f"{prefix}totals_agree": float(agree),
        **{f"{prefix}steps_{name}_cpu_seconds": round(cpu[name], 2) for name in STEPS},
        f"{prefix}startup_cpu_seconds": round(idle_cpu, 2),
        f"{prefix}startup_peak_rss_mib": round(idle_rss / 2**20, 1),
    }


def main() -> dict[str, float]:
    # The reply-heavy figures keep their historical names; the tool-result-heavy ones "tools_".
    shapes = os.environ.get("AITALLY_BENCH_BACKFILL_SHAPES", "reply,tools").split(",")
    figures: dict[str, float] = {}
    for shape in shapes:
        figures |= run_shape(shape, "" if shape == "reply" else f"{shape}_")
        print(json.dumps(figures, indent=2), flush=True)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["steps"]:
        print(json.dumps(steps(Path(sys.argv[2]))))
    else:
        main()
