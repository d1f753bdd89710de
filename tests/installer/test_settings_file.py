"""`install`/`enroll --endpoint` edit config.toml in place (installer/settings_file.py)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from aitally.installer import toml_out
from aitally.installer.settings_file import set_value
from tests.conftest import aitally_cmd

PERSONS_FILE = """\
# my aitally settings -- keep these notes!

[agent]
scan_interval = 10.0   # slower on battery

# [upload] comes after a blank line and a note
[upload]
# the old one:
endpoint   = "https://old.example"
interval = 600

[collectors]
disabled_tools = [
    "ollama",   # not ours
]
"""


def test_enroll_endpoint_keeps_comments_and_layout(enroll_server: str) -> None:
    """Issue 17: the rewrite from tomllib's dict dropped every comment and the layout."""
    cfg = Path(os.environ["AITALLY_CONFIG"])
    cfg.write_text(PERSONS_FILE)
    done = subprocess.run(
        aitally_cmd("enroll", "--endpoint", enroll_server, "--token", "tok-1"),
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
    )
    assert done.returncode == 0, done.stderr
    text = cfg.read_text()
    assert text == PERSONS_FILE.replace(
        'endpoint   = "https://old.example"', f'endpoint   = "{enroll_server}"'
    )


def test_a_new_section_and_file_are_added(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_value(path, "upload", "endpoint", "https://a.example")
    path.write_text("# mine\n" + path.read_text())
    set_value(path, "privacy", "level", "anonymous")
    assert path.read_text().startswith("# mine\n")
    assert tomllib.loads(path.read_text()) == {
        "upload": {"endpoint": "https://a.example"},
        "privacy": {"level": "anonymous"},
    }


def test_a_string_with_del_round_trips(tmp_path: Path) -> None:
    """Issue 17: U+007F was written raw, which TOML forbids."""
    odd = 'a\x7fb\x01c"d\\e'
    path = tmp_path / "config.toml"
    set_value(path, "upload", "proxy", odd)
    assert tomllib.loads(path.read_text())["upload"]["proxy"] == odd
    assert tomllib.loads(toml_out.dumps({"upload": {"proxy": odd}}))["upload"]["proxy"] == odd
