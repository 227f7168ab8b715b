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

# Every crate of the workspace (SSR_FEATURES: the server builds of the library and the hosts).
SSR_FEATURES=parley/ssr,parley-demo/ssr,parley-minimal/ssr
step "clippy: the library, the demo and minimal hosts, their tests and the benchmark tools"
cargo clippy --workspace --all-targets --features "$SSR_FEATURES" -- -D warnings

step "clippy: browser (wasm32, hydrate): the library and both hosts"
cargo clippy -p parley -p parley-demo -p parley-minimal --lib --target wasm32-unknown-unknown \
    --no-default-features --features parley/hydrate,parley-demo/hydrate,parley-minimal/hydrate \
    -- -D warnings

# Supply chain (deny.toml explains each rule; SECURITY.md, "Supply chain"). The bans, licenses
# and sources checks need only crates.io. The advisories check needs RustSec's advisory
# database, which lives on GitHub: neither this machine nor CI reaches it and no package
# registry carries a copy, so it runs only where PARLEY_ADVISORY_DB names a git clone of it
# (bare or not), and says so plainly when it does not.
step "supply chain: cargo deny check bans licenses sources"
# Today's unavoidable duplicates are warnings (deny.toml): keep them to one line each, and show
# the dependency paths only when something fails.
if ! cargo deny --locked check --hide-inclusion-graph bans licenses sources; then
    step "supply chain: the failed check again, with the dependency paths"
    cargo deny --locked check bans licenses sources
    false
fi
if [ -n "${PARLEY_ADVISORY_DB:-}" ]; then
    # cargo-deny 0.20.2 looks for the database of its default URL in this folder under
    # deny.toml's db-path; a fresh local clone each run (under a second) keeps it exact.
    adv_dir=.data/advisory-dbs/advisory-db-3157b0e258782691
    rm -rf "$adv_dir"
    mkdir -p "$(dirname "$adv_dir")"
    git clone --quiet "$PARLEY_ADVISORY_DB" "$adv_dir"
    adv_age=$(( ($(date +%s) - $(git -C "$adv_dir" log -1 --format=%ct)) / 86400 ))
    step "supply chain: cargo deny check advisories (RustSec database at $(git -C "$adv_dir" log -1 --format='%h, %cs'), $adv_age days old)"
    cargo deny --offline --locked check advisories
else
    step "supply chain: advisories NOT checked: no advisory database here (set PARLEY_ADVISORY_DB to a clone of RustSec's advisory-db; SECURITY.md)"
fi

parley_db parley_check
step "SQL checked at compile time: .sqlx/ matches the queries"
parley_db_schema
cargo sqlx prepare --check --workspace -- --workspace --all-targets --features "$SSR_FEATURES"

step "Rust tests (a fresh database per test)"
cargo test --workspace --features "$SSR_FEATURES"

step "fuzz smoke: WebSocket frames, JSON bodies and message formatting (15 s per target)"
bash scripts/fuzz.sh 15

parley_db parley_e2e --fresh
step "Playwright end-to-end tests against the demo host's release build"
# The suite signs up every person it needs from one address, faster than a visitor would: lift
# the per-address sign-up limit for it (the limit itself is proven by the Rust tests).
PARLEY_SEED_DEMO=1 PARLEY_SIGN_UPS_PER_MINUTE=100000 PARLEY_SIGN_UPS_BURST=100000 \
    cargo leptos end-to-end --release --precompress --project parley-demo

parley_db parley_minimal --fresh
step "Playwright end-to-end test against the minimal host's release build (minimal/)"
# Same features and flags as the demo's build: only the minimal crate itself is compiled anew.
cargo leptos end-to-end --release --precompress --project parley-minimal

step "benchmark smoke run (tiny sizes, no timing assertions)"
bash scripts/bench.sh --smoke

step "all checks passed"
