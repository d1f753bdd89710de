"""Records one scenario of one client: scratch HOME, stand-in, runs, fixture folder.

The fixture folder `tests/fixtures/realclients/<tool>/<version>/<scenario>/` gets `home/` (the
files the client wrote, paths rewritten), `standin-log.jsonl` (every billed reply), `truth.json`
and `processes.json`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tests.realclients.clients import Client
from tests.realclients.editor import install_editor
from tests.realclients.install import client_bin
from tests.realclients.processes import ProcessWatcher
from tests.realclients.rewrite import FIXTURE_HOME, Rewriter
from tests.realclients.scenarios import COMPACT, KEYS, REJECTED_FILE, Scenario, Step
from tests.realclients.script import EDIT_FILE_TEXT, EDIT_NEW, PERSON_LINE
from tests.realclients.standin import StandIn
from tests.realclients.tmux import TmuxPane
from tests.realclients.tool_calls import CANDIDATES
from tests.realclients.truth import StepRecord, compute_truth

ONESHOT_TIMEOUT_S = 240
# How long daemons are watched after the client exits, before the harness ends them.
LINGER_S = 8.0
# The environment every client gets besides its own: nothing of the real user's, not even their
# PATH (Claude Code writes the PATH into its shell snapshots): the system folders and node's.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _base_env(home: Path) -> dict[str, str]:
    node = shutil.which("node")
    folders = list(SYSTEM_PATH)
    if node and str(Path(node).parent) not in folders:
        folders.insert(0, str(Path(node).parent))
    return {
        "PATH": ":".join(folders),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TERM": "xterm-256color",
        "USER": "dev",
        "SHELL": "/bin/bash",
    }


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
        time.sleep(client.startup_s)
        for line in step.lines:
            if line.startswith(KEYS):
                pane.keys(*line[len(KEYS) :].split())
                pane.settle(progress)
            elif line.startswith("/"):
                pane.type_line(client.compact_command if line == COMPACT else line)
                pane.settle(progress, quiet_s=6.0)  # compaction finishes after its call
            else:
                _type_prompt(pane, line, progress)
        pane.type_line(client.quit_command)
        if not pane.wait_exit():
            pane.keys("C-c")
            time.sleep(0.5)
            pane.keys("C-c")
            pane.wait_exit(10)
    finally:
        pane.kill()


def _type_prompt(pane: TmuxPane, line: str, progress: Callable[[], int]) -> None:
    """Types a prompt; types it again once if nothing was billed (Copilot CLI drops lines
    typed while it is still loading or finishing a compaction)."""
    before = progress()
    pane.type_line(line)
    pane.settle(progress)
    if progress() == before:
        print("    no reply billed: typing the prompt again")
        pane.type_line(line)
        pane.settle(progress)


def _git(workdir: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=workdir, capture_output=True, text=True, check=True)
    return done.stdout


def _git_init(workdir: Path) -> None:
    """A repository with one commit by the person (not the tool), for the outcome scenarios."""
    _git(workdir, "init", "-q", "-b", "main")
    _git(workdir, "config", "user.name", "Dev")
    _git(workdir, "config", "user.email", "dev@example.invalid")
    _git(workdir, "add", "-A")
    _git(workdir, "commit", "-q", "-m", "initial")


def _effects(workdir: Path) -> dict[str, Any]:
    """What the outcome scenario left behind, to check its declared truth against."""
    commits = int(_git(workdir, "rev-list", "--count", "HEAD").strip()) - 1
    message = _git(workdir, "log", "-1", "--format=%B") if commits else ""
    notes = (workdir / "notes.txt").read_text().splitlines()
    return {
        "edit_applied": notes[:1] == [EDIT_NEW],
        "edit_modified": PERSON_LINE in notes,
        "rejected_file_absent": not (workdir / REJECTED_FILE).exists(),
        "commits": commits,
        "commit_has_ai_trailer": "co-authored-by:" in message.lower(),
    }


def _outcomes_verified(outcomes: dict[str, int], effects: dict[str, Any]) -> bool:
    """Whether the run did what the declared outcomes say (the answers reached the dialogs)."""
    return (
        effects["edit_applied"] == (outcomes["edits_accepted"] == 1)
        and effects["edit_modified"] == (outcomes["edits_modified"] == 1)
        # The rejected file is only ever proposed by a scenario that rejects it.
        and effects["rejected_file_absent"]
        and effects["commits"] == outcomes["commits"]
        and effects["commit_has_ai_trailer"] == (outcomes["commits_with_ai"] == 1)
        and effects["shell_calls"] == outcomes["commands_run"]
        and effects["edit_calls"] == outcomes["edits_proposed"]
    )


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
    if scenario.git:
        _git_init(workdir)
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
        if scenario.editor:
            env |= install_editor(home, env["PATH"])
        watcher.start()
        for step in scenario.steps:
            print(f"  {client.tool} {scenario.name}: {step.phase}")
            standin.phase = step.phase
            before = set(client.session_ids(home))
            parent_phase = step.resume or step.fork
            parent = by_phase.get(parent_phase) if parent_phase else None
            if step.interactive:
                argv = client.interactive(binary, parent, bool(step.fork), step.ask)
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
    effects = _effects(workdir) if scenario.outcomes else None
    return _write_fixture(
        client, scenario, home, log_path, steps, watcher, ended, unhandled, fixtures, effects
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
    effects: dict[str, Any] | None,
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
    if scenario.outcomes is not None and effects is not None:
        shell_tools = CANDIDATES["shell"]
        effects["shell_calls"] = sum(1 for e in log if e["action"] in shell_tools)
        edit_tools = {*CANDIDATES["edit"], *CANDIDATES["write"]}
        effects["edit_calls"] = sum(1 for e in log if e["action"] in edit_tools)
        truth["outcomes"] = scenario.outcomes
        truth["outcome_effects"] = effects
        truth["outcomes_verified"] = _outcomes_verified(scenario.outcomes, effects)
        if not truth["outcomes_verified"]:
            print(f"    outcomes NOT as declared: {effects}")
    (dest / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    lifecycle = watcher.records() | {"ended_by_harness": ended}
    (dest / "processes.json").write_text(
        rewriter.text(json.dumps(lifecycle, indent=2, sort_keys=True)) + "\n"
    )
    return dest
