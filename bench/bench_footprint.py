"""The agent's CPU and RSS in steady state at the default scan interval, beside an idle Python."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.procfarm import ProcFarm


def _measure(proc: psutil.Process, seconds: float) -> tuple[float, float, float]:
    """(CPU share of one core, mean RSS MiB, peak RSS MiB) over `seconds` after a warm-up."""
    time.sleep(min(10.0, seconds / 4))  # start-up and the first cold scan are not steady state
    c0 = sum(proc.cpu_times()[:2])
    t0 = time.monotonic()
    rss = []
    while time.monotonic() - t0 < seconds:
        rss.append(proc.memory_info().rss / 2**20)
        time.sleep(1.0)
    cpu = (sum(proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0)
    return cpu, sum(rss) / len(rss), max(rss)


def main() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    count = int(os.environ.get("BENCH_PROCS", "1000"))
    exe = Path(sys.executable).parent / "aitally"
    with tempfile.TemporaryDirectory() as tmp, ProcFarm(count):
        Path(tmp, "empty.toml").write_text("")
        config = str(Path(tmp, "empty.toml"))
        env = {**os.environ, "AITALLY_DATA_DIR": tmp, "AITALLY_CONFIG": config, "HOME": tmp}
        total = len(psutil.pids())
        agent = subprocess.Popen([str(exe), "run"], env=env, stderr=subprocess.DEVNULL)
        idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        try:
            cpu, rss, peak = _measure(psutil.Process(agent.pid), seconds)
            base_rss = psutil.Process(idle.pid).memory_info().rss / 2**20
        finally:
            agent.terminate()
            idle.kill()
            agent.wait(10)
            idle.wait()
    out = {
        "seconds": seconds,
        "processes": float(total),
        "cpu_percent_of_core": round(cpu * 100, 3),
        "rss_mib_mean": round(rss, 1),
        "rss_mib_peak": round(peak, 1),
        "idle_python_rss_mib": round(base_rss, 1),
        "rss_vs_idle_python": round(rss / base_rss, 2),
    }
    print(f"agent steady state over {seconds:.0f}s, {count} extra processes, 5 s scans:")
    print(f"  CPU {out['cpu_percent_of_core']:.3f}% of one core (target < 0.1%)")
    print(
        f"  RSS mean {rss:.1f} MiB, peak {peak:.1f} MiB (target < 60); idle Python "
        f"{base_rss:.1f} MiB, ratio {out['rss_vs_idle_python']}x"
    )
    return out


if __name__ == "__main__":
    main()
