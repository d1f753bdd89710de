"""Configuration layers, origins, managed policy precedence and one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from aitally.core import config, paths
from aitally.core.errors import ConfigError
from tests.conftest import aitally_cmd


def load(
    user: Path,
    env: dict[str, str] | None = None,
    managed: list[tuple[str, dict[str, Any]]] | None = None,
) -> config.Config:
    return config.load(user_file=user, environ=env or {}, managed=lambda: managed or [])


def test_defaults_and_origins(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[agent]\nscan_interval = 2\n[upload]\nendpoint = 'https://x'\n")
    cfg = load(user, {"AITALLY_UPLOAD_INTERVAL": "60"})
    assert cfg.get("agent", "scan_interval") == 2.0
    assert cfg.origins["agent"]["scan_interval"] == str(user)
    assert cfg.get("upload", "interval") == 60.0
    assert cfg.origins["upload"]["interval"] == "environment"
    assert cfg.get("agent", "idle_timeout") == 900.0
    assert cfg.origins["agent"]["idle_timeout"] == "default"


def test_managed_policy_wins_over_every_layer(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[upload]\nendpoint = 'https://mine'\n[privacy]\nlevel = 'identified'\n")
    managed = [
        (
            "managed policy /etc/aitally/managed.toml",
            {"upload": {"endpoint": "https://corp"}, "privacy": {"level": "pseudonymous"}},
        )
    ]
    cfg = load(user, {"AITALLY_UPLOAD_ENDPOINT": "https://env"}, managed)
    assert cfg.get("upload", "endpoint") == "https://corp"
    assert cfg.origins["upload"]["endpoint"].startswith("managed policy")
    # identified is less strict than the managed level: refused
    assert cfg.get("privacy", "level") == "pseudonymous"


def test_engineer_may_choose_stricter_privacy_only_if_allowed(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[privacy]\nlevel = 'anonymous'\n")
    allowed = [("managed", {"privacy": {"level": "pseudonymous"}})]
    assert load(user, managed=allowed).get("privacy", "level") == "anonymous"
    denied = [("managed", {"privacy": {"level": "pseudonymous", "allow_stricter": False}})]
    assert load(user, managed=denied).get("privacy", "level") == "pseudonymous"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[agent]\nscan_interval = 'fast'\n", "agent.scan_interval = 'fast' is invalid"),
        ("[agent]\nscan_intervall = 5\n", "unknown key agent.scan_intervall"),
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ("[privacy]\nlevel = 'secret'\n", "one of 'identified'"),
        ("[agent\n", "not valid TOML"),
        ("[agent]\nscan_interval = 0.01\n", "from 0.2 to 600"),
        ("[store]\nmax_bytes = 1\n", "expected an integer >= 1048576"),
        ("[upload]\nendpoint = 'aitally.example.internal'\n", "an http:// or https:// URL"),
        ("[upload]\notlp_endpoint = 'collector:4318'\n", "upload.otlp_endpoint = 'collector"),
        ("[upload]\nbatch_max_bytes = 1\n", "an integer from 1024 to 5242880"),
        ("[agent]\nscan_interval = nan\n", "agent.scan_interval = nan is invalid"),
        ("[upload]\ninterval = -nan\n", "upload.interval = nan is invalid"),
        ("[agent]\n\udcff\udcfe = 1\n", "not valid TOML (not UTF-8 text)"),
        ("[[tools]]\nid = 'x'\n", "tools[0]: needs at least one [[tools.match]] rule"),
        ("[[tools]]\nid = 5\n", "tools[0].id must be a slug"),
        ("[[tools]]\nid = 'x'\nmatch = [{ argv0 = ['x'] }]\n", None),
    ],
)
def test_bad_values_name_file_key_and_allowed(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    user = tmp_path / "c.toml"
    user.write_bytes(text.encode("utf-8", "surrogateescape"))
    if expected is None:
        load(user)
        return
    with pytest.raises(ConfigError) as err:
        load(user)
    assert str(user) in str(err.value) and expected in str(err.value)


def test_nan_from_the_environment_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("")
    with pytest.raises(ConfigError, match=r"agent\.scan_interval = nan is invalid"):
        load(user, {"AITALLY_AGENT_SCAN_INTERVAL": "nan"})


def test_a_folder_instead_of_a_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder; it must be a TOML file"):
        load(tmp_path)


def test_unknown_environment_setting_is_an_error(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("")
    with pytest.raises(ConfigError, match="AITALLY_UPLOAD_ENDPIONT is not a setting"):
        load(user, {"AITALLY_UPLOAD_ENDPIONT": "x"})


def test_managed_path_is_not_redirectable(monkeypatch: pytest.MonkeyPatch) -> None:
    from aitally.core import paths

    for var in ("AITALLY_MANAGED", "XDG_CONFIG_DIRS", "HOME", "ProgramData"):
        monkeypatch.setenv(var, "/tmp/evil")
    assert str(paths.managed_policy_file("linux")) == "/etc/aitally/managed.toml"
    assert str(paths.managed_policy_file("darwin")).startswith("/Library/Application Support")
    assert "evil" not in str(paths.managed_policy_file("win32"))


def test_cli_bad_config_is_one_line_exit_2(isolated_env: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "aitally-config.toml"
    cfg.write_text("[upload]\nbatch_max_records = 0\n")
    res = subprocess.run(aitally_cmd("config", "show"), capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "upload.batch_max_records = 0" in lines[0] and str(cfg) in lines[0]


@pytest.mark.parametrize("command", [("config", "show"), ("run", "--once")])
def test_cli_bad_tool_entry_is_one_line_exit_2(tmp_path: Path, command: tuple[str, ...]) -> None:
    cfg = tmp_path / "aitally-config.toml"
    cfg.write_text("[[tools]]\nid = 'acme-ai'\nsurface = 'cli'\n")
    res = subprocess.run(aitally_cmd(*command), capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and str(cfg) in res.stderr and "tools[0]" in res.stderr


def test_cli_config_show_names_origins(tmp_path: Path) -> None:
    (tmp_path / "aitally-config.toml").write_text("[agent]\nidle_timeout = 600\n")
    res = subprocess.run(aitally_cmd("config", "show"), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    row = next(line for line in res.stdout.splitlines() if line.startswith("agent.idle_timeout"))
    assert "600.0" in row and "aitally-config.toml" in row
    assert any(
        line.startswith("agent.scan_interval") and "default" in line
        for line in res.stdout.splitlines()
    )


def test_ingest_service_variables_are_not_agent_settings(tmp_path: Path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("")
    cfg = load(user, {"AITALLY_INGEST_DB": "sqlite:///x", "AITALLY_AGENT_SCAN_INTERVAL": "3"})
    assert cfg.get("agent", "scan_interval") == 3.0


def test_a_baked_enroll_secret_is_a_managed_layer_only_where_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fleet package's /etc/aitally/enroll-secret (root:aitally 0640) reaches the agent of a
    user in the group as the managed upload.enroll_secret; unreadable or absent, it is skipped."""
    secret = tmp_path / "enroll-secret"
    missing = tmp_path / "managed.toml"
    monkeypatch.setattr(paths, "managed_policy_file", lambda: missing)
    monkeypatch.setattr(paths, "managed_enroll_secret_file", lambda: secret)
    assert config.platform_managed_layers() == []
    secret.write_text("S3CRET\n")
    (tmp_path / "user.toml").write_text("")
    cfg = load(tmp_path / "user.toml", managed=config.platform_managed_layers())
    assert cfg.get("upload", "enroll_secret") == "S3CRET"
    assert cfg.is_managed("upload", "enroll_secret")
    secret.write_text("\n")
    assert config.platform_managed_layers() == []
    secret.write_bytes(b"\xff\xfe")
    assert config.platform_managed_layers() == []


def test_the_secret_sits_beside_the_managed_policy() -> None:
    for platform in ("linux", "darwin", "win32"):
        policy = paths.managed_policy_file(platform)
        assert paths.managed_enroll_secret_file(platform) == policy.with_name("enroll-secret")
