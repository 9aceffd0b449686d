#!/usr/bin/env bash
# `make preflight`: can this laptop run the workshop's cluster? Every check
# that fails says how to fix it; the exit status is the number of failures.
set -uo pipefail

CLUSTER=${CLUSTER:-resilience-lab}
MIN_CPUS=4
MIN_MEMORY_GB=6
failures=0

ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
warn() { printf '  warn  %s\n' "$*"; }

echo "tools"
for tool in docker k3d kubectl curl cargo; do
    if command -v "$tool" >/dev/null 2>&1; then
        ok "$tool ($(command -v "$tool"))"
    else
        case "$tool" in
            docker) hint="install Docker Desktop (or Docker Engine), or use \`nix develop\`" ;;
            k3d) hint="https://k3d.io (brew install k3d), or use \`nix develop\`" ;;
            kubectl) hint="https://kubernetes.io/docs/tasks/tools/ (brew install kubectl), or use \`nix develop\`" ;;
            cargo) hint="https://rustup.rs, or use \`nix develop\`" ;;
            *) hint="install it with your package manager, or use \`nix develop\`" ;;
        esac
        fail "$tool is not on PATH: $hint"
    fi
done

echo "docker"
if ! info=$(docker info --format '{{.NCPU}} {{.MemTotal}}' 2>&1); then
    fail "the Docker daemon does not answer (${info%%$'\n'*}): start Docker Desktop and wait until it says it is running"
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
fi

echo "ports"
cluster_running=false
if command -v k3d >/dev/null 2>&1 && k3d cluster get "$CLUSTER" >/dev/null 2>&1; then
    cluster_running=true
fi
for port in 8080 8081; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        if $cluster_running; then
            ok "port $port is held by the cluster $CLUSTER"
        else
            fail "port $port is taken by another program: find it with \`lsof -i :$port\` and stop it"
        fi
    else
        ok "port $port is free"
    fi
done

# Not a failure: `make up` works online too, only slower in a busy room.
echo "images"
airgap=${AIRGAP:-.lab/k3s-images}
if [ -n "${K3S_IMAGE:-}" ] && docker image inspect "$K3S_IMAGE" >/dev/null 2>&1 &&
    compgen -G "$airgap/k3s-airgap-images-*.tar.zst" >/dev/null; then
    ok "prefetched: $K3S_IMAGE and k3s's system images in $airgap"
else
    warn "not prefetched: run \`make prefetch\` (about 1 GB) before the room's network gets busy"
fi

if [ "$failures" -eq 0 ]; then
    echo "preflight: ready for \`make up\`"
else
    echo "preflight: $failures problem(s) above"
fi
exit "$failures"
