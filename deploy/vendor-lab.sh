#!/usr/bin/env bash
# Vendors the crates the lab's image builds from into .lab/image-crates/,
# the part of the build context that the Dockerfile's build stage copies:
#
#   .lab/image-crates/Cargo.toml   the workspace's manifest, the lab its only member
#   .lab/image-crates/Cargo.lock   Cargo.lock pruned by cargo to what the lab uses
#   .lab/image-crates/crates/      those crates (`cargo vendor --locked`)
#
#   deploy/vendor-lab.sh           (`make prefetch` and `make image` run it)
#
# In .lab/, the laptop's own state beside the prefetched k3s images: out of
# git, out of the copy `make demo` builds in, and the only part of .lab/
# that .dockerignore lets into the build context.
#
# Why the lab alone: the image builds `--package lab --bin lab`, and
# vendoring the whole lockfile (the runner's crates too) is about 660 MB
# of build context. The lab's crates are a fraction of that. Cargo would
# still resolve the runner's crates in the whole workspace, so the image
# builds in a workspace of the lab alone, whose lockfile is Cargo.lock
# minus what only the runner uses: every package in it must be in
# Cargo.lock at the same version and checksum, or this script fails.
# `cargo vendor` vendors the crates of every platform (it cannot filter),
# so Windows' and macOS' crates are in there too.
#
# Needs the network once for crates not yet in cargo's cache (after
# `make prefetch` the image builds with no network at all).
set -euo pipefail
cd "$(dirname "$0")/.."

out=.lab/image-crates
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() { echo "vendor-lab: $*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || fail "cargo is not on PATH: install Rust (https://rustup.rs), or use \`nix develop\`"

# 1. The workspace of the lab alone: the same manifest (profiles, lints,
# package fields the lab inherits), one member.
sed -E 's/^members = \[.*\]$/members = ["lab"]/' Cargo.toml >"$scratch/Cargo.toml"
grep -qx 'members = \["lab"\]' "$scratch/Cargo.toml" ||
    fail "Cargo.toml has no one-line \`members = [...]\` to narrow to the lab; update this script to its new shape"
cp Cargo.lock "$scratch/"
cp -R lab "$scratch/lab"

# 2. Cargo prunes the lockfile to the lab's packages, keeping every
# locked version it can.
if ! log=$(cargo metadata --quiet --format-version 1 --manifest-path "$scratch/Cargo.toml" 2>&1 >/dev/null); then
    echo "$log" >&2
    fail "cargo could not resolve the lab alone (above); \`cargo fetch --locked\` (make prefetch-local) first, with the network"
fi

# 3. Nothing but pruning: each package of the lab's lockfile is in
# Cargo.lock with the same name, version, source and checksum.
packages() {
    awk '/^\[\[package\]\]/ { if (p != "") print p; p = "" }
         /^(name|version|source|checksum) = / { p = p " " $0 }
         END { if (p != "") print p }' "$1" | sort
}
if changed=$(comm -23 <(packages "$scratch/Cargo.lock") <(packages Cargo.lock)) && [ -n "$changed" ]; then
    echo "$changed" >&2
    fail "the lab alone resolves to packages that Cargo.lock does not lock (above): run \`cargo update --workspace --locked\` to see why, and commit a Cargo.lock that builds both"
fi

# 4. The crates, exactly as locked.
if ! log=$(cargo vendor --quiet --locked --manifest-path "$scratch/Cargo.toml" "$scratch/crates" 2>&1 >/dev/null); then
    echo "$log" >&2
    fail "cargo vendor failed (above): it needs the network for crates not yet in cargo's cache"
fi

# 5. Replace the old folder only once the new one is whole.
mkdir -p .lab
rm -rf "$out.new"
mkdir "$out.new"
mv "$scratch/Cargo.toml" "$scratch/Cargo.lock" "$scratch/crates" "$out.new/"
rm -rf "$out"
mv "$out.new" "$out"
touch "$out/Cargo.lock"
echo "vendor-lab: $(find "$out/crates" -mindepth 1 -maxdepth 1 -type d | wc -l) crates in $out ($(du -sh "$out" | cut -f1)), the lab's share of Cargo.lock's $(grep -c '^\[\[package\]\]' Cargo.lock) packages"
