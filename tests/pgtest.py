"""The one place tests get a PostgreSQL database.

Tests run on PostgreSQL when `HEARTH_TEST_DATABASE_URL` names a server on which its user may
create databases (`.ci/postgres.sh start DIR` prints such a URL). Each test that wants one gets a
new empty database of its own, so tests stay as independent of each other as they are with a
SQLite file in `tmp_path`, and pytest-xdist workers never share one.

Why a database per test and not a schema or a rollback: the store opens its own pooled
connections and commits, so neither a wrapping transaction nor `search_path` games would isolate
it, and the migrations must run on a truly empty database as they do in production.

Why `TEMPLATE template0 STRATEGY FILE_COPY`: template0 accepts no connections, so concurrent
creates from several workers never fail with "source database is being accessed by other
users"; and on the tuned test server (fsync off) FILE_COPY measured about 23 ms a database against
about 35 ms for PostgreSQL 15's default WAL_LOG (28 vs 40 ms with two workers creating at once),
because copying template0's few files beats writing each of its pages to the WAL.

Every database this process makes is dropped at exit, and the first create in a process also
drops those left behind by test processes that died without their exit hooks (their pid is in the
name), so a 550-test run does not leave 550 databases on a long-lived server.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ADMIN_URL_ENV = "HEARTH_TEST_DATABASE_URL"

#: Every test database's name starts with this, so leftovers are easy to find and to sweep.
NAME_PREFIX = "hearth_t_"
#: PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1), which would make two
#: long names collide; names are kept within it instead.
MAX_NAME_LEN = 63
#: The tag is only there to tell a human which test a leftover database belonged to.
MAX_TAG_LEN = 20

_counter = itertools.count(1)
_lock = threading.Lock()
_created: set[str] = set()  # URLs made by this process and not yet dropped
_admin: psycopg.Connection[tuple[object, ...]] | None = None
_swept = False
_atexit_registered = False


def admin_url() -> str | None:
    """The admin URL from the environment, or None when tests run on SQLite only."""
    url = os.environ.get(ADMIN_URL_ENV, "").strip()
    return url or None


def _require_admin_url() -> str:
    url = admin_url()
    if url is None:
        raise RuntimeError(
            f"{ADMIN_URL_ENV} is not set; no PostgreSQL server to create a database on"
        )
    return url


def _admin_conn() -> psycopg.Connection[tuple[object, ...]]:
    """One autocommit admin connection per process, reused: CREATE/DROP DATABASE cannot run in a
    transaction, and connecting afresh for each test would add its cost to every test."""
    global _admin
    if _admin is None or _admin.closed or _admin.broken:
        _admin = psycopg.connect(_require_admin_url(), autocommit=True)
    return _admin


def _safe_tag(tag: str) -> str:
    """The tag reduced to lowercase letters, digits and underscores, so the database name needs
    no quoting anywhere (psql, pg_dump, URLs) and cannot be mistaken for another one."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")
    return cleaned[:MAX_TAG_LEN].rstrip("_") or "db"


def database_name(tag: str, *, pid: int | None = None, serial: int | None = None) -> str:
    """`hearth_t_<pid>_<serial>_<tag>`: unique per process by the counter and across processes by
    the pid; the pid also lets a later run see whether the process that made it is gone."""
    pid = os.getpid() if pid is None else pid
    serial = next(_counter) if serial is None else serial
    head = f"{NAME_PREFIX}{pid}_{serial}_"
    return (head + _safe_tag(tag))[:MAX_NAME_LEN].rstrip("_")


def url_for_database(url: str, dbname: str) -> str:
    """`url` with its database replaced by `dbname`: same host, port, user and options."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"{ADMIN_URL_ENV} must be a postgresql:// URL")
    # A dbname in the query string would override the path; drop it.
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "dbname"])
    return urlunsplit(parts._replace(path="/" + dbname, query=query))


def database_of(url: str) -> str:
    """The database a URL names."""
    return urlsplit(url).path.lstrip("/")


def _drop(conn: psycopg.Connection[tuple[object, ...]], dbname: str) -> None:
    # FORCE ends sessions a test left open (an unclosed pool), which would otherwise block the drop.
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_leftovers(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Drop test databases whose creating process no longer exists on this machine.

    Without FORCE: a database still in use (by a process on another machine sharing the server,
    whose pid happens to be free here) makes the drop fail, and that failure is ignored."""
    pattern = re.compile(rf"^{NAME_PREFIX}(\d+)_\d+")
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", [NAME_PREFIX + "%"]
    ).fetchall()
    for (name,) in rows:
        match = pattern.match(str(name))
        if match is None or _pid_alive(int(match.group(1))):
            continue
        with suppress(psycopg.Error):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(str(name))))


def fresh_database_url(tag: str, *, template: str = "template0") -> str:
    """Create a new, empty database and return its URL.

    `tag` (say, the test's name) goes into the name for whoever finds a leftover. `template` can
    name another database to clone, such as one already migrated; it must have no connections
    open while it is copied, which template0 guarantees."""
    global _swept, _atexit_registered
    base = _require_admin_url()
    dbname = database_name(tag)
    url = url_for_database(base, dbname)
    with _lock:
        conn = _admin_conn()
        if not _swept:
            _swept = True
            _sweep_leftovers(conn)
        if not _atexit_registered:
            _atexit_registered = True
            atexit.register(drop_all_created)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(dbname), sql.Identifier(template)
            )
        )
        _created.add(url)
    return url


def drop_database(url: str) -> None:
    """Drop the database `url` names, closing any sessions still on it; no error if it is gone."""
    dbname = database_of(url)
    if not dbname.startswith(NAME_PREFIX):
        # A guard against a typo dropping a real database with the admin's rights.
        raise ValueError(f"refusing to drop {dbname!r}: not a test database ({NAME_PREFIX}*)")
    with _lock:
        _drop(_admin_conn(), dbname)
        _created.discard(url)


def drop_all_created() -> None:
    """Drop every database this process made and has not dropped; run at exit.

    Best effort: at exit the server may already be gone (CI stops it on its own exit), and
    an error here must not turn a passing run into a failing one."""
    global _admin
    with _lock:
        if not _created:
            return
        try:
            conn = _admin_conn()
            for url in sorted(_created):
                _drop(conn, database_of(url))
            _created.clear()
        except psycopg.Error:
            pass
        finally:
            if _admin is not None:
                _admin.close()
                _admin = None


def created_urls() -> frozenset[str]:
    """The databases this process made and has not dropped (for tests of this module)."""
    with _lock:
        return frozenset(_created)


@contextmanager
def fresh_database(tag: str, *, template: str = "template0") -> Iterator[str]:
    """A fresh database's URL for the `with` block, dropped after it: what a fixture wants."""
    url = fresh_database_url(tag, template=template)
    try:
        yield url
    finally:
        drop_database(url)
