#!/usr/bin/env bash
# Crash soak: the crash-safety test (tests/crash.rs) for many rounds. Each round kills the real
# server with SIGKILL while clients send, restarts it, and checks that every acknowledged
# message is stored exactly once and readers resume. Usage: bash scripts/soak.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/db.sh
parley_setup test
trap parley_db_stop EXIT
parley_db parley_check >/dev/null
PARLEY_CRASH_ROUNDS="${1:-10}" cargo test -p parley-demo --features ssr --test crash -- --nocapture
