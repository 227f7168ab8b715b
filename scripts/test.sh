#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (server and WASM), compile-time SQL data,
# Rust tests against a real PostgreSQL, and the Playwright suite in Debian's Chromium against
# the real server. Uses the embedded database unless DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh

parley_setup test
trap parley_db_stop EXIT

step "cargo fmt --check"
cargo fmt --check

step "clippy: server, tests and measuring tools"
cargo clippy --all-targets --features bench -- -D warnings

step "clippy: browser (wasm32, hydrate)"
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

parley_db parley_check
step "SQL checked at compile time: .sqlx/ matches the queries"
cargo sqlx migrate run
cargo sqlx prepare --check -- --all-targets --features ssr

step "Rust tests (a fresh database per test)"
cargo test --features ssr

step "fuzz smoke: WebSocket frames and JSON bodies (15 s per target)"
bash scripts/fuzz.sh 15

parley_db parley_e2e --fresh
step "Playwright end-to-end tests against the release build"
PARLEY_SEED_DEMO=1 cargo leptos end-to-end --release

step "benchmark smoke run (tiny sizes, no timing assertions)"
bash scripts/bench.sh --smoke

step "all checks passed"
