"""Where the PostgreSQL rows run, beside the SQLite ones of the same run.

The server is, in order: the one `HEARTH_TEST_DATABASE_URL` names (as for the tests); else a
throwaway cluster started with `.ci/postgres.sh` (in /dev/shm when it has a spare GiB, as in
`.ci/run`) and stopped at the end of the run; else none, and the PostgreSQL rows say
`skipped: no PostgreSQL server`. Every measurement gets a fresh empty database of its own
(`tests.pgtest.fresh_database_url`), dropped at the end of the run.

The SQLite rows stay SQLite whatever the environment says: the harness (`tests.stores`) would put
a bot on a fresh PostgreSQL database whenever `HEARTH_TEST_DATABASE_URL` is set, so the sections
that measure both engines hold that variable to the engine they mean (`server_env`), for the
bots they start in this process and in child processes alike.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.stores import SERVER_ENV

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres.sh"
SKIPPED = "skipped: no PostgreSQL server"
START_TIMEOUT = 180
# The variable as the run was started with it: read once, before any section changes it.
_GIVEN = os.environ.get(SERVER_ENV, "").strip() or None


@dataclass
class Server:
    """A PostgreSQL server to make databases on, or the reason there is none."""

    url: str | None  # an admin URL (may create databases), None when there is no server
    note: str  # where the server came from, or why there is none (fit for the table)
    directory: Path | None = None  # our own throwaway cluster, stopped by `shutdown`

    @property
    def available(self) -> bool:
        return self.url is not None


_server: Server | None = None


def postgres() -> Server:
    """The run's PostgreSQL server, started on first use when the run has to bring its own."""
    global _server
    if _server is None:
        _server = Server(_GIVEN, f"${SERVER_ENV}") if _GIVEN else _start_own()
    return _server


def _cluster_parent() -> str | None:
    """/dev/shm when it has more than a GiB free (as `.ci/run`), else the default temp dir."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**30:
        return str(shm)
    return None


def _has_server_binaries() -> bool:
    bindir = ""
    if shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        bindir = done.stdout.strip()
    candidates = [Path(bindir)] if bindir else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return any((d / "initdb").exists() and (d / "pg_ctl").exists() for d in candidates)


def _start_own() -> Server:
    if not SCRIPT.exists() or not _has_server_binaries():
        return Server(None, f"{SKIPPED} (no {SERVER_ENV}, no server binaries)")
    directory = Path(tempfile.mkdtemp(prefix="hearth-bench-pg-", dir=_cluster_parent()))
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(directory)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        _stop(directory)
        return Server(None, f"{SKIPPED} (a throwaway cluster did not start in {START_TIMEOUT} s)")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("postgresql://"):
        _stop(directory)
        why = (done.stderr.strip().splitlines() or ["no URL printed"])[-1]
        return Server(None, f"{SKIPPED} (a throwaway cluster did not start: {why})")
    atexit.register(shutdown)  # a crash in a section still stops the cluster
    return Server(lines[-1], "a throwaway cluster (.ci/postgres.sh)", directory)


def _stop(directory: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=120)
    shutil.rmtree(directory, ignore_errors=True)


def shutdown() -> None:
    """Drop every database the run made, and stop the cluster if the run started one."""
    global _server
    server, _server = _server, None
    if server is None or not server.available:
        return
    from tests import pgtest

    with server_env(server.url):
        pgtest.drop_all_created()  # before the stop: a stopped server drops nothing
    if server.directory is not None:
        _stop(server.directory)


@contextmanager
def server_env(url: str | None) -> Iterator[None]:
    """`HEARTH_TEST_DATABASE_URL` set to `url` (unset for None) for the block, then restored."""
    before = os.environ.get(SERVER_ENV)
    if url is None:
        os.environ.pop(SERVER_ENV, None)
    else:
        os.environ[SERVER_ENV] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SERVER_ENV, None)
        else:
            os.environ[SERVER_ENV] = before


def fresh_database(tag: str) -> str:
    """A new empty database on the run's server; its URL."""
    from tests import pgtest

    server = postgres()
    if server.url is None:
        raise RuntimeError(server.note)
    with server_env(server.url):
        return pgtest.fresh_database_url(f"bench_{tag}")


def drop_database(url: str) -> None:
    """Drop a database `fresh_database` made, as soon as its measurement is done."""
    from tests import pgtest

    with server_env(postgres().url):
        pgtest.drop_database(url)


def ratio(postgresql: float, sqlite: float) -> str:
    """PostgreSQL's figure over SQLite's, as the tables print it."""
    return f"{postgresql / sqlite:.2f} PG/SQLite" if sqlite else ""
