#!/usr/bin/env bash
# Creates local git tags for facilitators who prefer branches to patches:
#
#   step-0            the baseline: HEAD, which must not hold a solution
#   step-N-solution   step-0 with solutions/step-N.patch applied
#
# The steps are independent, not cumulative: each step-N-solution differs
# from step-0 in its own case only. Re-running moves the tags to the current
# HEAD. Nothing is pushed, and the working tree is not touched: the commits
# are made in a temporary worktree.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
base=$(git rev-parse HEAD)
work=$(mktemp -d)
cleanup() {
    git worktree remove --force "$work" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
git worktree add --detach --quiet "$work" "$base"

patches=(solutions/step-*.patch)
for patch in "${patches[@]}"; do
    if ! git -C "$work" apply --check "$PWD/$patch" 2>/dev/null; then
        echo "$patch does not apply to HEAD ($base)." >&2
        echo "HEAD must be the baseline; is a solution committed? Check out the baseline and run again." >&2
        exit 1
    fi
done

git tag --force step-0 "$base" >/dev/null
echo "step-0 -> $base"
for patch in "${patches[@]}"; do
    step=$(basename "$patch" .patch)
    git -C "$work" checkout --quiet --detach "$base"
    git -C "$work" apply "$PWD/$patch"
    git -C "$work" add --all
    git -C "$work" -c user.name="Resilience Lab" -c user.email="lab@localhost" \
        commit --quiet --no-verify -m "$step: reference solution"
    commit=$(git -C "$work" rev-parse HEAD)
    git tag --force "$step-solution" "$commit" >/dev/null
    echo "$step-solution -> $commit"
done
