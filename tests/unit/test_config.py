"""Config validation and the CLI's short, human error messages (exit status 2, nothing created)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, load_token

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.defaults.timezone == "UTC"
    assert config.discord.api_base is None


def test_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"database\.paht: unknown setting"):
        load_config(write(tmp_path, '[database]\npaht = "x.db"\n'))


def test_bad_time_zone_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"defaults\.timezone: 'Mars/Olympus' is not an IANA"):
        load_config(write(tmp_path, '[defaults]\ntimezone = "Mars/Olympus"\n'))


def test_malformed_toml_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(write(tmp_path, "[database\n"))


def test_missing_file_points_to_the_example(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Copy config\.example\.toml"):
        load_config(tmp_path / "nope.toml")


def test_endpoint_urls_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"discord\.gateway_url: must start with ws://"):
        load_config(write(tmp_path, '[discord]\ngateway_url = "http://x"\n'))


def test_token_comes_from_the_environment_only() -> None:
    assert load_token({"DISCORD_TOKEN": " abc "}).get_secret_value() == "abc"
    assert "abc" not in repr(load_token({"DISCORD_TOKEN": "abc"}))
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        load_token({})


def run_cli(
    tmp_path: Path, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("config_text", "token", "expected"),
    [
        (None, "t", "No config file at config.toml"),
        ('[database]\npath = "h.db"\nbogus = 1\n', "t", "database.bogus: unknown setting"),
        ('[defaults]\ntimezone = "Europe/Lundon"\n', "t", "'Europe/Lundon' is not an IANA"),
        ("[database\n", "t", "is not valid TOML"),
        ('[database]\npath = "h.db"\n', None, "DISCORD_TOKEN"),
    ],
    ids=["missing", "unknown-key", "bad-zone", "malformed", "no-token"],
)
def test_cli_config_errors_exit_2_without_traceback(
    tmp_path: Path, config_text: str | None, token: str | None, expected: str
) -> None:
    if config_text is not None:
        write(tmp_path, config_text)
    result = run_cli(tmp_path, token=token)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "h.db").exists()
    assert not (tmp_path / "hearth.db").exists()


def test_cli_migrate_backup_and_check_config(tmp_path: Path) -> None:
    write(tmp_path, '[database]\npath = "data/h.db"\n')
    migrated = run_cli(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_core" in migrated.stdout
    assert "up to date" in run_cli(tmp_path, "migrate").stdout

    backup = run_cli(tmp_path, "backup", "copies/h.db")
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "copies" / "h.db").stat().st_size > 0

    checked = run_cli(tmp_path, "check-config", token="sekrit-token")
    assert checked.returncode == 0
    assert "database.path = 'data/h.db'" in checked.stdout
    assert "token: set (hidden)" in checked.stdout
    assert "sekrit-token" not in checked.stdout + checked.stderr
    assert "database: reachable, schema version" in checked.stdout
    assert "(up to date)" in checked.stdout


def test_check_config_reports_a_missing_database_without_creating_it(tmp_path: Path) -> None:
    write(tmp_path, '[database]\npath = "h.db"\n')
    checked = run_cli(tmp_path, "check-config")
    assert checked.returncode == 0, checked.stderr
    assert "database: none yet at h.db (created on first start)" in checked.stdout
    assert not (tmp_path / "h.db").exists()
