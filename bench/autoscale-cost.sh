#!/usr/bin/env bash
# Case 4's cost on the wall clock: the p50 time of a /cases/autoscale
# request on an idle api, for --autoscale-cpu-ms 20 and 40, which must be
# within 15% of the setting. Run it on a quiet machine (nothing else
# building or testing); the CPU time itself is checked by `make test`
# (lab/tests/cpu_cost.rs), which a busy machine does not disturb.
#
#   bench/autoscale-cost.sh            # 3 rounds
#   RUNS=5 bench/autoscale-cost.sh
# Needs PostgreSQL as `make test` does (a private one unless
# LAB_TEST_DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
for run in $(seq 1 "$RUNS"); do
    echo "round $run"
    cargo run --quiet --package runner -- with-postgres -- \
        cargo test --quiet --package lab --test cpu_cost -- --ignored --nocapture 2>&1 |
        grep -E '^--autoscale-cpu-ms|panicked|p50 of a request'
done
