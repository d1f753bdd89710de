"""The AI web services aitally recognises, by host: `web_catalog.toml` plus IT's extra hosts.

Only a host is ever compared. `host_of` takes a URL apart in memory and returns its host
alone; the caller drops the URL at once, so path, query and fragment go nowhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources

from aitally.core.tools import CatalogError
from aitally.core.wire import TOOL_PATTERN

SURFACE = "web"
# Hosts whose answer tool_for remembers.
MEMO = 4096
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def normalise(host: str) -> str:
    """Lower case, without a trailing dot or a port."""
    host = host.strip().lower().rstrip(".")
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_of(url: str | None) -> str | None:
    """The host of an http(s) URL, or None (other schemes, IPv6 literals, no host).

    Browsers store URLs canonical, so the authority ends at the first "/", "?" or "#"; cut by
    hand, this is several times faster than urlsplit on a history of millions of visits.
    """
    if not url:
        return None
    if url.startswith("https://"):
        start = 8
    elif url.startswith("http://"):
        start = 7
    else:
        return None
    end = len(url)
    for sep in "/?#":
        i = url.find(sep, start, end)
        if i >= 0:
            end = i
    host = url[start:end].rpartition("@")[2]
    if host.startswith("["):
        return None
    host = host.partition(":")[0].lower().rstrip(".")
    return host or None


class HostCatalog:
    """Host name -> tool id; a host matches a listed name or any sub-domain of it."""

    def __init__(self, hosts: Mapping[str, str]) -> None:
        self.hosts = dict(hosts)
        self.ids = sorted(set(self.hosts.values()))
        self._memo: dict[str, str | None] = {}

    @classmethod
    def load(
        cls, extra: Mapping[str, list[str]] | None = None, disabled: Iterable[str] = ()
    ) -> HostCatalog:
        """The shipped catalog plus IT's `browser.extra_hosts`, without disabled tools.

        IT's hosts come last, so a portal may take over a shipped host for its own tool id.
        """
        text = resources.files("aitally.collectors").joinpath("web_catalog.toml").read_text()
        entries = [(e.get("id"), e.get("hosts")) for e in tomllib.loads(text).get("web", [])]
        entries += list((extra or {}).items())
        off = set(disabled)
        hosts: dict[str, str] = {}
        for tool, names in entries:
            where = f"web tool {tool!r}"
            if not isinstance(tool, str) or not re.match(TOOL_PATTERN, tool):
                raise CatalogError(f"{where}: the id must be a lower-case slug like 'acme-ai'")
            if not isinstance(names, list) or not names:
                raise CatalogError(f"{where}: needs a non-empty list of host names")
            for name in names:
                host = name.strip().lower().rstrip(".") if isinstance(name, str) else ""
                if not _HOST.match(host):
                    raise CatalogError(f"{where}: {name!r} is not a host name (no scheme or path)")
                if tool not in off:
                    hosts[host] = tool
        return cls(hosts)

    def tool_for(self, host: str | None) -> str | None:
        """The tool whose host this is (or a sub-domain of), else None."""
        if not host:
            return None
        if host in self._memo:
            return self._memo[host]
        tool, name = None, host
        while name and tool is None:
            tool = self.hosts.get(name)
            name = name.partition(".")[2]
        if len(self._memo) >= MEMO:
            self._memo.clear()  # a history's hosts are few; a bound keeps it small regardless
        self._memo[host] = tool
        return tool


def web_tool_ids() -> list[str]:
    """The ids of the shipped web tools (for configuration checks and the Sources page)."""
    return HostCatalog.load().ids
