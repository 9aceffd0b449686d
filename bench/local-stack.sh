#!/usr/bin/env bash
# The participant's loop on the local stack, timed from the outside:
#
#   cold start   `runner stack` with everything built: cargo's up-to-date
#                check, PostgreSQL, dep, api and worker, until all are ready
#                (goal: 2 s)
#   edit loop    a one-line edit in a case file, then `runner stack` until
#                the rebuilt stack is ready for a rerun (goal: 5 s)
#
#   bench/local-stack.sh          # 3 of each
#   RUNS=5 bench/local-stack.sh
# The case file is restored afterwards, even on Ctrl-C. The stack uses the
# checkout's .lab/ folder (or LAB_LOCAL_DIR), as `runner run --local` does.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CASE=lab/src/cases/timeouts.rs
RUNNER=target/debug/runner
backup=$(mktemp)
out=$(mktemp)
cp "$CASE" "$backup"
trap 'cmp -s "$backup" "$CASE" || cp "$backup" "$CASE"; rm -f "$backup" "$out"' EXIT

# Starts the stack, prints the seconds until it is ready, stops it.
time_to_ready() {
    : >"$out"
    local start end
    start=$(date +%s.%N)
    "$RUNNER" stack >"$out" 2>/dev/null & pid=$!
    until grep -q '^api=' "$out"; do
        kill -0 "$pid" 2>/dev/null || { echo "runner stack exited early" >&2; exit 1; }
        sleep 0.01
    done
    end=$(date +%s.%N)
    kill -INT "$pid"
    wait "$pid" || true
    python3 -c "print(f'{$end - $start:.2f}')"
}

echo "warming target/ and .lab/ (not timed)"
cargo build --quiet -p runner
time_to_ready >/dev/null

# Restores the case file only when it differs: a copy gives it a new
# modification time, which cargo takes as an edit.
restore() { cmp -s "$backup" "$CASE" || cp "$backup" "$CASE"; }

for run in $(seq 1 "$RUNS"); do
    restore
    echo "cold start $run: ready in $(time_to_ready) s"
done
for run in $(seq 1 "$RUNS"); do
    cp "$backup" "$CASE"
    # A real edit: the line changes the compiled code, not just a comment.
    sed -i 's|let answer = state.dep.call(&state.workload.timeouts_dep).await?;|let answer = state.dep.call(\&state.workload.timeouts_dep).await?; let _edit = '"$run"';|' "$CASE"
    grep -q "let _edit = $run" "$CASE" || { echo "the edit did not apply; has $CASE changed?" >&2; exit 1; }
    echo "edit loop $run: rebuilt and ready in $(time_to_ready) s"
done
