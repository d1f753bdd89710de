"""Where each tool keeps its data: its own conventions (env variables, XDG, OS folders), config."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

Env = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Root:
    """One data folder of one tool; `extra` marks folders added by configuration."""

    tool: str
    path: Path
    extra: bool = False


def _home(env: Env) -> Path:
    return Path(env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~"))


def _split(value: str, home: Path) -> list[Path]:
    """Comma-separated folder lists (CLAUDE_CONFIG_DIR, CODEX_HOME), with ~ expanded."""
    out = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if part == "~" or part.startswith(("~/", "~\\")):
            part = str(home) + part[1:]
        out.append(Path(part))
    return out


def _xdg(env: Env, name: str, fallback: str) -> Path:
    value = env.get(name)
    return Path(value) if value else _home(env) / fallback


def _app_config_dirs(env: Env, app: str) -> list[Path]:
    """An Electron app's user folder on each OS (VS Code, Cursor, Windsurf)."""
    home = _home(env)
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support" / app / "User"]
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        return [Path(appdata) / app / "User"] if appdata else []
    return [_xdg(env, "XDG_CONFIG_HOME", ".config") / app / "User"]


def claude_code(env: Env) -> list[Path]:
    """Claude Code: CLAUDE_CONFIG_DIR (a list), ~/.config/claude and ~/.claude."""
    # CLAUDE_CONFIG_DIR moves everything; Claude Code also wrote ~/.config/claude for a while,
    # and either may hold transcripts: an agent that must not miss usage reads every candidate.
    home = _home(env)
    dirs = _split(env.get("CLAUDE_CONFIG_DIR", ""), home)
    dirs += [_xdg(env, "XDG_CONFIG_HOME", ".config") / "claude", home / ".claude"]
    # A user may point CLAUDE_CONFIG_DIR at projects/ itself.
    return [d.parent if d.name == "projects" else d for d in dirs]


def codex(env: Env) -> list[Path]:
    """Codex CLI: CODEX_HOME (a list), else ~/.codex."""
    home = _home(env)
    return _split(env.get("CODEX_HOME", ""), home) or [home / ".codex"]


def gemini_cli(env: Env) -> list[Path]:
    """Gemini CLI: .gemini under GEMINI_CLI_HOME, else under the home folder."""
    base = env.get("GEMINI_CLI_HOME")
    return [(Path(base) if base else _home(env)) / ".gemini"]


def copilot_cli(env: Env) -> list[Path]:
    """GitHub Copilot CLI: COPILOT_HOME, else ~/.copilot."""
    base = env.get("COPILOT_HOME")
    return [Path(base) if base else _home(env) / ".copilot"]


def continue_dev(env: Env) -> list[Path]:
    """Continue: CONTINUE_GLOBAL_DIR, else ~/.continue."""
    base = env.get("CONTINUE_GLOBAL_DIR")
    return [Path(base) if base else _home(env) / ".continue"]


def cline(env: Env) -> list[Path]:
    """Cline: the extension's global storage in each VS Code-based editor, and ~/.cline/data."""
    dirs = []
    for app in ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf"):
        for user in _app_config_dirs(env, app):
            dirs.append(user / "globalStorage" / "saoudrizwan.claude-dev")
    dirs.append(_home(env) / ".cline" / "data")
    return dirs


def copilot_vscode(env: Env) -> list[Path]:
    """Copilot in VS Code: each editor's workspaceStorage, remote servers' too."""
    dirs = []
    for app in ("Code", "Code - Insiders", "VSCodium"):
        dirs += [user / "workspaceStorage" for user in _app_config_dirs(env, app)]
    dirs.append(_home(env) / ".vscode-server" / "data" / "User" / "workspaceStorage")
    return dirs


def cursor(env: Env) -> list[Path]:
    """Cursor: its globalStorage folder (state.vscdb) and, on every OS, ~/.cursor/ai-tracking
    (ai-code-tracking.db)."""
    dirs = [user / "globalStorage" for user in _app_config_dirs(env, "Cursor")]
    return [*dirs, _home(env) / ".cursor" / "ai-tracking"]


def opencode(env: Env) -> list[Path]:
    """opencode: the folder of OPENCODE_DB, else its data folder."""
    db = env.get("OPENCODE_DB")
    if db:
        return [Path(db).parent]
    if sys.platform == "win32":
        return [_home(env) / ".local" / "share" / "opencode"]
    return [_xdg(env, "XDG_DATA_HOME", ".local/share") / "opencode"]


def windsurf(env: Env) -> list[Path]:
    """Windsurf: Cascade's conversation folder."""
    return [_home(env) / ".codeium" / "windsurf" / "cascade"]


def lm_studio(env: Env) -> list[Path]:
    """LM Studio: its conversations folders (current and older layout)."""
    home = _home(env)
    return [home / ".lmstudio" / "conversations", home / ".cache" / "lm-studio" / "conversations"]


def ollama(env: Env) -> list[Path]:
    """Ollama: its server log folder."""
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return [Path(env["LOCALAPPDATA"]) / "Ollama"]
    return [_home(env) / ".ollama" / "logs"]


def aider(env: Env) -> list[Path]:
    """Aider: the folder of AIDER_ANALYTICS_LOG, when set."""
    # Aider keeps its history files per repository; only an analytics log named in the
    # environment has a fixed place. Other folders come from collectors.extra_roots.
    log = env.get("AIDER_ANALYTICS_LOG")
    return [Path(log).parent] if log else []


FINDERS: dict[str, Callable[[Env], list[Path]]] = {
    "claude-code": claude_code,
    "codex": codex,
    "gemini-cli": gemini_cli,
    "copilot-cli": copilot_cli,
    "continue": continue_dev,
    "cline": cline,
    "copilot-vscode": copilot_vscode,
    "cursor": cursor,
    "opencode": opencode,
    "windsurf": windsurf,
    "lm-studio": lm_studio,
    "ollama": ollama,
    "aider": aider,
}


def candidates(
    tools: set[str], extra: Mapping[str, list[str]], env: Env | None = None
) -> list[Root]:
    """Every folder a tool may use, existing or not (roots that appear later are picked up)."""
    env = os.environ if env is None else env
    seen: set[tuple[str, Path]] = set()
    out: list[Root] = []
    for tool in sorted(tools):
        finder = FINDERS.get(tool)
        paths = [(p, False) for p in (finder(env) if finder else [])]
        paths += [(Path(os.path.expanduser(p)), True) for p in extra.get(tool, [])]
        for path, is_extra in paths:
            key = (tool, Path(os.path.abspath(path)))
            if key not in seen:
                seen.add(key)
                out.append(Root(tool, key[1], is_extra))
    return out


def inside(path: Path | str, real_root: str) -> bool:
    """Whether `path`, symlinks resolved, lies in `real_root` (itself resolved: a tool folder
    that is a symlink is fine, a symlink inside it is never followed out of it)."""
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def resolved_by_tool(tools: set[str], extra: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """tool -> its candidate folders, symlinks resolved (for `inside`): where the agent reads."""
    out: dict[str, list[str]] = {}
    for root in candidates(tools, extra):
        out.setdefault(root.tool, []).append(os.path.realpath(root.path))
    return out
