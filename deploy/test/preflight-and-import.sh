#!/usr/bin/env bash
# Tests deploy/preflight.sh and deploy/import.sh on stand-ins: a PATH whose
# docker, k3d and kubectl print what the real tools print in each
# situation (copied from the real tools), so that every check is seen to
# pass and to fail without Docker or a cluster. Run by deploy/check-static.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

cat >"$bin/docker" <<'FAKE'
#!/usr/bin/env bash
case "$*" in
    "info --format {{.NCPU}} {{.MemTotal}}")
        if [ -n "${FAKE_DOCKER_DENIED:-}" ]; then
            echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/info": dial unix /var/run/docker.sock: connect: permission denied' >&2
            exit 1
        fi
        echo "4 8331534336" ;;
    "info --format {{.DriverStatus}}")
        echo "${FAKE_DRIVER_STATUS:-[[Backing Filesystem extfs] [Supports d_type true] [Using metacopy false] [Native Overlay Diff true] [userxattr false]]}" ;;
    "buildx version")
        if [ -n "${FAKE_NO_BUILDX:-}" ]; then
            printf "docker: 'buildx' is not a docker command.\nSee 'docker --help'\n" >&2
            exit 1
        fi
        echo "github.com/docker/buildx v0.17.1 257815a" ;;
    "image inspect --format {{.Id}} "*)
        echo "${FAKE_IMAGE_ID:-sha256:4f8a3c1d9e2b7a6f5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b}" ;;
    "exec k3d-resilience-lab-server-0 crictl images --digests --no-trunc")
        printf 'IMAGE                                       TAG       DIGEST                                                                    IMAGE ID                                                                  SIZE\n'
        printf '%s\n' "${FAKE_NODE_IMAGES:-docker.io/rancher/mirrored-pause  3.6  sha256:74c4244427b7312c5b901fe0f67cbc53683d06f4f24c6faee65d4182bf0fa893  sha256:6270bb605e12e581514ada5fd5b3216f727db55dc87d5889c790e4c760683fee  301kB}" ;;
    *) exit 0 ;;
esac
FAKE

cat >"$bin/k3d" <<'FAKE'
#!/usr/bin/env bash
case "$*" in
    version)
        printf 'k3d version v%s\nk3s version v1.31.5-k3s1 (default)\n' "${FAKE_K3D_VERSION:-5.7.4}" ;;
    "cluster get resilience-lab")
        if [ -n "${FAKE_CLUSTER:-}" ]; then echo "NAME  SERVERS  AGENTS  LOADBALANCER"; else
            echo 'FATA[0000] No nodes found for given cluster' >&2; exit 1; fi ;;
    "image import --cluster resilience-lab "*)
        # What k3d 5.7 prints when ctr fails on the node: errors, then success, exit 0.
        cat <<'LOG'
INFO[0000] Importing image(s) into cluster 'resilience-lab'
INFO[0000] Starting new tools node...
INFO[0001] Saving 1 image(s) from runtime...
INFO[0004] Importing images into nodes...
INFO[0004] Importing images from tarball '/k3d/images/k3d-resilience-lab-images-20261130093015.tar' into node 'k3d-resilience-lab-server-0'...
ERRO[0005] failed to import images in node 'k3d-resilience-lab-server-0': Exec process in node 'k3d-resilience-lab-server-0' failed with exit code '1'
INFO[0005] Removing the tarball(s) from image volume...
INFO[0006] Removing k3d-tools node...
INFO[0006] Successfully imported image(s)
INFO[0006] Successfully imported 1 image(s) into 1 cluster(s)
LOG
        ;;
    *) exit 0 ;;
esac
FAKE

cat >"$bin/kubectl" <<'FAKE'
#!/usr/bin/env bash
case "$*" in
    "config get-contexts -o name") printf '%s\n' ${FAKE_CONTEXTS:-docker-desktop} ;;
    *) exit 0 ;;
esac
FAKE

for tool in curl cargo; do printf '#!/bin/sh\nexit 0\n' >"$bin/$tool"; done
chmod +x "$bin"/*

failed=0
# expect NAME PATTERN COMMAND...: COMMAND's output (stdout and stderr) has
# a line matching PATTERN.
expect() {
    local name=$1 pattern=$2; shift 2
    local out
    out=$(env PATH="$bin:/usr/bin:/bin" "$@" 2>&1) || true
    if grep -qE -- "$pattern" <<<"$out"; then
        echo "ok: $name"
    else
        echo "FAILED: $name: no line matches /$pattern/ in:"; echo "$out" | sed 's/^/    /'
        failed=1
    fi
}
preflight=deploy/preflight.sh

expect "preflight passes buildx" '^  ok    docker buildx \(github.com/docker/buildx' $preflight
expect "preflight fails without buildx" '^  FAIL  the Docker buildx plugin is missing' env FAKE_NO_BUILDX=1 $preflight
expect "preflight passes k3d 5.7.4" '^  ok    k3d 5\.7\.4' $preflight
expect "preflight passes k3d 5.5.0" '^  ok    k3d 5\.5\.0' env FAKE_K3D_VERSION=5.5.0 $preflight
expect "preflight fails k3d 5.4.9" '^  FAIL  k3d 5\.4\.9 is older than 5\.5\.0: upgrade' env FAKE_K3D_VERSION=5.4.9 $preflight
expect "preflight: no cluster yet" '^  ok    no cluster yet: `make up` creates it with context k3d-resilience-lab' $preflight
expect "preflight: the context is there" '^  ok    context k3d-resilience-lab' env FAKE_CLUSTER=1 FAKE_CONTEXTS="docker-desktop k3d-resilience-lab" $preflight
expect "preflight fails a cluster without its context" '^  FAIL  the cluster resilience-lab exists but the kubeconfig has no context k3d-resilience-lab: `k3d kubeconfig merge' env FAKE_CLUSTER=1 $preflight
expect "preflight: classic image store" "^  ok    Docker's classic image store" $preflight
expect "preflight warns of the containerd image store" '^  warn  Docker uses the containerd image store.*Use containerd for pulling' env FAKE_DRIVER_STATUS='[[driver-type io.containerd.snapshotter.v1]]' $preflight
expect "preflight: socket permission" '^  FAIL  your user may not use the Docker socket.*usermod -aG docker' env FAKE_DOCKER_DENIED=1 $preflight
expect "preflight counts its failures" '^preflight: 2 problem\(s\) above' env FAKE_NO_BUILDX=1 FAKE_K3D_VERSION=5.0.0 $preflight

id=sha256:4f8a3c1d9e2b7a6f5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b
on_node="docker.io/library/resilience-lab  dev  sha256:1111111111111111111111111111111111111111111111111111111111111111  $id  41.2MB"
expect "import: k3d says it imported, the node lacks the image: fails" '^FAILED: node k3d-resilience-lab-server-0 does not have resilience-lab:dev' deploy/import.sh resilience-lab resilience-lab:dev
expect "import: exits non-zero then" '^exit 1$' bash -c 'deploy/import.sh resilience-lab resilience-lab:dev >/dev/null 2>&1; echo "exit $?"'
expect "import: the node has it by image ID" '^ok: node k3d-resilience-lab-server-0 has resilience-lab:dev \(sha256:4f8a3c1d9e2b\)' env FAKE_NODE_IMAGES="$on_node" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: by manifest digest (containerd image store)" '^ok: node' env FAKE_IMAGE_ID=sha256:1111111111111111111111111111111111111111111111111111111111111111 FAKE_NODE_IMAGES="$on_node" deploy/import.sh resilience-lab resilience-lab:dev
expect "import --verify points at the airgap folder" 'make prefetch`, then `make down up`' deploy/import.sh --verify resilience-lab postgres:16.6-alpine

exit "$failed"
