#!/usr/bin/env bash
# Puts images on the k3d node and proves they are there, by digest.
#
#   deploy/import.sh CLUSTER IMAGE...           import, then verify
#   deploy/import.sh --verify CLUSTER IMAGE...  verify only (images the node
#                                               loaded from the airgap folder)
#
# How: `docker save IMAGE | docker exec -i NODE ctr -n k8s.io images import
# --platform linux/ARCH -`, the node's own containerd importing for the
# node's platform only. That works with either of Docker's image stores.
# `k3d image import` does not: its `ctr image import --all-platforms`
# fails on the containerd image store's tarballs, which list every
# platform of an image but hold the blobs of the pulled one only, and it
# still exits 0 saying the images were imported.
#
# Why verify: an import that half-failed leaves the node with an older
# image, or none, and `make dev` would say "the cluster runs your code"
# when it does not. The name must point, on the node, at the image Docker
# has: Docker's image ID is the config digest with its classic store and
# the manifest (or index) digest with the containerd image store, so the
# node's image must be that digest or a manifest whose config it is.
#
# Environment (the defaults are the k3d node's; deploy/test/import.sh points
# them at a local containerd instead):
#   IMPORT_CTR        the ctr command       (docker exec -i k3d-CLUSTER-server-0 ctr)
#   IMPORT_NAMESPACE  containerd namespace  (k8s.io, the one the kubelet reads)
#   IMPORT_PLATFORM   the node's platform   (linux/ARCH of the Docker engine)
#   DOCKER            the docker client     (docker)
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

DOCKER=${DOCKER:-docker}
node="k3d-$cluster-server-0"
if [ -n "${IMPORT_CTR:-}" ]; then
    read -r -a ctr <<<"$IMPORT_CTR"
    where="containerd ($IMPORT_CTR)"
else
    ctr=("$DOCKER" exec -i "$node" ctr)
    where="node $node"
fi
namespace=${IMPORT_NAMESPACE:-k8s.io}
ctr+=(--namespace "$namespace")

if [ -n "${IMPORT_PLATFORM:-}" ]; then
    platform=$IMPORT_PLATFORM
else
    case "$("$DOCKER" info --format '{{.Architecture}}' 2>/dev/null)" in
        x86_64 | amd64) platform=linux/amd64 ;;
        aarch64 | arm64) platform=linux/arm64 ;;
        "") echo "the Docker engine does not answer to \`$DOCKER info\`: start Docker, then try again" >&2; exit 1 ;;
        *) echo "the workshop's k3s node runs on amd64 or arm64 only, not $("$DOCKER" info --format '{{.Architecture}}')" >&2; exit 1 ;;
    esac
fi

# The name containerd gives an image: docker.io/library/ added the way the
# Docker CLI reads a short name.
full_name() {
    local name=$1 first=${1%%/*}
    if [[ "$name" != */* ]]; then
        name=docker.io/library/$name
    elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
        name=docker.io/$name
    fi
    [[ "${name##*/}" == *[:@]* ]] || name=$name:latest
    printf '%s\n' "$name"
}

# Whether the node's image NAME is the one whose Docker image ID is ID.
node_has() {
    local name=$1 id=$2 listing target manifest digest
    listing=$("${ctr[@]}" images ls) || return 1
    target=$(awk -v name="$name" '$1 == name { print $3 }' <<<"$listing")
    [ -n "$target" ] || return 1
    [ "$target" = "$id" ] && return 0
    manifest=$("${ctr[@]}" content get "$target") || return 1
    grep -qF -- "\"$id\"" <<<"$manifest" && return 0
    # An index: one of its manifests (those of this platform are on the node).
    if grep -q '"manifests"' <<<"$manifest"; then
        for digest in $(grep -oE 'sha256:[0-9a-f]{64}' <<<"$manifest" | sort -u); do
            if "${ctr[@]}" content get "$digest" 2>/dev/null | grep -qF -- "\"$id\""; then
                return 0
            fi
        done
    fi
    return 1
}

if ! listing=$("${ctr[@]}" images ls 2>&1); then
    echo "cannot list the images on $where: ${listing%%$'\n'*}" >&2
    echo "is the cluster running? \`k3d cluster list\`, then \`make up\`" >&2
    exit 1
fi

failed=0
for image in "$@"; do
    if ! id=$("$DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null); then
        echo "FAILED: $image is not in Docker here: \`make image\` builds the lab's, \`make prefetch\` pulls the others" >&2
        failed=1
        continue
    fi
    if ! $verify_only; then
        echo "importing $image (${id:0:19}) into $where, for $platform"
        if ! log=$("$DOCKER" save "$image" | "${ctr[@]}" images import --platform "$platform" - 2>&1); then
            echo "$log" | sed 's/^/  ctr: /' >&2
            echo "FAILED: $where could not import $image (ctr's words above)." >&2
            echo "  Is the cluster running (\`k3d cluster list\`), with room on Docker's disk (\`docker system df\`)? Then \`make dev\` again." >&2
            failed=1
            continue
        fi
    fi
    name=$(full_name "$image")
    if node_has "$name" "$id"; then
        echo "ok: $where has $image (${id:0:19})"
    else
        echo "FAILED: $where does not have $image as Docker has it (${id:0:19})." >&2
        if $verify_only; then
            echo "  It should come from the airgap folder: run \`make prefetch\`, then \`make down up\`." >&2
        else
            echo "  ctr imported something else under $name: \`${ctr[*]} images ls\` shows what the node has." >&2
        fi
        failed=1
    fi
done
exit "$failed"
