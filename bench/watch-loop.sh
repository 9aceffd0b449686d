#!/usr/bin/env bash
# `runner watch`, save to first request, timed from the outside: a one-line
# edit in a case file, until the runner starts the load on the rebuilt lab.
# The load starts as the runner prints `timeouts: GET ... at N/s`, after
# its health checks and the state reset; its first request follows within
# milliseconds. Goal: 5 s.
#
#   bench/watch-loop.sh          # 3 edits, the median printed
#   RUNS=5 bench/watch-loop.sh
#
# Each edit's rebuild and role restart, as watch reports them, are printed
# beside it. The case file is restored afterwards, even on Ctrl-C. The
# stack uses the checkout's .lab/ folder (or LAB_LOCAL_DIR), as `runner
# watch` does; the runs go to a scratch reports folder.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CASE=lab/src/cases/timeouts.rs
RUNNER=target/debug/runner
work=$(mktemp -d)
backup=$work/case.rs
out=$work/watch.log
keys=$work/keys
cp "$CASE" "$backup"
mkfifo "$keys"
pid=
cleanup() {
    [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    cmp -s "$backup" "$CASE" || cp "$backup" "$CASE"
    rm -rf "$work"
}
trap cleanup EXIT

# Waits until `pattern` starts at least `count` lines of the output.
wait_for() {
    local pattern=$1 count=$2
    until [ "$(grep -c -- "^$pattern" "$out" || true)" -ge "$count" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "runner watch exited early; its output:" >&2
            cat "$out" >&2
            exit 1
        fi
        sleep 0.01
    done
}

echo "building the runner (not timed)"
cargo build --quiet -p runner
"$RUNNER" watch timeouts --duration 2s --reports "$work/reports" <"$keys" >"$out" 2>&1 &
pid=$!
exec 3>"$keys"
echo "the session's first build and run (not timed)"
wait_for "SCORE " 1

times=()
for run in $(seq 1 "$RUNS"); do
    # Put the last edit back only when there is one: a copy gives the file
    # a new modification time, which watch takes as a save. Within the
    # debounce, it and the edit below are one save.
    cmp -s "$backup" "$CASE" || cp "$backup" "$CASE"
    start=$(date +%s.%N)
    # A real edit: the line changes the compiled code, not just a comment.
    sed -i 's|let answer = state.dep.call(&state.workload.timeouts_dep).await?;|let answer = state.dep.call(\&state.workload.timeouts_dep).await?; let _edit = '"$run"';|' "$CASE"
    grep -q "let _edit = $run" "$CASE" || { echo "the edit did not apply; has $CASE changed?" >&2; exit 1; }
    wait_for "timeouts: GET" $((run + 1))
    end=$(date +%s.%N)
    seconds=$(python3 -c "print(f'{$end - $start:.2f}')")
    times+=("$seconds")
    built=$(grep '^built the lab in' "$out" | tail -n 1)
    restarted=$(grep '^restarted dep, api and worker in' "$out" | tail -n 1)
    echo "edit $run: first request ${seconds} s after the save ($built; $restarted)"
    wait_for "SCORE " $((run + 1))
done
echo q >&3
wait "$pid"
pid=
median=$(printf '%s\n' "${times[@]}" | sort -n | python3 -c "import sys; t=[float(x) for x in sys.stdin]; print(f'{t[len(t)//2]:.2f}')")
echo "save to first request: median ${median} s over $RUNS edits (goal: 5 s)"
