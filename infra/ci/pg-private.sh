#!/usr/bin/env bash
# Throwaway, trust-auth PostgreSQL cluster for tests (CI and local use).
#
# The cluster lives in a fresh temp dir, listens on 127.0.0.1 only (on a free
# port), keeps its unix socket inside the temp dir, and has a superuser
# `postgres` with trust auth. fsync is off: it is for tests only.
#
# Use as a command:
#   eval "$(infra/ci/pg-private.sh start)"   # sets PG_PRIVATE_DIR/_PORT/_URL
#   TEST_PG_ADMIN_URL=$PG_PRIVATE_URL make test-pg
#   infra/ci/pg-private.sh stop "$PG_PRIVATE_DIR"
# or, all in one (stopped and removed when the command ends):
#   infra/ci/pg-private.sh run make test-pg  # TEST_PG_ADMIN_URL is exported
#
# Or source it and call the functions (this is what .ci/run does):
#   source infra/ci/pg-private.sh
#   pg_private_start || exit 1     # sets PG_PRIVATE_DIR, PG_PRIVATE_PORT, PG_PRIVATE_URL
#   ...
#   pg_private_stop                # stops the server and deletes PG_PRIVATE_DIR
#
# As root, the server runs as user `postgres` (created if missing; initdb refuses
# root). As any other user it runs as that user. If no PostgreSQL server binaries
# are installed and we are root, the Debian `postgresql` package is installed.
#
# Settings (environment):
#   PG_PRIVATE_BASE  parent for the temp dir (default /tmp; keep it short, the
#                    unix socket path must stay under ~100 characters)
#   PG_BINDIR        PostgreSQL bin dir to use (default: newest /usr/lib/postgresql/*/bin)

_pgp_log() { printf 'pg-private: %s\n' "$*" >&2; }

_pgp_find_bindir() {
    local x b
    for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V || true); do
        if [[ -x "$b/initdb" ]]; then x=$b; fi
    done
    if [[ -z "${x:-}" ]] && command -v pg_config >/dev/null 2>&1; then
        b=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$b" && -x "$b/initdb" ]]; then x=$b; fi
    fi
    if [[ -z "${x:-}" ]] && command -v initdb >/dev/null 2>&1; then
        x=$(dirname "$(command -v initdb)")
    fi
    printf '%s' "${x:-}"
}

# Print the bin dir holding initdb/pg_ctl, installing PostgreSQL if needed (root only).
pg_private_bindir() {
    local d
    if [[ -n "${PG_BINDIR:-}" ]]; then
        [[ -x "$PG_BINDIR/initdb" ]] || { _pgp_log "no initdb in PG_BINDIR=$PG_BINDIR"; return 1; }
        printf '%s\n' "$PG_BINDIR"; return 0
    fi
    d=$(_pgp_find_bindir)
    if [[ -z "$d" ]]; then
        if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            _pgp_log "no PostgreSQL server binaries found; installing the postgresql package"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 || return 1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null >&2 || return 1
            d=$(_pgp_find_bindir)
        fi
    fi
    [[ -n "$d" ]] || { _pgp_log "cannot find PostgreSQL server binaries (initdb)"; return 1; }
    printf '%s\n' "$d"
}

_pgp_free_port() {
    local py
    py=$(command -v python3 || echo /usr/bin/python3)
    "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Run a command as the cluster owner, from inside the cluster dir.
_pgp_as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$PG_PRIVATE_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_PRIVATE_DIR" && "$@")
    fi
}

# Create and start the cluster. Sets PG_PRIVATE_DIR, PG_PRIVATE_PORT, PG_PRIVATE_URL,
# PG_PRIVATE_BINDIR. Written to work with or without `set -e` in the caller.
pg_private_start() {
    local bindir attempt port
    bindir=$(pg_private_bindir) || return 1
    PG_PRIVATE_BINDIR=$bindir

    if [[ $EUID -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
        _pgp_log "creating system user postgres"
        useradd -r postgres || return 1
    fi

    PG_PRIVATE_DIR=$(mktemp -d "${PG_PRIVATE_BASE:-/tmp}/pg-private.XXXXXX") || return 1
    : >"$PG_PRIVATE_DIR/.pg-private"   # marker: pg_private_stop only deletes dirs with it
    mkdir -p "$PG_PRIVATE_DIR/sock" || return 1
    if [[ $EUID -eq 0 ]]; then
        chown -R postgres: "$PG_PRIVATE_DIR" || return 1
    fi

    _pgp_log "initdb in $PG_PRIVATE_DIR/data ($bindir)"
    _pgp_as_owner "$bindir/initdb" -D "$PG_PRIVATE_DIR/data" -U postgres -A trust \
        -E UTF8 --locale=C --no-sync --no-instructions >"$PG_PRIVATE_DIR/initdb.log" 2>&1 || {
        _pgp_log "initdb failed:"; cat "$PG_PRIVATE_DIR/initdb.log" >&2; return 1; }
    echo "include 'ci-private.conf'" >>"$PG_PRIVATE_DIR/data/postgresql.conf"

    # The free port can be taken between probing and binding: retry a few times.
    for attempt in 1 2 3; do
        port=$(_pgp_free_port) || return 1
        cat >"$PG_PRIVATE_DIR/data/ci-private.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_PRIVATE_DIR/sock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
dynamic_shared_memory_type = mmap
EOF
        if [[ $EUID -eq 0 ]]; then chown postgres: "$PG_PRIVATE_DIR/data/ci-private.conf"; fi
        if _pgp_as_owner "$bindir/pg_ctl" -D "$PG_PRIVATE_DIR/data" -l "$PG_PRIVATE_DIR/server.log" \
                -w -t 60 start >&2; then
            PG_PRIVATE_PORT=$port
            PG_PRIVATE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
            if "$bindir/psql" -w -X -q "$PG_PRIVATE_URL" -tAc 'select 1' >/dev/null; then
                _pgp_log "running on 127.0.0.1:$port (dir $PG_PRIVATE_DIR)"
                return 0
            fi
            _pgp_log "server started but does not answer on 127.0.0.1:$port"
            tail -n 30 "$PG_PRIVATE_DIR/server.log" >&2 || true
            return 1
        fi
        _pgp_log "start attempt $attempt on port $port failed:"
        tail -n 20 "$PG_PRIVATE_DIR/server.log" >&2 || true
    done
    return 1
}

# Stop the cluster and delete its dir. Arg: dir (default $PG_PRIVATE_DIR). Idempotent.
pg_private_stop() {
    local dir=${1:-${PG_PRIVATE_DIR:-}} bindir
    [[ -n "$dir" && -d "$dir" ]] || return 0
    if [[ ! -e "$dir/.pg-private" ]]; then
        _pgp_log "refusing to delete $dir: not a pg-private dir"; return 1
    fi
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        bindir=${PG_PRIVATE_BINDIR:-$(pg_private_bindir)} || bindir=""
        if [[ -n "$bindir" ]]; then
            PG_PRIVATE_DIR=$dir _pgp_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 ||
                PG_PRIVATE_DIR=$dir _pgp_as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 ||
                _pgp_log "could not stop the server in $dir"
        fi
    fi
    rm -rf -- "$dir"
    _pgp_log "stopped and removed $dir"
    if [[ "$dir" == "${PG_PRIVATE_DIR:-}" ]]; then
        PG_PRIVATE_DIR=""; PG_PRIVATE_PORT=""; PG_PRIVATE_URL=""
    fi
    return 0
}

# Command mode (when executed rather than sourced).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        start)
            if [[ -n "${2:-}" ]]; then PG_PRIVATE_BASE=$2; fi
            if ! pg_private_start; then pg_private_stop || true; exit 1; fi
            printf 'PG_PRIVATE_DIR=%q\nPG_PRIVATE_PORT=%q\nPG_PRIVATE_URL=%q\n' \
                "$PG_PRIVATE_DIR" "$PG_PRIVATE_PORT" "$PG_PRIVATE_URL"
            ;;
        stop)
            [[ -n "${2:-}" ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }
            pg_private_stop "$2"
            ;;
        run)
            shift
            [[ $# -gt 0 ]] || { echo "usage: $0 run COMMAND [ARG...]" >&2; exit 2; }
            trap 'pg_private_stop || true' EXIT
            trap 'exit 130' INT; trap 'exit 143' TERM
            pg_private_start || exit 1
            rc=0
            TEST_PG_ADMIN_URL=$PG_PRIVATE_URL "$@" || rc=$?
            exit "$rc"
            ;;
        *)
            echo "usage: $0 start [BASE_DIR] | stop DIR | run COMMAND [ARG...]" >&2
            exit 2
            ;;
    esac
fi
