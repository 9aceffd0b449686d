#!/usr/bin/env bash
# Tests deploy/import.sh's path with the real ctr against a real containerd:
# the one the local Docker engine runs, in a containerd namespace of this
# test's own (removed at the end). That containerd STANDS IN FOR THE k3d
# NODE'S: on a laptop, import.sh runs the same `ctr images import` inside
# the node (`docker exec -i k3d-resilience-lab-server-0 ctr`) into the
# namespace k8s.io. What this cannot test here is the `docker exec` into a
# node, since no cluster runs on CI.
#
#   deploy/test/import-ctr.sh   (.ci/run runs it after deploy/test/image.sh,
#                               whose image it imports; needs root for the socket)
#
# It checks that:
#   - the lab's image imports, and import.sh proves it by digest;
#   - ctr itself sees the imported image complete, at Docker's config digest;
#   - `--verify` passes it, and fails a name whose image Docker has changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=resilience-lab:dev
PROBE=resilience-lab-import-test:probe
namespace=resilience-lab-import-test-$$

fail() { echo "import test: FAILED: $*" >&2; exit 1; }
say() { echo "import test: $*"; }

DOCKER=${DOCKER:-docker}
export DOCKER
command -v ctr >/dev/null 2>&1 || fail "ctr is missing: it ships with Debian's containerd (apt-get install -y docker.io)"
"$DOCKER" info >/dev/null 2>&1 || fail "the Docker engine does not answer to \`$DOCKER info\`: start dockerd"
"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || fail "$IMAGE is not in Docker: run deploy/test/image.sh (or make image) first"

# Where this Docker engine's containerd listens: dockerd's own (Debian's
# docker.io) or the system's (docker-ce with containerd.io).
socket=${IMPORT_TEST_CONTAINERD:-}
if [ -z "$socket" ]; then
    for candidate in /var/run/docker/containerd/containerd.sock /run/containerd/containerd.sock; do
        if [ -S "$candidate" ]; then socket=$candidate; break; fi
    done
fi
[ -n "$socket" ] && [ -S "$socket" ] ||
    fail "no containerd socket at /var/run/docker/containerd/containerd.sock or /run/containerd/containerd.sock: set IMPORT_TEST_CONTAINERD"
ctr=(ctr --address "$socket" --namespace "$namespace")
"${ctr[@]}" version >/dev/null 2>&1 || fail "ctr cannot talk to containerd at $socket (are you root?)"
say "containerd $("${ctr[@]}" version | sed -nE 's/^ +Version: +//p' | tail -n 1) at $socket stands in for the k3d node's; namespace $namespace"

cleanup() {
    local names
    names=$("${ctr[@]}" images ls --quiet 2>/dev/null || true)
    if [ -n "$names" ]; then
        # shellcheck disable=SC2086 # one name per word
        "${ctr[@]}" images rm --sync $names >/dev/null 2>&1 || true
    fi
    ctr --address "$socket" namespaces rm "$namespace" >/dev/null 2>&1 ||
        echo "import test: could not remove the namespace $namespace: ctr --address $socket namespaces ls" >&2
    "$DOCKER" rmi "$PROBE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

export IMPORT_CTR="ctr --address $socket" IMPORT_NAMESPACE=$namespace
failed=0
# expect NAME STATUS PATTERN COMMAND...: COMMAND exits with STATUS and
# prints (stdout or stderr) a line matching PATTERN.
expect() {
    local name=$1 status=$2 pattern=$3 out got=0
    shift 3
    out=$("$@" 2>&1) || got=$?
    if [ "$got" = "$status" ] && grep -qE -- "$pattern" <<<"$out"; then
        say "ok: $name"
    else
        say "FAILED: $name: exit $got (expected $status), no line matching /$pattern/ in:"
        sed 's/^/    /' <<<"$out"
        failed=1
    fi
}

id=$("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE")
started=$(date +%s)
expect "import.sh imports $IMAGE and proves it by digest" 0 "^ok: containerd .* has $IMAGE \\(${id:0:19}\\)" \
    deploy/import.sh resilience-lab "$IMAGE"
say "the import took $(( $(date +%s) - started )) s"

# ctr's own view, apart from import.sh: the name, complete, and the
# manifest's config is Docker's image ID (classic store) or the name's
# target is (containerd image store).
name=docker.io/library/$IMAGE
target=$("${ctr[@]}" images ls | awk -v name="$name" '$1 == name { print $3 }')
if [ -z "$target" ]; then
    say "FAILED: ctr lists no $name in $namespace"; failed=1
elif [ "$target" = "$id" ] || "${ctr[@]}" content get "$target" | grep -qF "\"$id\""; then
    say "ok: ctr has $name at $target, config ${id:0:19} (Docker's image ID)"
else
    say "FAILED: ctr's $name ($target) is not Docker's ${id:0:19}"; failed=1
fi
if "${ctr[@]}" images check "name==$name" | grep -q 'complete'; then
    say "ok: ctr images check: $name is complete"
else
    say "FAILED: ctr images check does not find $name complete:"; "${ctr[@]}" images check >&2; failed=1
fi

expect "--verify passes the imported image" 0 "^ok: containerd .* has $IMAGE" \
    deploy/import.sh --verify resilience-lab "$IMAGE"
expect "--verify fails an image that was never imported" 1 "^FAILED: containerd .* does not have $PROBE" \
    bash -c "\"\$DOCKER\" tag \"$IMAGE\" \"$PROBE\" && deploy/import.sh --verify resilience-lab \"$PROBE\""

# A name imported, then rebuilt in Docker: the node's is stale.
runtime=$(sed -nE 's/^FROM (gcr\.io\/distroless\/[^ ]+).*/\1/p' Dockerfile)
"$DOCKER" tag "$runtime" "$PROBE"
expect "import.sh imports a second image" 0 "^ok: containerd .* has $PROBE" deploy/import.sh resilience-lab "$PROBE"
"$DOCKER" tag "$IMAGE" "$PROBE"
expect "--verify fails a name whose image Docker has changed" 1 "^FAILED: containerd .* does not have $PROBE as Docker has it" \
    deploy/import.sh --verify resilience-lab "$PROBE"

if [ "$failed" -eq 0 ]; then say "all passed"; fi
exit "$failed"
