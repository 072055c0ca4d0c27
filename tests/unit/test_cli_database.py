"""Bad database input at the command line: one line naming the problem, exit 2, no change."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hearth(folder: Path, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "config.toml").write_text(config, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=folder, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "x"}, timeout=60,
    )  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if " WARNING " not in line]
    assert "Traceback" not in done.stderr
    assert len(lines) in (1, 2) and lines[0].startswith("hearth: ")  # config: a heading + item
    return " ".join(lines)


@pytest.mark.parametrize("command", ["migrate", "copy-database --to x.db"])
def test_an_unreachable_server_is_one_line_without_the_password(
    tmp_path: Path, command: str
) -> None:
    config = (
        '[database]\nurl = "postgresql://hearth:s3cret@127.0.0.1:1/hearth"\n'
        "connect_timeout_seconds = 2\n"
    )
    message = one_line(hearth(tmp_path, config, *command.split()))
    assert "can't connect to PostgreSQL" in message and "s3cret" not in message
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "hearth.db").exists()


def test_a_url_that_is_not_postgresql_is_refused_before_anything_runs(tmp_path: Path) -> None:
    message = one_line(hearth(tmp_path, '[database]\nurl = "mysql://x@h/db"\n', "migrate"))
    assert "database.url" in message and "postgresql://" in message


def test_a_schema_newer_than_the_code_is_refused_and_left_alone(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    message = one_line(hearth(tmp_path, '[database]\npath = "h.db"\n', "migrate"))
    assert "schema version 99" in message and "newer Hearth" in message
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (99,)
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
