#!/usr/bin/env bash
# Sets up whatever is missing, starts the embedded database unless DATABASE_URL is set, and
# serves Parley at http://127.0.0.1:3000. Ctrl-C stops the app (and the embedded database, if
# this run started it).
#
# The demo users alice, bob and carol (password "parley-demo", printed in the README) are seeded
# only into the embedded database. With a DATABASE_URL of yours they are never seeded, whatever
# PARLEY_SEED_DEMO says: a public password must not land in a real database by accident.
#
#   bash scripts/run.sh --dry-run   prints the database and demo-user decision, then exits
#                                   (installs, builds and starts nothing; tests/run_script.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh

dry_run=
case "${1:-}" in
    "") ;;
    --dry-run) dry_run=1 ;;
    *) echo "usage: bash scripts/run.sh [--dry-run]" >&2; exit 2 ;;
esac

# db.sh keeps the caller's DATABASE_URL in PARLEY_USER_DATABASE_URL (empty: the embedded one).
if [ -n "$PARLEY_USER_DATABASE_URL" ]; then
    step "database: DATABASE_URL from the environment"
    if [ "${PARLEY_SEED_DEMO:-}" = 1 ] || [ "${PARLEY_SEED_DEMO:-}" = true ]; then
        step "PARLEY_SEED_DEMO=$PARLEY_SEED_DEMO ignored: the run command seeds only its embedded database"
    fi
    step "demo users: not seeded (not the embedded database)"
    unset PARLEY_SEED_DEMO
else
    step "database: the embedded PostgreSQL cluster of this checkout"
    export PARLEY_SEED_DEMO="${PARLEY_SEED_DEMO:-1}"
    if [ "$PARLEY_SEED_DEMO" = 1 ] || [ "$PARLEY_SEED_DEMO" = true ]; then
        step "demo users: seeded (alice, bob, carol; password \"parley-demo\")"
    else
        step "demo users: not seeded (PARLEY_SEED_DEMO=$PARLEY_SEED_DEMO)"
    fi
fi
[ -z "$dry_run" ] || exit 0

parley_setup run
parley_db parley
trap parley_db_stop EXIT

server="${CARGO_TARGET_DIR:-target}/release/parley"
# The brotli copy is written last (--precompress), so its age stands for the whole site.
wasm=target/site/pkg/parley.wasm.br
# cargo-leptos regenerates the WASM bindings on every build (~40 s), so skip the build when no
# source is newer than what it produced last time.
if [ -x "$server" ] && [ -f "$wasm" ] \
    && [ -z "$(find src demo/src demo/migrations demo/Cargo.toml style public migrations .sqlx Cargo.toml Cargo.lock Leptos.toml -newer "$server" -print -quit)" ] \
    && [ -z "$(find src demo/src demo/migrations demo/Cargo.toml style public migrations .sqlx Cargo.toml Cargo.lock Leptos.toml -newer "$wasm" -print -quit)" ]; then
    step "nothing changed since the last build"
else
    step "building Parley (release; the first build takes several minutes)"
    cargo leptos build --release --precompress --project parley-demo
    # Cargo leaves an unchanged binary alone (say, after a CSS-only change): mark both fresh.
    touch "$server" "$wasm"
fi
step "serving Parley at http://127.0.0.1:3000 (Ctrl-C stops it)"
"$server"
