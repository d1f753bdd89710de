"""Records one scenario of one client: scratch HOME, stand-in, runs, fixture folder.

The fixture folder `tests/fixtures/realclients/<tool>/<version>/<scenario>/` gets `home/` (the
files the client wrote, paths rewritten), `standin-log.jsonl` (every billed reply), `truth.json`
and `processes.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import psutil

from tests.realclients.clients import Client
from tests.realclients.install import client_bin
from tests.realclients.processes import ProcessWatcher
from tests.realclients.rewrite import FIXTURE_HOME, Rewriter
from tests.realclients.scenarios import COMPACT, Scenario, Step
from tests.realclients.script import EDIT_FILE_TEXT
from tests.realclients.standin import StandIn
from tests.realclients.tmux import TmuxPane
from tests.realclients.truth import StepRecord, compute_truth

ONESHOT_TIMEOUT_S = 240
# How long daemons are watched after the client exits, before the harness ends them.
LINGER_S = 8.0
# The environment every client gets besides its own: nothing of the real user's.
BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


def _base_env(home: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in BASE_ENV if k in os.environ}
    env.update(HOME=str(home), TERM="xterm-256color", USER="dev", SHELL="/bin/bash")
    return env


def _run_oneshot(argv: list[str], env: dict[str, str], cwd: Path, watcher: ProcessWatcher) -> None:
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        watcher.add_root(proc.pid)
        try:
            out, err = proc.communicate(timeout=ONESHOT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        if proc.returncode != 0:
            print(f"    exit {proc.returncode}: {(err or out).strip()[-300:]}")


def _run_interactive(
    client: Client,
    name: str,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    step: Step,
    watcher: ProcessWatcher,
    standin: StandIn,
) -> None:
    pane = TmuxPane(name, argv, env, cwd)
    watcher.add_root(pane.start())

    def progress() -> int:
        return len(standin.replies())

    try:
        pane.settle(progress, quiet_s=4.0)
        for line in step.lines:
            pane.type_line(client.compact_command if line == COMPACT else line)
            pane.settle(progress)
        pane.type_line(client.quit_command)
        if not pane.wait_exit():
            pane.keys("C-c")
            time.sleep(0.5)
            pane.keys("C-c")
            pane.wait_exit(10)
    finally:
        pane.kill()


def _end_leftovers(watcher: ProcessWatcher) -> list[int]:
    """Ends, by pid, the processes this run started that still run after the linger time."""
    ended = []
    for pid in watcher.alive():
        try:
            psutil.Process(pid).terminate()
            ended.append(pid)
        except psutil.Error:
            continue
    return ended


def record(client: Client, scenario: Scenario, scratch: Path, fixtures: Path) -> Path:
    """Runs `scenario` with `client` and writes its fixture folder; returns the folder."""
    home = scratch / "home" / client.tool / scenario.name
    shutil.rmtree(home, ignore_errors=True)
    workdir = home / "src" / "demo"
    workdir.mkdir(parents=True)
    (workdir / "notes.txt").write_text(EDIT_FILE_TEXT)
    log_path = scratch / "logs" / client.tool / f"{scenario.name}.jsonl"
    log_path.unlink(missing_ok=True)
    binary = client_bin(scratch, client)
    seed = zlib.crc32(f"{client.tool}/{scenario.name}".encode())
    t0 = time.time()
    prompts = [p for step in scenario.steps for p in step.prompts]
    watcher = ProcessWatcher(binary.parent.parent.parent, prompts, t0)
    steps: list[StepRecord] = []
    by_phase: dict[str, str] = {}
    with StandIn(log_path, workdir=workdir, seed=seed) as standin:
        env = _base_env(home) | client.prepare(home, workdir, standin.url)
        watcher.start()
        for step in scenario.steps:
            print(f"  {client.tool} {scenario.name}: {step.phase}")
            standin.phase = step.phase
            before = set(client.session_ids(home))
            parent_phase = step.resume or step.fork
            parent = by_phase.get(parent_phase) if parent_phase else None
            if step.interactive:
                argv = client.interactive(binary, parent, bool(step.fork))
                name = f"{client.tool}-{scenario.name}-{step.phase}"
                _run_interactive(client, name, argv, env, workdir, step, watcher, standin)
            else:
                argv = client.oneshot(binary, step.lines[0], parent, bool(step.fork))
                _run_oneshot(argv, env, workdir, watcher)
            new = [s for s in client.session_ids(home) if s not in before]
            session = new[-1] if new else (parent or "")
            by_phase[step.phase] = session
            relation = "fork" if step.fork else "resume" if step.resume else "new"
            steps.append(StepRecord(step.phase, session, len(step.prompts), parent, relation))
        time.sleep(LINGER_S)
        ended = _end_leftovers(watcher)
        time.sleep(1.0)
        watcher.stop()
        unhandled = list(standin.unhandled)
    return _write_fixture(
        client, scenario, home, log_path, steps, watcher, ended, unhandled, fixtures
    )


def _write_fixture(
    client: Client,
    scenario: Scenario,
    home: Path,
    log_path: Path,
    steps: list[StepRecord],
    watcher: ProcessWatcher,
    ended: list[int],
    unhandled: list[str],
    fixtures: Path,
) -> Path:
    dest = fixtures / client.tool / client.version / scenario.name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    install_dir = watcher.install_dir
    rewriter = Rewriter(home, {install_dir: f"{FIXTURE_HOME}/.npm-global"})
    written = rewriter.copy(home, client.keep, dest)
    shutil.copyfile(log_path, dest / "standin-log.jsonl")
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    text = "\n".join(p.read_text(errors="replace") for p in written)
    truth: dict[str, Any] = {
        "tool": client.tool,
        "version": client.version,
        "scenario": scenario.name,
        "steps": [
            {
                "phase": s.phase,
                "session": s.session,
                "relation": s.relation,
                "parent": s.parent,
                "prompts": s.prompts,
            }
            for s in steps
        ],
        **compute_truth(log, steps, text),
        "unhandled_requests": unhandled,
    }
    (dest / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    lifecycle = watcher.records() | {"ended_by_harness": ended}
    (dest / "processes.json").write_text(
        rewriter.text(json.dumps(lifecycle, indent=2, sort_keys=True)) + "\n"
    )
    return dest
