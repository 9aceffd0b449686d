#!/usr/bin/env bash
# How repeatable the local cases' scores are: `runner demo` (each local
# case's baseline, then its reference solution, on the local stack, in a
# scratch copy of the tree, so the checkout is not touched) RUNS times, then
# every score and the spread (highest minus lowest) of each. Goal: a spread
# of at most 3 points, so that a participant's rerun moves the score only
# because the code moved.
#
#   bench/repeatability.sh            # 3 rounds, the scenarios' own durations
#   RUNS=5 bench/repeatability.sh
#
# Each round takes a few minutes (every case runs twice). The runs go to a
# temporary reports folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
reports=$(mktemp -d)
tables=$(mktemp)
trap 'rm -rf "$reports" "$tables"' EXIT

cargo build --quiet -p runner
for round in $(seq 1 "$RUNS"); do
    echo "round $round of $RUNS" >&2
    # The demo ends with a table: scenario, baseline score, solution score.
    target/debug/runner demo --reports "$reports/$round" 2>/dev/null |
        awk '/^scenario/ { table = 1; next } table && NF == 3' >>"$tables"
done

awk -v runs="$RUNS" '
    {
        order[$1] = order[$1] ? order[$1] : ++n; name[n] = $1
        base[$1] = base[$1] " " $2; sol[$1] = sol[$1] " " $3
        if (!($1 in bmin) || $2 < bmin[$1]) bmin[$1] = $2
        if (!($1 in bmax) || $2 > bmax[$1]) bmax[$1] = $2
        if (!($1 in smin) || $3 < smin[$1]) smin[$1] = $3
        if (!($1 in smax) || $3 > smax[$1]) smax[$1] = $3
    }
    END {
        printf "%-10s %-22s %7s   %-22s %7s\n", "scenario", "baseline", "spread", "solution", "spread"
        worst = 0
        for (i = 1; i <= n; i++) {
            s = name[i]; b = bmax[s] - bmin[s]; o = smax[s] - smin[s]
            printf "%-10s %-22s %7d   %-22s %7d\n", s, base[s], b, sol[s], o
            if (b > worst) worst = b
            if (o > worst) worst = o
        }
        printf "widest spread: %d points over %d rounds (goal: at most 3)\n", worst, runs
        exit worst > 3
    }' "$tables"
