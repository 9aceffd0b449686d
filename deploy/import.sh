#!/usr/bin/env bash
# Puts images on the k3d node and proves they are there, by image ID.
#
#   deploy/import.sh CLUSTER IMAGE...          k3d image import, then verify
#   deploy/import.sh --verify CLUSTER IMAGE...  verify only (images the node
#                                               loaded from the airgap folder)
#
# Why verify: `k3d image import` can log a failed import (its tools node
# runs `ctr image import`; with Docker's containerd image store that is
# known to fail) and still exit 0 saying the images were imported. Then
# the node runs an older image, or none, and `make dev` would say "the
# cluster runs your code" when it does not.
set -euo pipefail

verify_only=false
if [ "${1:-}" = --verify ]; then
    verify_only=true
    shift
fi
if [ "$#" -lt 2 ]; then
    echo "usage: deploy/import.sh [--verify] CLUSTER IMAGE..." >&2
    exit 2
fi
cluster=$1
shift
node="k3d-$cluster-server-0"

if ! $verify_only; then
    k3d image import --cluster "$cluster" "$@"
fi

# crictl lists each image with its manifest digest (DIGEST) and its config
# digest (IMAGE ID). Docker's image ID is the config digest with its
# classic store and the manifest digest with the containerd image store:
# either must appear on the node.
if ! on_node=$(docker exec "$node" crictl images --digests --no-trunc 2>&1); then
    echo "cannot list the images on node $node: ${on_node%%$'\n'*}" >&2
    echo "is the cluster running? \`k3d cluster list\`, then \`make up\`" >&2
    exit 1
fi
failed=0
for image in "$@"; do
    if ! id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null); then
        echo "FAILED: $image is not in Docker here: \`make image\` builds the lab's, \`make prefetch\` pulls the others" >&2
        failed=1
        continue
    fi
    if grep -qF -- "${id#sha256:}" <<<"$on_node"; then
        echo "ok: node $node has $image (${id:0:19})"
    else
        echo "FAILED: node $node does not have $image as Docker has it (${id:0:19})." >&2
        if $verify_only; then
            echo "  It should come from the airgap folder: run \`make prefetch\`, then \`make down up\`." >&2
        else
            echo "  \`k3d image import\` did not import it (read its log above). With Docker Desktop's" >&2
            echo "  containerd image store, turn it off: Settings > General > \"Use containerd for" >&2
            echo "  pulling and storing images\", then \`make dev\` again." >&2
        fi
        failed=1
    fi
done
exit "$failed"
