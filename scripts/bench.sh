#!/usr/bin/env bash
# The benchmarks (issue #7): builds the release server and site and the load generator, then
# runs each scenario against the real server on loopback with its floors measured in the same
# run, in a scratch database of the embedded cluster (or next to DATABASE_URL's database), and
# writes bench-results/results.json and bench-results/results.md (see BENCHMARKS.md).
#   bash scripts/bench.sh                 every scenario (about 10 minutes on 2 cores)
#   bash scripts/bench.sh latency idle    some of them: latency throughput idle dataset bundle
#   bash scripts/bench.sh --smoke         tiny sizes, a few seconds each (run by scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh
parley_setup test
trap parley_db_stop EXIT
parley_db parley_bench_admin >/dev/null

# 50,000 sockets in the server and as many in the load generator: one descriptor each.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

step "building the release server, site and load generator"
cargo leptos build --release
cargo build --quiet --release --features bench --bin parley-loadgen

step "benchmarks"
target/release/parley-loadgen --server-bin target/release/parley --site-root target/site \
    --out bench-results "$@"
