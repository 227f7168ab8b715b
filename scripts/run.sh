#!/usr/bin/env bash
# Sets up whatever is missing, starts the embedded database unless DATABASE_URL is set, and
# serves Parley at http://127.0.0.1:3000 with the demo users alice, bob and carol (password
# "parley-demo"). Ctrl-C stops the app (and the embedded database, if this run started it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh

parley_setup run
parley_db parley
trap parley_db_stop EXIT

export PARLEY_SEED_DEMO="${PARLEY_SEED_DEMO:-1}"
server="${CARGO_TARGET_DIR:-target}/release/parley"
wasm=target/site/pkg/parley.wasm
# cargo-leptos regenerates the WASM bindings on every build (~40 s), so skip the build when no
# source is newer than what it produced last time.
if [ -x "$server" ] && [ -f "$wasm" ] \
    && [ -z "$(find src style public migrations .sqlx Cargo.toml Cargo.lock Leptos.toml -newer "$server" -print -quit)" ] \
    && [ -z "$(find src style public migrations .sqlx Cargo.toml Cargo.lock Leptos.toml -newer "$wasm" -print -quit)" ]; then
    step "nothing changed since the last build"
else
    step "building Parley (release; the first build takes several minutes)"
    cargo leptos build --release
    # Cargo leaves an unchanged binary alone (say, after a CSS-only change): mark both fresh.
    touch "$server" "$wasm"
fi
step "serving Parley at http://127.0.0.1:3000 (Ctrl-C stops it)"
"$server"
