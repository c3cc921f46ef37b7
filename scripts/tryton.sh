#!/usr/bin/env bash
# Installs, builds and serves a real Tryton 8.2 server (SQLite) for the Tryton connector's tests.
#
#   scripts/tryton.sh install VENV_DIR              python3 -m venv + the pinned 8.2.* packages;
#                                                   skipped when already installed
#   scripts/tryton.sh build-db VENV_DIR DB_DIR      a fresh database in DB_DIR, copied from a
#                                                   template built once per venv
#   scripts/tryton.sh start VENV_DIR DB_DIR [PORT]  serve DB_DIR on 127.0.0.1:PORT (default: a
#                                                   free port); the last line on stdout is the
#                                                   base URL
#   scripts/tryton.sh stop DB_DIR                   stop that server (DB_DIR is kept)
#
# Typical use (what scripts/test does):
#   scripts/tryton.sh install .venv/tryton
#   scripts/tryton.sh build-db .venv/tryton tmp/tryton
#   export MILLWRIGHT_TEST_TRYTON_URL="$(scripts/tryton.sh start .venv/tryton tmp/tryton | tail -n 1)"
#   export MILLWRIGHT_TEST_TRYTON_DB=millwright MILLWRIGHT_TEST_TRYTON_PASSWORD=admin
#   cargo test -p millwright-connectors --test tryton
#   scripts/tryton.sh stop tmp/tryton
#
# The database is named `millwright`; its `admin` user's password is `admin` (a test fixture on
# loopback, nothing else). Only the modules the connector reads are activated (purchase, stock,
# product, party, account_asset and their dependencies): each extra module costs build time.
# The company the purchase module needs is NOT created here; the Rust test fixture creates it over
# JSON-RPC (crates/connectors/tests/support/tryton.rs), because that is how a real deployment gets
# one and it keeps this script free of Tryton's Python API.
set -euo pipefail

readonly DB_NAME=millwright
readonly ADMIN_PASSWORD=admin
readonly ADMIN_EMAIL=admin@millwright.invalid
# Pinned series (reference/connectors.md §1.1). Changing this list rebuilds the template.
readonly PACKAGES=(
    'trytond==8.2.*'
    'trytond-purchase==8.2.*'
    'trytond-stock==8.2.*'
    'trytond-product==8.2.*'
    'trytond-party==8.2.*'
    'trytond-account-asset==8.2.*'
)
readonly MODULES=(purchase stock product party account_asset)

say() { echo "tryton: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

abs() { mkdir -p "$1" && cd "$1" && pwd; }

# What identifies an installation: the package list. A venv whose stamp differs is reinstalled.
install_stamp() { printf '%s\n' "${PACKAGES[@]}"; }

cmd_install() {
    local venv
    venv=$(abs "$1")
    if [[ -x "$venv/bin/trytond" && -f "$venv/.millwright-installed" ]] &&
        [[ "$(cat "$venv/.millwright-installed")" == "$(install_stamp)" ]]; then
        say "already installed in $venv"
        return
    fi
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "${PACKAGES[@]}"
    install_stamp >"$venv/.millwright-installed"
    say "installed $("$venv/bin/python" -c 'import trytond; print("trytond", trytond.__version__)') in $venv"
}

# Environment for trytond and trytond-admin: SQLite databases in $1.
tryton_env() {
    export TRYTOND_DATABASE__URI=sqlite://
    export TRYTOND_DATABASE__PATH="$1"
}

cmd_build_db() {
    local venv db_dir template stamp
    venv=$(abs "$1")
    db_dir=$(abs "$2")
    [[ -x "$venv/bin/trytond-admin" ]] || die "no trytond in $venv: run '$0 install $1' first"
    # The template lives in the venv, so a reinstall (new stamp) also means a new template.
    template="$venv/millwright-template"
    stamp="$(install_stamp; printf '%s\n' "${MODULES[@]}" "$ADMIN_PASSWORD" "$ADMIN_EMAIL")"
    if [[ ! -f "$template/$DB_NAME.sqlite" || "$(cat "$template/.stamp" 2>/dev/null)" != "$stamp" ]]; then
        say "building the template database (once per venv, ~30 s)"
        rm -rf "$template.partial"
        mkdir -p "$template.partial"
        # trytond-admin refuses a SQLite database whose file does not exist yet.
        touch "$template.partial/$DB_NAME.sqlite"
        printf '%s\n' "$ADMIN_PASSWORD" >"$template.partial/.passfile"
        (
            tryton_env "$template.partial"
            TRYTONPASSFILE="$template.partial/.passfile" "$venv/bin/trytond-admin" -d "$DB_NAME" \
                --all -u "${MODULES[@]}" --activate-dependencies --email "$ADMIN_EMAIL" </dev/null
        ) >"$template.partial/build.log" 2>&1 ||
            die "trytond-admin failed; see $template.partial/build.log"
        rm -f "$template.partial/.passfile"
        printf '%s\n' "$stamp" >"$template.partial/.stamp"
        rm -rf "$template"
        mv "$template.partial" "$template"
    fi
    [[ ! -f "$db_dir/server.pid" ]] || ! kill -0 "$(cat "$db_dir/server.pid")" 2>/dev/null ||
        die "a server is running on $db_dir; stop it first"
    # A journal or WAL file left by the previous run would be replayed into the fresh copy and
    # corrupt it ("database disk image is malformed").
    rm -f "$db_dir/$DB_NAME.sqlite" "$db_dir/$DB_NAME.sqlite-"*
    cp "$template/$DB_NAME.sqlite" "$db_dir/$DB_NAME.sqlite"
    say "fresh database $db_dir/$DB_NAME.sqlite"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether a Tryton server answers JSON-RPC at $1.
ready() {
    curl -fsS -m 2 -H 'Content-Type: application/json' \
        -d '{"id":0,"method":"common.server.version","params":[]}' "$1/rpc/" >/dev/null 2>&1
}

cmd_start() {
    local venv db_dir port url pid
    venv=$(abs "$1")
    db_dir=$(abs "$2")
    port="${3:-$(free_port)}"
    [[ -f "$db_dir/$DB_NAME.sqlite" ]] || die "no database in $db_dir: run '$0 build-db $1 $2' first"
    if [[ -f "$db_dir/server.pid" ]] && kill -0 "$(cat "$db_dir/server.pid")" 2>/dev/null; then
        die "a server is already running on $db_dir (pid $(cat "$db_dir/server.pid"))"
    fi
    url="http://127.0.0.1:$port"
    (
        tryton_env "$db_dir"
        export TRYTOND_WEB__LISTEN="127.0.0.1:$port"
        # -d: without it 8.2 never initialises the pool and every login fails (reference §1.1).
        exec "$venv/bin/trytond" -d "$DB_NAME"
    ) >"$db_dir/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$db_dir/server.pid"
    for _ in $(seq 1 120); do
        if ready "$url"; then
            say "serving $db_dir on $url (pid $pid, log $db_dir/server.log)"
            echo "$url"
            return
        fi
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$db_dir/server.log" >&2; die "trytond exited"; }
        sleep 0.5
    done
    kill "$pid" 2>/dev/null || true
    tail -n 20 "$db_dir/server.log" >&2
    die "trytond did not answer on $url within 60 s"
}

cmd_stop() {
    local db_dir pid
    db_dir="$1"
    [[ -f "$db_dir/server.pid" ]] || { say "no server pid file in $db_dir"; return; }
    pid=$(cat "$db_dir/server.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$db_dir/server.pid"
    say "stopped the server of $db_dir"
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
install) [[ $# -eq 1 ]] || usage; cmd_install "$1" ;;
build-db) [[ $# -eq 2 ]] || usage; cmd_build_db "$1" "$2" ;;
start) [[ $# -ge 2 && $# -le 3 ]] || usage; cmd_start "$@" ;;
stop) [[ $# -eq 1 ]] || usage; cmd_stop "$1" ;;
*) usage ;;
esac
