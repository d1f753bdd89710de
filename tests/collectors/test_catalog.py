"""Catalog matching: real command-line shapes, lookalikes that must not match, IT additions."""

from __future__ import annotations

import pytest

from aitally.collectors.catalog import Catalog
from aitally.core.config_schema import SCHEMA
from aitally.core.tools import TOOL_IDS, CatalogError

# Tools that live only inside an editor's extension host have no process of their own;
# their file adapters find them.
EXTENSION_ONLY = {"copilot-vscode", "cline"}


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.load()


def test_every_known_tool_has_rules(cat: Catalog) -> None:
    assert set(cat.ids) >= TOOL_IDS - EXTENSION_ONLY


@pytest.mark.parametrize(
    ("cmdline", "exe", "tool", "role"),
    [
        (["claude"], "", "claude-code", "session"),
        (
            ["/home/u/.local/bin/claude", "--resume"],
            "/home/u/.local/share/claude/versions/2.1.9",
            "claude-code",
            "session",
        ),
        (["2.1.230"], "/Users/u/.local/share/claude/versions/2.1.230", "claude-code", "session"),
        (["C:\\Users\\u\\.local\\bin\\claude.exe"], "", "claude-code", "session"),
        (
            ["node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"],
            "",
            "claude-code",
            "session",
        ),
        (["node", "/opt/n/@openai/codex/bin/codex.js", "exec"], "", "codex", "session"),
        (["/x/vendor/x86_64-unknown-linux-musl/codex/codex"], "", "codex", "session"),
        (["codex-aarch64-apple-darwin"], "", "codex", "session"),
        (
            ["node", "--max-old-space-size=8192", "/g/@google/gemini-cli/dist/index.js"],
            "",
            "gemini-cli",
            "session",
        ),
        (["python3", "-m", "aider"], "", "aider", "session"),
        (["/usr/bin/python3.12", "/home/u/.local/bin/aider"], "", "aider", "session"),
        (["q", "chat"], "", "amazon-q", "session"),
        (["ollama", "serve"], "", "ollama", "daemon"),
        (["ollama", "run", "llama3"], "", "ollama", "session"),
        (
            ["/home/u/.codeium/bin/abc/language_server_linux_x64", "--ide_name", "jetbrains"],
            "",
            "windsurf",
            "daemon",
        ),
        (["/opt/cursor/cursor", "--type=renderer"], "/opt/cursor/cursor", "cursor", "helper"),
        (["/opt/cursor/cursor"], "/opt/cursor/cursor", "cursor", "session"),
        (["copilot-language-server", "--stdio"], "", "copilot-jetbrains", "daemon"),
        # npm launcher links as recorded (tests/fixtures/realclients/*/processes.json)
        (
            ["node", "/home/dev/.npm-global/node_modules/.bin/gemini", "-m", "x"],
            "",
            "gemini-cli",
            "session",
        ),
        (
            ["/usr/bin/node", "--max-old-space-size=12052", "/usr/local/bin/gemini"],
            "",
            "gemini-cli",
            "session",
        ),
        (
            ["node", "/home/dev/.npm-global/node_modules/.bin/copilot", "-p", "x"],
            "",
            "copilot-cli",
            "session",
        ),
        (
            ["/n/node_modules/@github/copilot-linux-x64/copilot", "--allow-all-tools"],
            "/n/node_modules/@github/copilot-linux-x64/copilot",
            "copilot-cli",
            "session",
        ),
        (["node", "/home/dev/.npm-global/node_modules/.bin/codex", "exec"], "", "codex", "session"),
        (
            [
                "/h/.codex/packages/x/bin/codex",
                "app-server",
                "--listen",
                "unix://",
                "--managed-daemon",
            ],
            "",
            "codex",
            "daemon",
        ),
        (
            ["/h/.codex/packages/x/bin/codex", "app-server", "daemon", "pid-update-loop"],
            "",
            "codex",
            "daemon",
        ),
    ],
)
def test_matches(cat: Catalog, cmdline: list[str], exe: str, tool: str, role: str) -> None:
    m = cat.match(cmdline, exe)
    assert m is not None and (m.tool, m.role) == (tool, role)


@pytest.mark.parametrize(
    "cmdline",
    [
        ["claude-notes"],
        ["vim", "claude"],
        ["code", "/home/u/notes/claude.md"],
        ["less", "/home/u/.claude/projects/x.jsonl"],
        ["q"],
        ["copilot"],
        ["python3", "-c", "print('aider')"],
        ["node", "server.js", "--name", "codex"],
        ["/usr/bin/gemini-notes"],
        ["node", "server.js", "gemini"],
        ["node", "/srv/gemini-proxy/index.js"],
        [],
    ],
)
def test_lookalikes_do_not_match(cat: Catalog, cmdline: list[str]) -> None:
    assert cat.match(cmdline, "") is None


def test_it_added_tool_and_disabled_tools() -> None:
    cat = Catalog.load(
        [{"id": "acme-ai", "surface": "cli", "match": [{"argv0": ["acme-ai"]}]}],
        disabled=["claude-code"],
    )
    m = cat.match(["/opt/acme/acme-ai", "--chat"])
    assert m is not None and m.tool == "acme-ai"
    assert cat.match(["claude"]) is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "Bad Id!", "match": [{"argv0": ["x"]}]}, "slug"),
        ({"id": "x", "surface": "phone", "match": [{"argv0": ["x"]}]}, "surface"),
        ({"id": "x", "match": []}, "at least one"),
        ({"id": "x", "match": [{"argv00": ["x"]}]}, "unknown field 'argv00'"),
        ({"id": "x", "match": [{"args_none": ["--type="]}]}, "needs argv0"),
        ({"id": "x", "match": [{"argv0": "x"}]}, "list of non-empty strings"),
        ({"id": "x", "match": [{"argv0": ["x"], "role": "boss"}]}, "role 'boss'"),
        ({"id": "x", "session_file": "(", "match": [{"argv0": ["x"]}]}, "not a regular expr"),
        ({"id": "x", "session_file": "no-group", "match": [{"argv0": ["x"]}]}, "one group"),
    ],
)
def test_bad_entries_name_the_problem(entry: dict, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.load([entry])


def test_catalog_fields_documented_in_config_schema() -> None:
    assert "disabled_tools" in SCHEMA["collectors"]
