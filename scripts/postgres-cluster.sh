#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster for tests.
#
#   scripts/postgres-cluster.sh start DIR [PORT]   initialise a cluster in DIR and start it on
#                                                  127.0.0.1:PORT (default: a free port); the
#                                                  last line on stdout is its admin URL
#   scripts/postgres-cluster.sh url DIR            print that URL again
#   scripts/postgres-cluster.sh stop DIR           stop the cluster and remove DIR
#
# Typical use:
#   export MILLWRIGHT_TEST_POSTGRES_URL="$(scripts/postgres-cluster.sh start /tmp/mw-pg)"
#   cargo test -p millwright-store-postgres
#   scripts/postgres-cluster.sh stop /tmp/mw-pg
#
# Needs only the PostgreSQL server binaries (Debian's postgresql-15). The cluster trusts every
# local connection and runs with fsync off: it is for tests and nothing else. Set PG_BINDIR to
# use binaries from elsewhere.
set -euo pipefail

# Marks a directory this script made, so that `stop` never removes anything else.
readonly MARKER=".millwright-postgres-cluster"

say() { echo "postgres-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# The directory holding initdb/pg_ctl: PG_BINDIR, then PostgreSQL 15's Debian location, then
# pg_config's answer (pg_config may belong to libpq-dev and another version), then PATH.
find_bindir() {
    local dir
    for dir in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return
    fi
    # Debian installs every major version side by side; take the newest one there is.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
        return
    fi
    die "no PostgreSQL server binaries found (install postgresql-15, or set PG_BINDIR)"
}

# initdb and postgres refuse to run as root; as root, run them as the `postgres` user.
RUN_AS=""
if [[ $(id -u) -eq 0 ]]; then
    RUN_AS=postgres
    getent passwd "$RUN_AS" >/dev/null ||
        die "running as root, but there is no '$RUN_AS' user to run PostgreSQL as (useradd --system $RUN_AS)"
fi

as_pg() {
    if [[ -z "$RUN_AS" ]]; then
        "$@"
    elif command -v runuser >/dev/null; then
        runuser -u "$RUN_AS" -- "$@"
    else
        su "$RUN_AS" -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

# A port nobody listens on: the kernel's choice when python3 is there, otherwise a random one
# that refuses a connection. Either can race with another process; `start` retries then.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "found no free port"
}

cmd_start() {
    local dir=${1:-} port=${2:-}
    [[ -n "$dir" ]] || usage
    [[ -z "$port" || "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"

    local bindir
    bindir=$(find_bindir)
    say "using $("$bindir/postgres" --version) from $bindir"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ -e "$dir/data" ]] && die "$dir already holds a cluster; stop it first ($0 stop $dir)"
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
    touch "$dir/$MARKER"
    if [[ -n "$RUN_AS" ]]; then
        chown -R "$RUN_AS:" "$dir"
        as_pg test -w "$dir" ||
            die "user $RUN_AS cannot write to $dir (a parent directory is closed to it?); pick a directory under /tmp"
    fi
    # The socket path must fit in sun_path (107 bytes).
    ((${#dir} <= 80)) || die "$dir is too long a path for a unix socket; pick a shorter one"

    # C locale and UTF-8: a minimal machine may have no other locale, and tests must not
    # depend on one.
    (cd "$dir" && as_pg "$bindir/initdb" -D "$dir/data" --auth=trust -U postgres \
        --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1) || {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    }

    local attempt chosen
    for attempt in 1 2 3 4 5; do
        chosen=${port:-$(free_port)}
        # Speed over durability: a test cluster that crashes is simply thrown away.
        cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $chosen
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        chown "$(stat -c %U:%G "$dir/data")" "$dir/data/postgresql.auto.conf"
        if (cd "$dir" && as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgres.log" >&2); then
            echo "$chosen" >"$dir/port"
            say "started on 127.0.0.1:$chosen (data in $dir/data, log in $dir/postgres.log)"
            echo "postgres://postgres@127.0.0.1:$chosen/postgres"
            return
        fi
        # An explicit port that is taken will stay taken; a chosen one may have been raced.
        [[ -z "$port" ]] || break
        say "could not start on port $chosen (attempt $attempt), trying another"
    done
    tail -n 20 "$dir/postgres.log" >&2 || true
    die "could not start PostgreSQL; see $dir/postgres.log (\"$0 stop $dir\" cleans up)"
}

cmd_url() {
    local dir=${1:-}
    [[ -n "$dir" ]] || usage
    [[ -f "$dir/port" ]] || die "no running cluster in $dir"
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

cmd_stop() {
    local dir=${1:-}
    [[ -n "$dir" ]] || usage
    [[ -d "$dir" ]] || { say "$dir does not exist; nothing to stop"; return; }
    [[ -e "$dir/$MARKER" ]] || die "$dir was not made by this script; not touching it"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        local bindir
        bindir=$(find_bindir)
        (cd "$dir" && as_pg "$bindir/pg_ctl" stop -m fast -w -t 60 -D "$dir/data" >&2) ||
            say "pg_ctl stop failed; removing $dir anyway"
    fi
    rm -rf "$dir"
    say "stopped and removed $dir"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    url) shift; cmd_url "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    *) usage ;;
esac
