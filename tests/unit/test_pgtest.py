"""tests/pgtest.py: fresh databases are distinct, empty, usable, and really dropped.

The naming and URL tests run everywhere; those that need a server skip with a reason when
HEARTH_TEST_DATABASE_URL is unset, so the SQLite-only run stays green and says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests import pgtest

ROOT = Path(__file__).resolve().parents[2]  # children import tests.pgtest from here

needs_server = pytest.mark.skipif(
    pgtest.admin_url() is None,
    reason=f"{pgtest.ADMIN_URL_ENV} is not set: no PostgreSQL server to test against",
)


def _exists(dbname: str) -> bool:
    admin = pgtest.admin_url()
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
    return row is not None


@pytest.fixture
def two_urls() -> Iterator[tuple[str, str]]:
    if pgtest.admin_url() is None:
        pytest.skip(f"{pgtest.ADMIN_URL_ENV} is not set: no PostgreSQL server to test against")
    first = pgtest.fresh_database_url("two urls a")
    second = pgtest.fresh_database_url("two urls b")
    yield first, second
    pgtest.drop_database(first)
    pgtest.drop_database(second)


def test_names_are_safe_short_and_unique_per_call() -> None:
    tag = 'test_x[Param With Spaces/and-"quotes"] ' + "é" * 80
    names = {pgtest.database_name(tag) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert len(name) <= pgtest.MAX_NAME_LEN
        assert name.startswith(f"{pgtest.NAME_PREFIX}{os.getpid()}_")
        assert all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        assert name == name.lower()
    longest = pgtest.database_name("x" * 200, pid=4_194_304, serial=10**9)
    assert len(longest) <= pgtest.MAX_NAME_LEN
    assert longest.startswith("hearth_t_4194304_1000000000_x")


def test_url_keeps_host_port_user_and_options_and_replaces_the_database() -> None:
    url = pgtest.url_for_database(
        "postgresql://hearth:pw@127.0.0.1:5433/postgres?sslmode=disable&dbname=other", "hearth_t_1"
    )
    assert url == "postgresql://hearth:pw@127.0.0.1:5433/hearth_t_1?sslmode=disable"
    assert pgtest.database_of(url) == "hearth_t_1"
    with pytest.raises(ValueError):
        pgtest.url_for_database("host=localhost dbname=postgres", "hearth_t_1")


def test_drop_refuses_a_database_that_is_not_a_test_database() -> None:
    with pytest.raises(ValueError, match="not a test database"):
        pgtest.drop_database("postgresql://hearth@127.0.0.1:5432/hearth")


@needs_server
def test_two_fresh_urls_are_different_empty_databases(two_urls: tuple[str, str]) -> None:
    first, second = two_urls
    assert first != second
    assert pgtest.database_of(first) != pgtest.database_of(second)
    for url in two_urls:
        with psycopg.connect(url) as conn:
            assert conn.info.dbname == pgtest.database_of(url)
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                "'information_schema')"
            ).fetchone()
            assert tables == (0,)


@needs_server
def test_a_table_made_in_one_is_not_in_the_other(two_urls: tuple[str, str]) -> None:
    first, second = two_urls
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE t (id integer PRIMARY KEY, note text NOT NULL)")
        conn.execute("INSERT INTO t VALUES (1, 'hello')")
    with psycopg.connect(first) as conn:
        assert conn.execute("SELECT note FROM t").fetchall() == [("hello",)]
    with psycopg.connect(second) as conn:
        assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)


@needs_server
def test_drop_removes_the_database_even_with_a_session_left_open() -> None:
    url = pgtest.fresh_database_url("drop me")
    dbname = pgtest.database_of(url)
    assert _exists(dbname)
    assert url in pgtest.created_urls()
    left_open = psycopg.connect(url)  # as a test that forgot to close its pool would
    try:
        pgtest.drop_database(url)
    finally:
        left_open.close()
    assert not _exists(dbname)
    assert url not in pgtest.created_urls()
    pgtest.drop_database(url)  # a second drop is harmless


@needs_server
def test_the_context_manager_drops_after_the_block() -> None:
    with pgtest.fresh_database("ctx") as url:
        dbname = pgtest.database_of(url)
        assert _exists(dbname)
    assert not _exists(dbname)


def _child(code: str) -> str:
    """Run `code` in a new Python process from the repository root; what it printed."""
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout


@needs_server
def test_a_process_drops_what_it_made_at_exit_and_leftovers_of_dead_ones() -> None:
    # A child makes two databases and exits normally: its exit hook must drop both.
    code = (
        "from tests import pgtest\n"
        "print(pgtest.fresh_database_url('exit a'))\n"
        "print(pgtest.fresh_database_url('exit b'))\n"
    )
    out = _child(code).split()
    assert len(out) == 2
    for url in out:
        assert not _exists(pgtest.database_of(url))

    # A child killed before its exit hook (os._exit) leaves its database; the next process's
    # first create sweeps it, as its pid is gone.
    code = (
        "import os\n"
        "from tests import pgtest\n"
        "print(pgtest.fresh_database_url('killed'))\n"
        "os._exit(0)\n"
    )
    left = _child(code).strip()
    assert _exists(pgtest.database_of(left))
    code = "from tests import pgtest\npgtest.fresh_database_url('sweeper')\n"
    _child(code)
    assert not _exists(pgtest.database_of(left))
