#!/usr/bin/env bash
# Fuzzes what the server decodes from the network (fuzz/fuzz_targets: WebSocket frames, JSON
# request bodies and their validators) and the message formatting every browser runs, with
# cargo-fuzz / libFuzzer, each target for the given seconds (default 300). Prints the
# executions per target; any panic fails the run and leaves the input in fuzz/artifacts. Uses
# the stable toolchain (RUSTC_BOOTSTRAP for cargo-fuzz's flags; no sanitizer: the code under
# test is safe Rust).
# Usage: bash scripts/fuzz.sh [seconds per target]   (the test command runs a 15 s smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
mkdir -p fuzz/artifacts
for target in ws_frames json_bodies message_format; do
    echo "==> fuzzing $target for ${seconds}s"
    log="fuzz/artifacts/$target.log"
    # In the workspace's target folder (its own subfolder: fuzz builds use other flags).
    if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --target-dir "${CARGO_TARGET_DIR:-target}/fuzz" "$target" -- \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz target $target failed (input saved under fuzz/artifacts/$target)"
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log"
done
