#!/usr/bin/env bash
# A new participant's first contact, timed: `make demo` on a clean clone
# with an empty cargo target (cargo's registry cache may stay warm, as
# after `make prefetch-local`). Prints the build and run parts apart, and
# the crates that took longest to compile (from `cargo build --timings`).
#
#   bench/cold-demo.sh            # clones HEAD into a scratch folder
# Needs what `make demo` needs (Rust, make, PostgreSQL's programs). Takes
# about as long as it measures; run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Readable by others: as root, the demo's PostgreSQL runs as `postgres`.
chmod 755 "$scratch"
git clone --quiet . "$scratch/lab"
cd "$scratch/lab"
unset CARGO_TARGET_DIR CARGO_BUILD_BUILD_DIR

now() { date +%s.%N; }
start=$(now)
# The runner, as `make demo` builds it first (with timings, to say where
# the time goes).
cargo build --quiet --package runner --timings 2>/dev/null
built=$(now)
# The demo itself: it builds the lab in its scratch copy, then runs.
if ! make demo >"$scratch/demo.out" 2>"$scratch/demo.err"; then
    echo "make demo failed:" >&2
    tail -n 20 "$scratch/demo.err" >&2
    exit 1
fi
done=$(now)

# cargo's `Finished ... in Ns` lines: `make demo`'s own (the runner, up to
# date) and the lab's build in the demo's copy.
# cargo writes `in 2.65s`, `in 310ms` or `in 2m 07s`.
lab_build=$(sed -nE 's/.*Finished .* in (([0-9]+)m )?([0-9.]+)(m?s)$/\2 \3 \4/p' "$scratch/demo.err" |
    awk 'NF == 2 { $3 = $2; $2 = $1; $1 = 0 }
         { s = ($3 == "ms") ? $2 / 1000 : $2; total += 60 * $1 + s }
         END { printf "%.1f", total }')
python3 - "$start" "$built" "$done" "$lab_build" target/cargo-timings/cargo-timing.html <<'PY'
import json, re, sys
start, built, done, lab = (float(x) for x in sys.argv[1:5])
runner = built - start
demo = done - built
print(f"runner build        {runner:7.1f} s")
print(f"lab build (demo)    {lab:7.1f} s")
print(f"demo runs and rest  {demo - lab:7.1f} s")
print(f"total               {done - start:7.1f} s  (goal: 600 s)")
html = open(sys.argv[5]).read()
match = re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S)
if match:
    units = sorted(json.loads(match.group(1)), key=lambda u: -u["duration"])
    print("longest crates in the runner build:")
    for unit in units[:8]:
        print(f"  {unit['name']:<24} {unit['version']:<10} {unit['duration']:6.1f} s")
PY
