"""Where each browser keeps its profiles' history database, on Linux, macOS and Windows.

Chromium-family browsers keep one `History` per profile folder (`Default`, `Profile 1`, ...)
under a user data folder; Firefox one `places.sqlite` per profile folder; Safari one
`History.db`. A folder from `browser.extra_roots` may be a user data folder (or Firefox's
profiles folder) or a single profile folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Engine = Literal["chromium", "firefox", "safari"]
Env = Mapping[str, str]

ENGINES: dict[str, Engine] = {
    "chrome": "chromium",
    "chromium": "chromium",
    "edge": "chromium",
    "brave": "chromium",
    "vivaldi": "chromium",
    "firefox": "firefox",
    "safari": "safari",
}
DB_NAME: dict[Engine, str] = {
    "chromium": "History",
    "firefox": "places.sqlite",
    "safari": "History.db",
}

# User data folders, relative to: Linux ~/.config, macOS ~/Library/Application Support,
# Windows %LOCALAPPDATA% (Firefox: %APPDATA%).
_LINUX = {
    "chrome": ["google-chrome", "google-chrome-beta"],
    "chromium": ["chromium"],
    "edge": ["microsoft-edge", "microsoft-edge-beta"],
    "brave": ["BraveSoftware/Brave-Browser"],
    "vivaldi": ["vivaldi"],
}
_MACOS = {
    "chrome": ["Google/Chrome", "Google/Chrome Beta"],
    "chromium": ["Chromium"],
    "edge": ["Microsoft Edge", "Microsoft Edge Beta"],
    "brave": ["BraveSoftware/Brave-Browser"],
    "vivaldi": ["Vivaldi"],
    "firefox": ["Firefox/Profiles"],
}
_WINDOWS = {
    "chrome": ["Google/Chrome/User Data", "Google/Chrome Beta/User Data"],
    "chromium": ["Chromium/User Data"],
    "edge": ["Microsoft/Edge/User Data", "Microsoft/Edge Beta/User Data"],
    "brave": ["BraveSoftware/Brave-Browser/User Data"],
    "vivaldi": ["Vivaldi/User Data"],
}


@dataclass(frozen=True, slots=True)
class Profile:
    """One browser profile's history database."""

    browser: str
    db: Path

    @property
    def engine(self) -> Engine:
        """Which schema the database has."""
        return ENGINES[self.browser]

    @property
    def label(self) -> str:
        """How the Sources page names it: browser and profile folder."""
        return f"{self.browser}: {self.db.parent.name}"

    @property
    def key(self) -> str:
        """The session key of its visits: the browser and a hash of the path (never the path)."""
        digest = hashlib.blake2b(str(self.db).encode(), digest_size=8).hexdigest()
        return f"{self.browser}-{digest}"


def _home(env: Env) -> Path:
    return Path(env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~"))


def roots(browser: str, env: Env, platform: str = sys.platform) -> list[Path]:
    """The folders a browser keeps its profiles under on this OS (existing or not)."""
    home = _home(env)
    if platform == "darwin":
        if browser == "safari":
            return [home / "Library" / "Safari"]
        support = home / "Library" / "Application Support"
        return [support / p for p in _MACOS.get(browser, [])]
    if platform == "win32":
        if browser == "firefox":
            appdata = env.get("APPDATA")
            return [Path(appdata) / "Mozilla" / "Firefox" / "Profiles"] if appdata else []
        local = env.get("LOCALAPPDATA")
        return [Path(local) / p for p in _WINDOWS.get(browser, [])] if local else []
    if browser == "safari":
        return []
    if browser == "firefox":
        return [
            home / ".mozilla" / "firefox",
            home / "snap" / "firefox" / "common" / ".mozilla" / "firefox",
            home / ".var" / "app" / "org.mozilla.firefox" / ".mozilla" / "firefox",
        ]
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    found = [config / p for p in _LINUX.get(browser, [])]
    if browser == "chromium":
        found.append(home / "snap" / "chromium" / "common" / "chromium")
    return found


def _databases(root: Path, name: str) -> list[Path]:
    """The history databases in a profile folder itself or one level below it."""
    # os.path.exists is False on any error: without Full Disk Access macOS refuses even a
    # stat() inside ~/Library/Safari (`aitally doctor` says so).
    direct = root / name
    if os.path.exists(direct):
        return [direct]
    try:
        children = sorted(root.iterdir())
    except OSError:
        return []
    out = []
    for child in children:
        db = child / name
        if os.path.isdir(child) and os.path.exists(db):
            out.append(db)
    return out


def find(
    browsers: Iterable[str],
    extra_roots: Mapping[str, list[str]],
    env: Env | None = None,
    platform: str = sys.platform,
) -> list[Profile]:
    """Every history database of the chosen browsers found now, each once."""
    env = os.environ if env is None else env
    seen: set[Path] = set()
    out: list[Profile] = []
    for browser in browsers:
        if browser not in ENGINES:
            continue
        folders = roots(browser, env, platform)
        folders += [Path(os.path.expanduser(p)) for p in extra_roots.get(browser, [])]
        for folder in folders:
            for db in _databases(folder, DB_NAME[ENGINES[browser]]):
                path = Path(os.path.abspath(db))
                if path not in seen:
                    seen.add(path)
                    out.append(Profile(browser, path))
    return out
