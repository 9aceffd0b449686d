#!/usr/bin/env bash
# Retakes the screenshots in docs/LAB.md (docs/img/case-N-<scenario>.png):
# each local case's baseline, run at full length on the local stack, its
# report rendered by headless Chromium. Run it from a checkout with no case
# solved; it takes about two minutes after the first build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git diff --quiet -- lab/src/cases deploy/k8s; then
    echo "a case file has changes: the screenshots show the baselines." >&2
    echo "Take them from a clean checkout (git stash, or runner unsolve N)." >&2
    exit 1
fi
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$chromium" ]; then
    echo "no Chromium found: apt install chromium, or set CHROMIUM" >&2
    exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo build -q -p runner
for entry in 1:timeouts 2:tx 3:bulkheads; do
    case=${entry%%:*} scenario=${entry#*:}
    ./target/debug/runner run "$scenario" --local --no-open --reports "$scratch/reports"
    report=$(ls "$scratch"/reports/"$scenario"/*/report.html)
    "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$scratch/chromium" --hide-scrollbars --window-size=1000,2600 \
        --screenshot="docs/img/case-$case-$scenario.png" "file://$report" 2>/dev/null
    echo "docs/img/case-$case-$scenario.png"
done
