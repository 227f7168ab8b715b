#!/usr/bin/env bash
# Measures send → receive latency over loopback (WebSocket → writer → NOTIFY → LISTEN → hub →
# WebSocket) beside its floor, a bare INSERT + NOTIFY → LISTEN round trip, in a scratch
# database of the embedded cluster (or DATABASE_URL). Usage: bash scripts/latency.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh
parley_setup test
trap parley_db_stop EXIT
parley_db parley_latency --fresh >/dev/null
cargo run --quiet --release -p parley-bench --bin parley-latency -- "${1:-100}"
