#!/usr/bin/env bash
# `make preflight`: can this laptop run the workshop's cluster? Every check
# that fails says how to fix it; the exit status is the number of failures.
set -uo pipefail

CLUSTER=${CLUSTER:-resilience-lab}
# The host ports the cluster binds on 127.0.0.1 (make's API_PORT and
# WORKER_PORT), and the docker client make uses (make's DOCKER).
API_PORT=${API_PORT:-8080}
WORKER_PORT=${WORKER_PORT:-8081}
DOCKER=${DOCKER:-docker}
MIN_CPUS=4
MIN_MEMORY_GB=6
failures=0

ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
warn() { printf '  warn  %s\n' "$*"; }

echo "tools"
for tool in "$DOCKER" k3d kubectl curl cargo; do
    if command -v "$tool" >/dev/null 2>&1; then
        ok "$tool ($(command -v "$tool"))"
    else
        case "$tool" in
            docker | */docker) hint="install Docker Desktop (or Docker Engine), or use \`nix develop\`" ;;
            k3d) hint="https://k3d.io (brew install k3d), or use \`nix develop\`" ;;
            kubectl) hint="https://kubernetes.io/docs/tasks/tools/ (brew install kubectl), or use \`nix develop\`" ;;
            cargo) hint="https://rustup.rs, or use \`nix develop\`" ;;
            *) hint="install it with your package manager, or use \`nix develop\`" ;;
        esac
        fail "$tool is not on PATH: $hint"
    fi
done

echo "versions"
# k3d 5.5 is the first to read deploy/k3d-config.yaml's config version,
# k3d.io/v1alpha5.
MIN_K3D=5.5.0
if command -v k3d >/dev/null 2>&1; then
    k3d_version=$(k3d version 2>/dev/null | sed -nE 's/^k3d version v([0-9][0-9.]*).*/\1/p')
    if [ -z "$k3d_version" ]; then
        fail "\`k3d version\` did not say its version: reinstall k3d 5.5 or later (https://k3d.io)"
    elif [ "$(printf '%s\n%s\n' "$MIN_K3D" "$k3d_version" | sort -V | head -n 1)" = "$MIN_K3D" ]; then
        ok "k3d $k3d_version"
    else
        fail "k3d $k3d_version is older than $MIN_K3D: upgrade it (brew upgrade k3d, or https://k3d.io)"
    fi
fi
if command -v "$DOCKER" >/dev/null 2>&1; then
    client=$("$DOCKER" version --format '{{.Client.Version}}' 2>/dev/null || true)
    if buildx=$("$DOCKER" buildx version 2>&1); then
        ok "docker buildx (${buildx%%$'\n'*})"
        # A builder of the docker-container driver keeps what it builds
        # unless told to load it; `make image` passes --load.
        builder=$("$DOCKER" buildx inspect 2>/dev/null || true)
        if grep -qE '^Driver: +docker-container' <<<"$builder"; then
            ok "buildx builder $(sed -nE 's/^Name: +//p' <<<"$builder" | head -n 1) (docker-container driver): \`make image\` loads its image into Docker with --load"
        fi
    elif [[ "$client" =~ ^(1[0-9]|2[0-2])\. ]]; then
        ok "docker $client builds with its own BuildKit (no buildx plugin before Docker 23)"
    else
        fail "the Docker buildx plugin is missing, and \`make image\` builds with BuildKit: Docker Desktop has it; on Linux install docker-buildx-plugin (apt) or docker-buildx, or use Debian's docker.io 20.10 client (make image DOCKER=/usr/bin/docker)"
    fi
fi

echo "docker"
if ! info=$("$DOCKER" info --format '{{.NCPU}} {{.MemTotal}}' 2>&1); then
    if grep -qi "permission denied" <<<"$info"; then
        fail "your user may not use the Docker socket (${info%%$'\n'*}): \`sudo usermod -aG docker \$USER\`, then log out and in (or \`newgrp docker\`)"
    else
        fail "the Docker daemon does not answer (${info%%$'\n'*}): start Docker Desktop (or \`sudo systemctl start docker\`) and wait until it says it is running"
    fi
else
    read -r cpus memory <<<"$info"
    gb=$((memory / 1024 / 1024 / 1024))
    if [ "$cpus" -ge "$MIN_CPUS" ]; then ok "$cpus CPUs"; else
        fail "Docker has $cpus CPUs, the workshop needs $MIN_CPUS: Docker Desktop > Settings > Resources > CPUs"
    fi
    # MemTotal is a little under the configured amount; allow for that.
    if [ "$gb" -ge $((MIN_MEMORY_GB - 1)) ]; then ok "${gb} GB of memory"; else
        fail "Docker has ${gb} GB of memory, the workshop needs ${MIN_MEMORY_GB}: Docker Desktop > Settings > Resources > Memory"
    fi
    # Either works: deploy/import.sh streams `docker save` into the node's
    # own ctr, for the node's platform only, and checks the result.
    if "$DOCKER" info --format '{{.DriverStatus}}' 2>/dev/null | grep -q 'io.containerd.snapshotter'; then
        ok "Docker's containerd image store (make up and make dev import through the node's ctr, and check)"
    else
        ok "Docker's classic image store"
    fi
fi

echo "kubernetes context"
context="k3d-$CLUSTER"
if ! command -v kubectl >/dev/null 2>&1; then
    : # named under tools
elif kubectl config get-contexts -o name 2>/dev/null | grep -qx "$context"; then
    ok "context $context (make and the runner use it, whatever context is current)"
elif command -v k3d >/dev/null 2>&1 && k3d cluster get "$CLUSTER" >/dev/null 2>&1; then
    fail "the cluster $CLUSTER exists but the kubeconfig has no context $context: \`k3d kubeconfig merge $CLUSTER --kubeconfig-merge-default\`"
else
    ok "no cluster yet: \`make up\` creates it with context $context"
fi

echo "ports"
cluster_running=false
if command -v k3d >/dev/null 2>&1 && k3d cluster get "$CLUSTER" >/dev/null 2>&1; then
    cluster_running=true
fi
for port in "$API_PORT" "$WORKER_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        if $cluster_running; then
            ok "port $port is held by the cluster $CLUSTER"
        else
            fail "port $port is taken by another program: find it with \`lsof -i :$port\` and stop it, or choose two free ports for the cluster: make up API_PORT=18080 WORKER_PORT=18081 (and runner run <scenario> --target api=http://127.0.0.1:18080,worker=http://127.0.0.1:18081)"
        fi
    else
        ok "port $port is free (127.0.0.1)"
    fi
done

# Not a failure: `make up` works online too, only slower in a busy room.
echo "images"
airgap=${AIRGAP:-.lab/k3s-images}
if [ -n "${K3S_IMAGE:-}" ] && "$DOCKER" image inspect "$K3S_IMAGE" >/dev/null 2>&1 &&
    compgen -G "$airgap/k3s-airgap-images-*.tar.zst" >/dev/null; then
    ok "prefetched: $K3S_IMAGE and k3s's system images in $airgap"
    if [ -s "$airgap/postgres.tar" ]; then ok "prefetched: PostgreSQL in $airgap/postgres.tar"; else
        warn "PostgreSQL is not in $airgap: run \`make prefetch\` again"
    fi
else
    warn "not prefetched: run \`make prefetch\` (about 1 GB) before the room's network gets busy"
fi

if [ "$failures" -eq 0 ]; then
    echo "preflight: ready for \`make up\`"
else
    echo "preflight: $failures problem(s) above"
fi
exit "$failures"
