"""Path rewriting of recorded files: the scratch HOME becomes /home/dev, nothing else changes."""

from __future__ import annotations

from pathlib import Path

from tests.realclients.rewrite import FIXTURE_HOME, Rewriter, encoded


def test_encoded_matches_claude_codes_project_folder_names() -> None:
    assert encoded("/root/.cache/x_y/src") == "-root--cache-x-y-src"
    assert encoded(FIXTURE_HOME + "/src/demo") == "-home-dev-src-demo"


def test_copy_rewrites_plain_and_encoded_paths_in_text_and_names(tmp_path: Path) -> None:
    home = tmp_path / "scratch.home" / "claude-code" / "plain"
    project = home / ".claude" / "projects" / encoded(str(home / "src" / "demo"))
    project.mkdir(parents=True)
    line = f'{{"cwd":"{home}/src/demo","note":"AITALLY-MARKER-x /elsewhere/{home.name}"}}\n'
    (project / "s.jsonl").write_text(line)
    (project / "ignored.txt").write_text("not kept")
    dest = tmp_path / "fixture"
    written = Rewriter(home).copy(home, (".claude/projects/**/*.jsonl",), dest)
    target = dest / "home" / ".claude" / "projects" / "-home-dev-src-demo" / "s.jsonl"
    assert written == [target]
    assert target.read_text() == (
        '{"cwd":"/home/dev/src/demo","note":"AITALLY-MARKER-x /elsewhere/plain"}\n'
    )


def test_binary_files_are_copied_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    blob = bytes(range(256))
    (home / "state.db").write_bytes(blob)
    Rewriter(home).copy(home, ("*.db",), tmp_path / "out")
    assert (tmp_path / "out" / "home" / "state.db").read_bytes() == blob


def test_extra_pairs_apply_longest_first(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rewriter = Rewriter(home, {str(tmp_path / "npm"): FIXTURE_HOME + "/.npm-global"})
    text = f"{home}/a {tmp_path}/npm/bin/codex {tmp_path}/other"
    assert rewriter.text(text) == (f"/home/dev/a /home/dev/.npm-global/bin/codex {tmp_path}/other")
