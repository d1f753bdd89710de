"""Host matching: only the host of a URL is taken, and only listed hosts (or their
sub-domains) match."""

from __future__ import annotations

import pytest

from aitally.collectors.browser.hosts import HostCatalog, host_of
from aitally.core.tools import CatalogError


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://chatgpt.com/c/secret?q=secret#secret", "chatgpt.com"),
        ("http://user:pw@Claude.AI.:8080/x", "claude.ai"),
        ("https://chatgpt.com?q=x", "chatgpt.com"),
        ("https://chatgpt.com#x", "chatgpt.com"),
        ("ftp://chatgpt.com/", None),
        ("chrome://history/", None),
        ("https://[::1]/", None),
        ("https://", None),
        (None, None),
    ],
)
def test_host_of(url: str | None, host: str | None) -> None:
    assert host_of(url) == host


def test_catalog_matches_hosts_and_subdomains_only() -> None:
    cat = HostCatalog.load({"acme-ai": ["ai.acme.internal"]}, disabled=["poe-web"])
    assert cat.tool_for("chatgpt.com") == "chatgpt-web"
    assert cat.tool_for("www.perplexity.ai") == "perplexity-web"
    assert cat.tool_for("ai.acme.internal") == "acme-ai"
    for other in ("chatgpt.com.evil.org", "evilchatgpt.com", "google.com", "poe.com", None):
        assert cat.tool_for(other) is None
    assert {"chatgpt-web", "claude-web", "gemini-web", "copilot-web", "m365-copilot-web"} <= set(
        HostCatalog.load().ids
    )


@pytest.mark.parametrize("bad", [{"Acme AI": ["a.b"]}, {"acme": ["https://a.b/x"]}, {"acme": []}])
def test_bad_extra_hosts_are_refused(bad: dict[str, list[str]]) -> None:
    with pytest.raises(CatalogError):
        HostCatalog.load(bad)
