#!/usr/bin/env bash
# The participant's inner loop: a one-line edit in a case file, then a
# rebuilt `lab` binary (dev profile, as `cargo build` and the local stack use).
#
#   bench/rebuild-loop.sh        # 3 edits
#   RUNS=5 bench/rebuild-loop.sh
# The case file is restored afterwards, even on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CASE=lab/src/cases/timeouts.rs
backup=$(mktemp)
cp "$CASE" "$backup"
trap 'cp "$backup" "$CASE"; rm -f "$backup"' EXIT

echo "warming target/ (not timed)"
cargo build --quiet -p lab --bin lab

for run in $(seq 1 "$RUNS"); do
    cp "$backup" "$CASE"
    # A real edit: the line changes the compiled code, not just a comment.
    sed -i 's|let answer = state.dep.call(&state.workload.timeouts_dep).await?;|let answer = state.dep.call(\&state.workload.timeouts_dep).await?; let _edit = '"$run"';|' "$CASE"
    grep -q "let _edit = $run" "$CASE" || { echo "the edit did not apply; has $CASE changed?" >&2; exit 1; }
    start=$(date +%s.%N)
    cargo build --quiet -p lab --bin lab
    end=$(date +%s.%N)
    python3 -c "print(f'edit {$run}: lab rebuilt in {$end - $start:.2f} s')"
done
