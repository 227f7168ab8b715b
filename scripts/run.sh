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
step "building and serving Parley at http://127.0.0.1:3000 (first build takes several minutes)"
cargo leptos serve --release
