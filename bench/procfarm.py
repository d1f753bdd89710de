"""Starts and reaps a crowd of real idle processes for the scan benchmarks."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

SLEEP = shutil.which("sleep") or "/bin/sleep"
# Ordinary names, as on an engineer's laptop; every 200th process is an AI tool.
NAMES = ["bash", "node", "python3", "code", "ssh-agent", "vim", "zsh", "less"]
TOOLS = ["claude", "codex", "ollama"]


class ProcFarm:
    def __init__(self, count: int) -> None:
        self.count = count
        self.dir = Path(tempfile.mkdtemp(prefix="aitally-farm-"))
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> ProcFarm:
        for name in NAMES + TOOLS:
            shutil.copy(SLEEP, self.dir / name)
        for i in range(self.count):
            name = TOOLS[i // 200 % len(TOOLS)] if i % 200 == 0 else NAMES[i % len(NAMES)]
            exe = self.dir / name
            self.procs.append(subprocess.Popen([str(exe), "3600"]))
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
