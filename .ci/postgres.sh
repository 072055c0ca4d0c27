#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, in a directory of its own.
#
#   .ci/postgres.sh start DIR   initialise a cluster in DIR/data, start it, create role `hearth`;
#                               the last line on stdout is the admin URL
#                               postgresql://hearth@127.0.0.1:PORT/postgres
#   .ci/postgres.sh stop DIR    stop it at once (-m immediate: the data is disposable)
#
# Why this shape: CI runs as root on a machine with Debian's server binaries installed but no
# cluster running, and initdb/postgres refuse to run as root, so as root they run as the
# `postgres` user. Trust auth on a unix socket in DIR and on 127.0.0.1 only: the server is
# reachable from this machine alone, and tests need no password. The tuning (fsync off and
# friends) trades crash safety, which a throwaway cluster does not need, for speed.
# Everything but the URL goes to stderr, so `URL=$(.ci/postgres.sh start DIR)` captures the URL.
set -euo pipefail

die() {
    echo "postgres.sh: $*" >&2
    exit 2
}

usage() {
    echo "usage: $0 start DIR | stop DIR" >&2
    exit 2
}

# The directory holding initdb/pg_ctl/postgres: pg_config's, if it has them (pg_config can come
# from libpq-dev without a server), else the newest Debian one.
find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    done
    die "no PostgreSQL server binaries found (tried pg_config --bindir and /usr/lib/postgresql/*/bin)"
}

# Run a server binary as the cluster's owner: `postgres` when we are root, else ourselves.
# From inside DIR, so a working directory the postgres user cannot read (/root) does not matter.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$DIR" && runuser -u postgres -- "$@")
    else
        (cd "$DIR" && "$@")
    fi
}

# A TCP port nobody is listening on right now. Another process could take it before the server
# binds it; `start` retries with a new port if the server then fails to start.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

is_running() {
    [[ -f "$DATA/PG_VERSION" ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

cmd_start() {
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    DATA="$DIR/data"
    if is_running; then
        die "$DIR already holds a running cluster (stop it with: $0 stop $DIR)"
    fi
    # The socket file is DIR/.s.PGSQL.PORT; unix socket paths are limited to 107 bytes.
    if ((${#DIR} > 90)); then
        die "$DIR is too long for a unix socket path; use a shorter directory"
    fi
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user"
        chown postgres: "$DIR"
        chmod 0700 "$DIR"
        if ! runuser -u postgres -- test -w "$DIR"; then
            die "user postgres cannot write $DIR (a parent directory is not searchable?); use a directory under /tmp"
        fi
    fi

    if [[ -f "$DATA/PG_VERSION" ]]; then
        echo "postgres.sh: reusing the stopped cluster in $DATA" >&2
    else
        if [[ -e "$DATA" ]] && [[ -n "$(ls -A "$DATA")" ]]; then
            die "$DATA exists, is not empty and is not a cluster; refusing to touch it"
        fi
        as_owner "$BIN/initdb" -D "$DATA" --username=postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 ||
            die "initdb failed; see $DIR/initdb.log"
        cat >>"$DATA/postgresql.conf" <<EOF

# --- .ci/postgres.sh: a disposable cluster for tests ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
EOF
    fi

    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        # The port is given on the command line, not in postgresql.conf, so a reused cluster
        # takes a fresh free port each start.
        if as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
            -o "-p $port" start >&2; then
            break
        fi
        if ((attempt == 5)); then
            tail -n 20 "$DIR/server.log" >&2 || true
            die "the server did not start; see $DIR/server.log"
        fi
        echo "postgres.sh: start on port $port failed, retrying on another port" >&2
    done
    echo "$port" >"$DIR/port"

    # A superuser: the tests create and drop a database each.
    as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres \
        -c "DO \$\$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth') THEN
                CREATE ROLE hearth LOGIN SUPERUSER;
              END IF;
            END \$\$;" >&2 ||
        die "could not create role hearth"

    # One role that must give a password, so the tests can prove a wrong one is refused kindly:
    # trust everywhere else would accept any password. Its password is no secret (a throwaway
    # cluster on 127.0.0.1 only); tests/unit/test_cli_database.py uses the same one.
    local hba="$DATA/pg_hba.conf"
    if ! grep -q '^host all hearth_password ' "$hba"; then
        { echo "host all hearth_password 127.0.0.1/32 scram-sha-256"; cat "$hba"; } >"$hba.new"
        chown --reference="$hba" "$hba.new" 2>/dev/null || true
        mv "$hba.new" "$hba"
    fi
    as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres \
        -c "DO \$\$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_password') THEN
                CREATE ROLE hearth_password LOGIN PASSWORD 'hearth-password-check';
              END IF;
            END \$\$;" -c "SELECT pg_reload_conf();" >/dev/null ||
        die "could not create role hearth_password"

    echo "postgresql://hearth@127.0.0.1:$port/postgres"
}

cmd_stop() {
    [[ -d "$DIR" ]] || die "$DIR does not exist"
    DIR=$(cd "$DIR" && pwd -P)
    DATA="$DIR/data"
    if ! is_running; then
        echo "postgres.sh: no running cluster in $DIR" >&2
        return 0
    fi
    as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >&2
}

[[ $# -eq 2 ]] || usage
ACTION=$1
DIR=$2
BIN=$(find_bindir)
case "$ACTION" in
start) cmd_start ;;
stop) cmd_stop ;;
*) usage ;;
esac
