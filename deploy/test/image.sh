#!/usr/bin/env bash
# The lab's image, built for real and run, on a real Docker engine:
#
#   1. the two base images: on this project's CI machines they cannot be
#      pulled (no Docker Hub, no gcr.io), so deploy/test/stand-in-bases.sh
#      builds STAND-INS for them from Debian packages and this machine's
#      Rust toolchain, unless images of those names are already here;
#   2. `make image`, for real: deploy/vendor-lab.sh vendors the lab's crates
#      on the host, then the build runs with `--network none`, so it cannot
#      reach a registry;
#   3. `lab dep` from the image, as uid 65532 (distroless's nonroot): it
#      must answer /healthz and /work, and its process must run as 65532;
#   4. the build's time and the image's size.
#
#   deploy/test/image.sh     (.ci/run runs it; needs root for the stand-ins)
#
# DOCKER names the docker client; by default the first that can build with
# BuildKit: `docker` with the buildx plugin, else Debian's 20.10 client
# /usr/bin/docker, whose BuildKit is built in (a newer `docker` without the
# plugin refuses to build).
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=resilience-lab:dev
container=resilience-lab-image-test-$$

fail() { echo "image test: FAILED: $*" >&2; exit 1; }
say() { echo "image test: $*"; }

# --- the docker client ------------------------------------------------------
if [ -z "${DOCKER:-}" ]; then
    if docker buildx version >/dev/null 2>&1; then
        DOCKER=docker
    elif [ -x /usr/bin/docker ] && [[ "$(/usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null)" =~ ^(1[0-9]|2[0-2])\. ]]; then
        DOCKER=/usr/bin/docker
    else
        fail "no docker client here can build with BuildKit: install the buildx plugin (docker-buildx-plugin), or Debian's docker.io, or set DOCKER"
    fi
fi
export DOCKER
"$DOCKER" info >/dev/null 2>&1 ||
    fail "the Docker engine does not answer to \`$DOCKER info\`: start it (dockerd --storage-driver=vfs >/var/log/dockerd.log 2>&1 &)"
say "docker client $DOCKER ($("$DOCKER" version --format '{{.Client.Version}}'), engine $("$DOCKER" version --format '{{.Server.Version}}'))"

cleanup() { "$DOCKER" rm -f "$container" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# --- 1. the base images -----------------------------------------------------
deploy/test/stand-in-bases.sh
for base in $(sed -nE 's/^FROM ([^ ]+).*/\1/p' Dockerfile); do
    stand_in=$("$DOCKER" image inspect --format '{{index .Config.Labels "resilience-lab.stand-in"}}' "$base")
    say "base $base: ${stand_in:-the real image}"
done

# --- 2. make image, offline -------------------------------------------------
# The crates first (the host may use the network for them), so that the
# time below is the image build's alone.
make --no-print-directory .lab/image-crates/Cargo.lock
started=$(date +%s)
make --no-print-directory image DOCKER="$DOCKER" || fail "\`make image\` failed (its output above)"
build_seconds=$(( $(date +%s) - started ))
id=$("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE") || fail "\`make image\` did not tag $IMAGE"
user=$("$DOCKER" image inspect --format '{{.Config.User}}' "$IMAGE")
[ "$user" = 65532:65532 ] || fail "the image runs as '$user', not 65532:65532 (the Dockerfile's USER)"

# --- 3. lab dep from the image, as 65532 ------------------------------------
# dep.yaml's args: `dep --listen 0.0.0.0:9000`; published on a free port of
# 127.0.0.1.
"$DOCKER" run --detach --name "$container" --user 65532:65532 --publish 127.0.0.1::9000 \
    "$IMAGE" dep --listen 0.0.0.0:9000 >/dev/null || fail "\`$DOCKER run $IMAGE dep\` did not start"
address=$("$DOCKER" port "$container" 9000/tcp | head -n 1)
[ -n "$address" ] || fail "Docker did not publish the container's port 9000"
deadline=$(( $(date +%s) + 30 ))
until health=$(curl -fsS --max-time 2 "http://$address/healthz" 2>/dev/null); do
    if [ "$(date +%s)" -ge "$deadline" ] || [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$container")" != true ]; then
        "$DOCKER" logs "$container" 2>&1 | tail -n 20 >&2
        fail "lab dep did not answer http://$address/healthz within 30 s (its log's end above)"
    fi
    sleep 0.5
done
[ "$health" = ok ] || fail "/healthz answered '$health', not 'ok'"
work=$(curl -fsS --max-time 5 "http://$address/work?latency_ms=5") || fail "/work?latency_ms=5 did not answer"
grep -q '"outcome"' <<<"$work" || fail "/work answered '$work', not dep's JSON"
say "lab dep answered from the image: /healthz '$health', /work $work"

pid=$("$DOCKER" inspect --format '{{.State.Pid}}' "$container")
uids=$(sed -nE 's/^Uid:[[:space:]]+//p' "/proc/$pid/status" 2>/dev/null) ||
    fail "cannot read /proc/$pid/status, the container's process: run this test on the Docker engine's host"
read -r real effective _ <<<"$uids"
[ "$real" = 65532 ] && [ "$effective" = 65532 ] || fail "lab dep runs as uid $real (effective $effective), not 65532"
say "lab dep runs as uid $real (distroless's nonroot)"

# --- 4. what it cost --------------------------------------------------------
size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
say "ok: $IMAGE (${id:0:19}) built offline in ${build_seconds} s, $(( size / 1000 / 1000 )) MB"
