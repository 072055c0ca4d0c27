"""Bad database input at the command line: one line naming the problem, exit 2, no change."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests import pgtest

ROOT = Path(__file__).resolve().parents[2]


def hearth(
    folder: Path, config: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (folder / "config.toml").write_text(config, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=folder, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "x", **(env or {})},
        timeout=60,
    )  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if " WARNING " not in line]
    assert "Traceback" not in done.stderr
    assert len(lines) in (1, 2) and lines[0].startswith("hearth: ")  # config: a heading + item
    return " ".join(lines)


@pytest.mark.parametrize("command", ["migrate", "copy-database --to x.db", "check-config"])
def test_an_unreachable_server_is_one_line_without_the_password(
    tmp_path: Path, command: str
) -> None:
    config = (
        '[database]\nurl = "postgresql://hearth:s3cret@127.0.0.1:1/hearth"\n'
        "connect_timeout_seconds = 2\n"
    )
    done = hearth(tmp_path, config, *command.split())
    message = one_line(done)
    assert "can't connect to PostgreSQL" in message and "s3cret" not in message + done.stdout
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "hearth.db").exists()


def test_a_url_that_is_not_postgresql_is_refused_before_anything_runs(tmp_path: Path) -> None:
    message = one_line(hearth(tmp_path, '[database]\nurl = "mysql://x@h/db"\n', "migrate"))
    assert "database.url" in message and "postgresql://" in message


@pytest.mark.parametrize("command", ["migrate", "check-config"])
def test_a_schema_newer_than_the_code_is_refused_and_left_alone(
    tmp_path: Path, command: str
) -> None:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    message = one_line(hearth(tmp_path, '[database]\npath = "h.db"\n', command))
    assert "schema version 99" in message and "newer Hearth" in message
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (99,)
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)


# The one role on the throwaway server (.ci/postgres.sh) that must give a password; everyone
# else is trusted, so only this role can prove a wrong password is refused.
PASSWORD_ROLE = "hearth_password"
PASSWORD = "hearth-password-check"


def _password_role_url() -> str:
    """A fresh database owned by the password role, on the suite's server; skips without one."""
    admin = pgtest.admin_url()
    if admin is None:
        pytest.skip("needs HEARTH_TEST_DATABASE_URL (a PostgreSQL server)")
    with psycopg.connect(admin, autocommit=True) as conn:
        rules = conn.execute(
            "SELECT 1 FROM pg_hba_file_rules WHERE %s = ANY(user_name) "
            "AND auth_method = 'scram-sha-256'",
            (PASSWORD_ROLE,),
        ).fetchall()
    if not rules:
        pytest.skip(f"the server trusts {PASSWORD_ROLE}; .ci/postgres.sh sets a password rule up")
    url = pgtest.fresh_database_url("password")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(pgtest.database_of(url)), sql.Identifier(PASSWORD_ROLE)
            )
        )
    parts = urlsplit(url)
    return parts._replace(netloc=f"{PASSWORD_ROLE}@{parts.hostname}:{parts.port}").geturl()


def _tables(url: str) -> int:
    admin_view = pgtest.url_for_database(pgtest.admin_url() or "", pgtest.database_of(url))
    with psycopg.connect(admin_view) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("where", ["url", "environment"])
def test_a_wrong_password_is_one_line_without_it_and_creates_nothing(
    tmp_path: Path, where: str
) -> None:
    url = _password_role_url()
    if where == "url":
        url = url.replace(f"{PASSWORD_ROLE}@", f"{PASSWORD_ROLE}:not-it-9f2@", 1)
        env = {}
    else:
        env = {"HEARTH_DATABASE_PASSWORD": "not-it-9f2"}
    done = hearth(tmp_path, f'[database]\nurl = "{url}"\n', "migrate", env=env)
    message = one_line(done)
    assert "can't connect to PostgreSQL" in message
    assert "password authentication failed" in message and "not-it-9f2" not in message
    assert _tables(url) == 0


def test_the_right_password_from_the_environment_is_used(tmp_path: Path) -> None:
    url = _password_role_url()
    done = hearth(
        tmp_path, f'[database]\nurl = "{url}"\n', "migrate",
        env={"HEARTH_DATABASE_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert _tables(url) > 0


def test_run_stops_at_a_bad_database_before_it_touches_discord(tmp_path: Path) -> None:
    """The API base is a closed port too: had `run` tried Discord, it would say so instead."""
    config = (
        '[discord]\napi_base = "http://127.0.0.1:1"\n'
        '[database]\nurl = "postgresql://hearth:s3cret@127.0.0.1:1/hearth"\n'
        "connect_timeout_seconds = 2\n"
    )
    message = one_line(hearth(tmp_path, config, "run"))
    assert "can't connect to PostgreSQL" in message and "s3cret" not in message
    assert "Discord" not in message


def test_run_refuses_a_schema_newer_than_the_code_before_it_touches_discord(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    config = '[discord]\napi_base = "http://127.0.0.1:1"\n[database]\npath = "h.db"\n'
    message = one_line(hearth(tmp_path, config, "run"))
    assert "schema version 99" in message and "Discord" not in message
