"""How each client is run offline against the stand-in: config files, environment, commands.

The recipes are the ones of issue 13 (docs/clients/ has what each version records). Each client
gets its own scratch HOME; nothing here touches the real user's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STANDIN_KEY = "sk-ant-api03-standin-key-0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Client:
    """One client: npm package and pinned version, its command, the model it is asked for, and
    the globs (under HOME) of the files it writes that the fixtures keep."""

    tool: str
    package: str
    version: str
    command: str
    model: str
    keep: tuple[str, ...]
    quit_command: str = "/exit"
    compact_command: str = "/compact"
    # Seconds to wait after the TUI first settles before typing (Copilot CLI keeps loading MCP
    # servers after its first screen).
    startup_s: float = 1.0

    def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
        """Writes the client's config under `home`; returns the environment it needs."""
        raise NotImplementedError

    def oneshot(self, binary: Path, prompt: str, resume: str | None, fork: bool) -> list[str]:
        """The command line of a non-interactive run (resuming or forking session `resume`)."""
        raise NotImplementedError

    def interactive(
        self, binary: Path, resume: str | None, fork: bool, ask: bool = False
    ) -> list[str]:
        """The command line of an interactive (TUI) run; `ask`: edits (and, where the client
        cannot tell them apart, commands) wait for the person's approval."""
        raise NotImplementedError

    def session_ids(self, home: Path) -> list[str]:
        """The ids of the sessions the client has written under `home`, oldest first."""
        raise NotImplementedError


def _by_mtime(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: (p.stat().st_mtime_ns, p.name))


class ClaudeCode(Client):
    """Claude Code: `ANTHROPIC_BASE_URL`, a key approved in `~/.claude.json`, onboarding done."""

    def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
        state = {
            "hasCompletedOnboarding": True,
            "customApiKeyResponses": {"approved": [STANDIN_KEY[-20:]], "rejected": []},
            "projects": {
                str(workdir): {
                    "hasTrustDialogAccepted": True,
                    "hasCompletedProjectOnboarding": True,
                }
            },
        }
        (home / ".claude.json").write_text(json.dumps(state))
        # Without DISABLE_AUTOUPDATER the client installs itself globally.
        return {
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": STANDIN_KEY,
            "DISABLE_AUTOUPDATER": "1",
        }

    def _common(self, resume: str | None, fork: bool, ask: bool = False) -> list[str]:
        allowed = "Bash,Read" if ask else "Bash,Read,Edit,Write,Task,Agent"
        args = ["--model", self.model, f"--allowedTools={allowed}"]
        if resume:
            args += ["--resume", resume]
        return args + (["--fork-session"] if fork else [])

    def oneshot(self, binary: Path, prompt: str, resume: str | None, fork: bool) -> list[str]:
        return [str(binary), "-p", *self._common(resume, fork), prompt]

    def interactive(
        self, binary: Path, resume: str | None, fork: bool, ask: bool = False
    ) -> list[str]:
        return [str(binary), *self._common(resume, fork, ask)]

    def session_ids(self, home: Path) -> list[str]:
        return [p.stem for p in _by_mtime(list((home / ".claude" / "projects").glob("*/*.jsonl")))]


class Codex(Client):
    """Codex: a `model_provider` whose `base_url` is the stand-in, `wire_api = "responses"`."""

    def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
        codex = home / ".codex"
        codex.mkdir(parents=True, exist_ok=True)
        (codex / "config.toml").write_text(
            f'model = "{self.model}"\nmodel_provider = "standin"\n'
            "check_for_update_on_startup = false\n\n"
            '[model_providers.standin]\nname = "standin"\n'
            f'base_url = "{url}/v1"\nwire_api = "responses"\nenv_key = "STANDIN_API_KEY"\n\n'
            f'[projects."{workdir}"]\ntrust_level = "trusted"\n\n'
            # Marks the TUI's "try the newer model" nudge as seen; unanswered, it eats the first
            # prompt typed and switches the model.
            f'[notice.model_migrations]\n"{self.model}" = "gpt-6-sol"\n'
        )
        return {"STANDIN_API_KEY": STANDIN_KEY}

    def oneshot(self, binary: Path, prompt: str, resume: str | None, fork: bool) -> list[str]:
        sub = (["fork"] if fork else ["resume"]) if resume else []
        opts = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"]
        return [str(binary), "exec", *sub, *opts, *([resume] if resume else []), prompt]

    def interactive(
        self, binary: Path, resume: str | None, fork: bool, ask: bool = False
    ) -> list[str]:
        sub = (["fork"] if fork else ["resume"]) if resume else []
        # A read-only sandbox with approval on request: every patch waits for approval, and so
        # does every command the stand-in asks to run outside the sandbox (tool_calls.py).
        opts = (
            ["-a", "on-request", "-s", "read-only"]
            if ask
            else ["--dangerously-bypass-approvals-and-sandbox"]
        )
        return [str(binary), *sub, *opts, *([resume] if resume else [])]

    def session_ids(self, home: Path) -> list[str]:
        rollouts = _by_mtime(list((home / ".codex" / "sessions").glob("**/rollout-*.jsonl")))
        return [p.stem[-36:] for p in rollouts]


class GeminiCli(Client):
    """Gemini CLI: `GOOGLE_GEMINI_BASE_URL`, `GEMINI_API_KEY`, the workspace trusted."""

    def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
        gemini = home / ".gemini"
        gemini.mkdir(parents=True, exist_ok=True)
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            # The editor "Modify with external editor" opens (as if picked with /editor): the
            # scripted one where a scenario installs it (editor.py).
            "general": {
                "disableAutoUpdate": True,
                "disableUpdateNag": True,
                "preferredEditor": "vim",
            },
            "telemetry": {"enabled": False},
            "privacy": {"usageStatisticsEnabled": False},
        }
        (gemini / "settings.json").write_text(json.dumps(settings))
        return {
            "GOOGLE_GEMINI_BASE_URL": url,
            "GEMINI_API_KEY": STANDIN_KEY,
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
        }

    def oneshot(self, binary: Path, prompt: str, resume: str | None, fork: bool) -> list[str]:
        resumed = ["--resume", "latest"] if resume else []
        return [str(binary), "-m", self.model, "--approval-mode", "yolo", *resumed, "-p", prompt]

    def interactive(
        self, binary: Path, resume: str | None, fork: bool, ask: bool = False
    ) -> list[str]:
        resumed = ["--resume", "latest"] if resume else []
        mode = "default" if ask else "yolo"
        return [str(binary), "-m", self.model, "--approval-mode", mode, *resumed]

    def session_ids(self, home: Path) -> list[str]:
        chats = _by_mtime(list((home / ".gemini" / "tmp").glob("*/chats/*.json*")))
        ids: list[str] = []
        for chat in chats:
            try:
                first = chat.read_text().lstrip()
                data = json.loads(first if chat.suffix == ".json" else first.splitlines()[0])
            except (ValueError, IndexError):
                continue
            sid = str(data.get("sessionId") or "")
            if sid and sid not in ids:
                ids.append(sid)
        return ids


class CopilotCli(Client):
    """Copilot CLI in offline bring-your-own-key mode against the Anthropic stand-in."""

    def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
        # Without the folder trusted, the TUI opens with a trust dialog that takes the first
        # prompt typed.
        copilot = home / ".copilot"
        copilot.mkdir(parents=True, exist_ok=True)
        (copilot / "config.json").write_text(json.dumps({"trustedFolders": [str(workdir)]}))
        return {
            "COPILOT_OFFLINE": "true",
            "COPILOT_PROVIDER_BASE_URL": url,
            "COPILOT_PROVIDER_TYPE": "anthropic",
            "COPILOT_PROVIDER_API_KEY": STANDIN_KEY,
            "COPILOT_MODEL": self.model,
            "COPILOT_AUTO_UPDATE": "false",
        }

    def oneshot(self, binary: Path, prompt: str, resume: str | None, fork: bool) -> list[str]:
        resumed = ["--resume", resume] if resume else []
        return [str(binary), "--allow-all-tools", *resumed, "-p", prompt]

    def interactive(
        self, binary: Path, resume: str | None, fork: bool, ask: bool = False
    ) -> list[str]:
        resumed = ["--resume", resume] if resume else []
        return [str(binary), *([] if ask else ["--allow-all-tools"]), *resumed]

    def session_ids(self, home: Path) -> list[str]:
        dirs = _by_mtime(
            [p.parent for p in (home / ".copilot" / "session-state").glob("*/events.jsonl")]
        )
        return [d.name for d in dirs]


CLIENTS: dict[str, Client] = {
    c.tool: c
    for c in (
        ClaudeCode(
            "claude-code",
            "@anthropic-ai/claude-code",
            "2.1.197",
            "claude",
            "claude-sonnet-4-5",
            (".claude/projects/**/*.jsonl", ".claude/projects/**/*.json", ".claude/history.jsonl"),
        ),
        Codex(
            "codex",
            "@openai/codex",
            "0.171.0",
            "codex",
            "gpt-5.5",
            (".codex/sessions/**/*.jsonl", ".codex/*.jsonl"),
        ),
        GeminiCli(
            "gemini-cli",
            "@google/gemini-cli",
            "0.61.0",
            "gemini",
            "gemini-2.5-pro",
            (".gemini/tmp/**/*.json", ".gemini/tmp/**/*.jsonl", ".gemini/projects.json"),
            quit_command="/quit",
            compact_command="/compress",
        ),
        CopilotCli(
            "copilot-cli",
            "@github/copilot",
            "1.0.102",
            "copilot",
            "claude-sonnet-4.5",
            (".copilot/session-state/**/*.jsonl", ".copilot/session-state/**/*.yaml"),
            startup_s=4.0,
        ),
    )
}
