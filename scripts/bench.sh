#!/usr/bin/env bash
# The benchmarks (issue #7): builds the release server and site and the load generator, then
# runs each scenario against the real server on loopback with its floors measured in the same
# run, in a scratch database of the embedded cluster (or next to DATABASE_URL's database), and
# writes bench-results/results.json and bench-results/results.md (see BENCHMARKS.md).
#   bash scripts/bench.sh                 every scenario (about 10 minutes on 2 cores)
#   bash scripts/bench.sh latency idle    some of them: latency throughput idle dataset bundle
#                                         actions amplify uploads
#   bash scripts/bench.sh --smoke         tiny sizes, a few seconds each, figures meaningless:
#                                         run by scripts/test.sh so the tool cannot rot
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh
parley_setup test
trap parley_db_stop EXIT
parley_db parley_bench_admin >/dev/null

# 50,000 sockets in the server and as many in the load generator: one descriptor each. Where
# the hard limit is lower (a container without CAP_SYS_RESOURCE), the idle scenario holds as
# many as it allows and says so.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

smoke=0
for arg in "$@"; do [ "$arg" = --smoke ] && smoke=1; done
# Binaries live in CARGO_TARGET_DIR when it is set (CI sets it); the site stays in target/site.
bin_dir="${CARGO_TARGET_DIR:-target}"
if [ "$smoke" = 1 ] && [ -x "$bin_dir/release/parley" ] && [ -d target/site/pkg ]; then
    # scripts/test.sh has just built the release server and site for Playwright: reuse them,
    # and build the load generator unoptimised (its figures mean nothing in a smoke run).
    step "building the load generator (smoke run)"
    cargo build --quiet -p parley-bench --bin parley-loadgen
    loadgen="$bin_dir/debug/parley-loadgen"
else
    step "building the release server, site and load generator"
    cargo leptos build --release --precompress --project parley-demo
    # With cargo-leptos's flags, so the two release builds share their dependencies instead of
    # rebuilding each other's.
    RUSTFLAGS="--cfg erase_components" cargo build --quiet --release -p parley-bench --bin parley-loadgen
    loadgen="$bin_dir/release/parley-loadgen"
fi

out=bench-results
# Smoke figures mean nothing: keep them out of the committed results.
[ "$smoke" = 1 ] && out=target/bench-smoke
step "benchmarks"
"$loadgen" --server-bin "$bin_dir/release/parley" --site-root target/site --out "$out" "$@"
