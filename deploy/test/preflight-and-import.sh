#!/usr/bin/env bash
# Tests deploy/preflight.sh and deploy/import.sh on stand-ins: a PATH whose
# docker, k3d and kubectl print what the real tools print in each
# situation (copied from the real tools; the node's ctr from containerd's
# ctr importing a `docker save` of the lab's image), so that every check is
# seen to pass and to fail without Docker or a cluster. Run by
# deploy/check-static.sh. deploy/test/import-ctr.sh runs import.sh against
# a real containerd.
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
    "info --format {{.Architecture}}") echo x86_64 ;;
    "version --format {{.Client.Version}}") echo "${FAKE_CLIENT_VERSION:-28.2.2}" ;;
    "buildx version")
        if [ -n "${FAKE_NO_BUILDX:-}" ]; then
            printf "docker: 'buildx' is not a docker command.\nSee 'docker --help'\n" >&2
            exit 1
        fi
        echo "github.com/docker/buildx v0.17.1 257815a" ;;
    "buildx inspect")
        printf 'Name:          %s\nDriver:        %s\n\nNodes:\nName:      %s0\nEndpoint:  unix:///var/run/docker.sock\nStatus:    running\n' \
            "${FAKE_BUILDER:-default}" "${FAKE_BUILDER_DRIVER:-docker}" "${FAKE_BUILDER:-default}" ;;
    "image inspect --format {{.Id}} "*)
        echo "${FAKE_IMAGE_ID:-sha256:b73005edc09737ac4e7036fc1be6760d92f66efafee17b0e0b1f3a9c1a2e7bb8}" ;;
    "save "*) echo "a docker save tarball" ;;
    "exec -i k3d-resilience-lab-server-0 ctr --namespace k8s.io "*)
        if [ -n "${FAKE_NO_NODE:-}" ]; then
            echo "Error response from daemon: No such container: k3d-resilience-lab-server-0" >&2
            exit 1
        fi
        command="$*"
        case "${command#exec -i k3d-resilience-lab-server-0 ctr --namespace k8s.io }" in
            "images ls")
                echo 'REF                                  TYPE                                                 DIGEST                                                                  SIZE     PLATFORMS   LABELS '
                printf '%s\n' "${FAKE_NODE_IMAGES:-docker.io/rancher/mirrored-pause:3.6 application/vnd.docker.distribution.manifest.list.v2+json sha256:74c4244427b7312c5b901fe0f67cbc53683d06f4f24c6faee65d4182bf0fa893 swarm 301.5 KiB linux/amd64 io.cri-containerd.image=managed}" ;;
            "content get sha256:07d88d5cd509d854950cd25c3b3193ef385b43585d910de10738a781b40be3ed")
                echo '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:b73005edc09737ac4e7036fc1be6760d92f66efafee17b0e0b1f3a9c1a2e7bb8","size":1615},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"sha256:204fa00b985161891a5715756a2e7b85a71e310fc99c88c853bb7bd126a1bde6","size":21954560},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"sha256:80caec08aacda7853ca505d6d43d6157bcec145b4a12b283072a421718062c89","size":41268736}]}' ;;
            "content get "*)
                echo "ctr: content digest ${command##* }: not found" >&2; exit 1 ;;
            "images import --platform linux/amd64 -")
                cat >/dev/null
                if [ -n "${FAKE_IMPORT_FAILS:-}" ]; then
                    echo "ctr: failed to ingest \"blobs/sha256/204fa00b985161891a5715756a2e7b85a71e310fc99c88c853bb7bd126a1bde6\": failed to copy: write /var/lib/rancher/k3s/agent/containerd/io.containerd.content.v1.content/ingest/5d41/data: no space left on device" >&2
                    exit 1
                fi
                echo "unpacking docker.io/library/resilience-lab:dev (sha256:07d88d5cd509d854950cd25c3b3193ef385b43585d910de10738a781b40be3ed)...done" ;;
            *) echo "the stand-in ctr does not know: $*" >&2; exit 1 ;;
        esac ;;
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
expect "preflight passes Docker 20.10 without buildx" '^  ok    docker 20\.10\.24\+dfsg1 builds with its own BuildKit' env FAKE_NO_BUILDX=1 FAKE_CLIENT_VERSION=20.10.24+dfsg1 $preflight
expect "preflight names a docker-container builder" '^  ok    buildx builder room-builder \(docker-container driver\): `make image` loads' env FAKE_BUILDER=room-builder FAKE_BUILDER_DRIVER=docker-container $preflight
expect "preflight passes k3d 5.7.4" '^  ok    k3d 5\.7\.4' $preflight
expect "preflight passes k3d 5.5.0" '^  ok    k3d 5\.5\.0' env FAKE_K3D_VERSION=5.5.0 $preflight
expect "preflight fails k3d 5.4.9" '^  FAIL  k3d 5\.4\.9 is older than 5\.5\.0: upgrade' env FAKE_K3D_VERSION=5.4.9 $preflight
expect "preflight: no cluster yet" '^  ok    no cluster yet: `make up` creates it with context k3d-resilience-lab' $preflight
expect "preflight: the context is there" '^  ok    context k3d-resilience-lab' env FAKE_CLUSTER=1 FAKE_CONTEXTS="docker-desktop k3d-resilience-lab" $preflight
expect "preflight fails a cluster without its context" '^  FAIL  the cluster resilience-lab exists but the kubeconfig has no context k3d-resilience-lab: `k3d kubeconfig merge' env FAKE_CLUSTER=1 $preflight
expect "preflight: classic image store" "^  ok    Docker's classic image store" $preflight
expect "preflight passes the containerd image store" "^  ok    Docker's containerd image store" env FAKE_DRIVER_STATUS='[[driver-type io.containerd.snapshotter.v1]]' $preflight
expect "preflight checks the ports make chose" '^  ok    port 18080 is free \(127\.0\.0\.1\)' env API_PORT=18080 WORKER_PORT=18081 $preflight
expect "preflight: socket permission" '^  FAIL  your user may not use the Docker socket.*usermod -aG docker' env FAKE_DOCKER_DENIED=1 $preflight
expect "preflight counts its failures" '^preflight: 2 problem\(s\) above' env FAKE_NO_BUILDX=1 FAKE_K3D_VERSION=5.0.0 $preflight

# A port another program holds: a listener on a free port of 127.0.0.1.
python3 -c 'import socket, sys, time
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
print(listener.getsockname()[1], flush=True); time.sleep(60)' >"$bin/port" &
listener=$!
for _ in $(seq 1 50); do [ -s "$bin/port" ] && break; sleep 0.1; done
taken=$(cat "$bin/port")
expect "preflight fails a taken port and names the make variables" "^  FAIL  port $taken is taken by another program.*make up API_PORT=18080 WORKER_PORT=18081.*--target api=" \
    env API_PORT="$taken" $preflight
kill "$listener"

# The node's images as its ctr lists them: the lab's under the manifest
# that `ctr images import` made of a classic store's `docker save`.
lab="docker.io/library/resilience-lab:dev application/vnd.docker.distribution.manifest.v2+json sha256:07d88d5cd509d854950cd25c3b3193ef385b43585d910de10738a781b40be3ed 60.3 MiB linux/amd64 -"
expect "import: through the node's ctr, for the node's platform" '^importing resilience-lab:dev \(sha256:b73005edc097\) into node k3d-resilience-lab-server-0, for linux/amd64$' env FAKE_NODE_IMAGES="$lab" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: the node has it by config digest (classic store)" '^ok: node k3d-resilience-lab-server-0 has resilience-lab:dev \(sha256:b73005edc097\)' env FAKE_NODE_IMAGES="$lab" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: by manifest digest (containerd image store)" '^ok: node k3d-resilience-lab-server-0 has resilience-lab:dev \(sha256:07d88d5cd509\)' env FAKE_IMAGE_ID=sha256:07d88d5cd509d854950cd25c3b3193ef385b43585d910de10738a781b40be3ed FAKE_NODE_IMAGES="$lab" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: ctr imported, the node lacks the image under its name: fails" '^FAILED: node k3d-resilience-lab-server-0 does not have resilience-lab:dev as Docker has it' deploy/import.sh resilience-lab resilience-lab:dev
expect "import: exits non-zero then" '^exit 1$' bash -c 'deploy/import.sh resilience-lab resilience-lab:dev >/dev/null 2>&1; echo "exit $?"'
expect "import: a stale image under the name: fails" '^FAILED: node k3d-resilience-lab-server-0 does not have resilience-lab:dev' env FAKE_IMAGE_ID=sha256:4f8a3c1d9e2b7a6f5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b FAKE_NODE_IMAGES="$lab" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: ctr fails: says so, with ctr's words" '^  ctr: ctr: failed to ingest .*no space left on device' env FAKE_IMPORT_FAILS=1 FAKE_NODE_IMAGES="$lab" deploy/import.sh resilience-lab resilience-lab:dev
expect "import: ctr fails: exits non-zero" '^exit 1$' bash -c 'FAKE_IMPORT_FAILS=1 deploy/import.sh resilience-lab resilience-lab:dev >/dev/null 2>&1; echo "exit $?"'
expect "import: no node: is the cluster running?" '^cannot list the images on node k3d-resilience-lab-server-0: Error response from daemon: No such container' env FAKE_NO_NODE=1 deploy/import.sh resilience-lab resilience-lab:dev
expect "import --verify points at the airgap folder" 'make prefetch`, then `make down up`' deploy/import.sh --verify resilience-lab postgres:16.6-alpine

exit "$failed"
