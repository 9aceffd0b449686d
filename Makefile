# Resilience Lab. `make help` lists the targets; each one is a thin wrapper
# around a command that can also be run by hand (see README.md).

.DEFAULT_GOAL := help
.PHONY: help build demo test solve unsolve tags \
	preflight prefetch prefetch-local up down image dev apply wait smoke reset rescale

# The runner, built on first use (dev profile, as the local stack uses);
# cargo shows its progress, since the first build takes a few minutes.
RUNNER := cargo run --package runner --

# The cluster path: names, and the images read from the files that use them.
CLUSTER        := resilience-lab
IMAGE          := resilience-lab:dev
KUBECTL        := kubectl --context k3d-$(CLUSTER)
K3S_IMAGE      := $(shell sed -nE 's/^image: (rancher\/k3s:.*)/\1/p' deploy/k3d-config.yaml)
POSTGRES_IMAGE := $(shell sed -nE 's/^ *image: (postgres:.*)/\1/p' deploy/k8s/postgres.yaml)
BASE_IMAGES    := $(shell sed -nE 's/^FROM ([^ ]+).*/\1/p' Dockerfile)
# k3s's own images (coredns, metrics-server, local-path, pause) come as one
# release tarball; k3s loads every tarball in agent/images/ when it starts.
# `rancher/k3s:v1.33.4-k3s1` is the release `v1.33.4+k3s1`.
K3S_RELEASE    := $(subst -k3s,%2Bk3s,$(lastword $(subst :, ,$(K3S_IMAGE))))
AIRGAP         := $(CURDIR)/.lab/k3s-images
STARTED        := $(shell date +%s)
# The host ports of the api and the worker, bound to 127.0.0.1 only (the
# room must not reach /admin/reset). Another pair where 8080 is taken:
# `make up API_PORT=18080 WORKER_PORT=18081`, and the same on every make
# line after it (or export them); the runner then needs `--target`.
API_PORT       ?= 8080
WORKER_PORT    ?= 8081
API            := http://127.0.0.1:$(API_PORT)
WORKER         := http://127.0.0.1:$(WORKER_PORT)
# The docker client. `make image` builds with the buildx plugin when it is
# there (Docker 23 and later need it for BuildKit), else with the BuildKit
# built into older clients (Debian's docker.io 20.10: DOCKER=/usr/bin/docker).
DOCKER         ?= docker
# The crates the image builds from, vendored by `make prefetch`.
VENDORED       := .lab/image-crates/Cargo.lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN { FS = ":.*## " } { printf "  make %-15s %s\n", $$1, $$2 }'

build: ## build the lab and the runner
	cargo build --workspace

demo: ## every local case, baseline then solution, on the local stack; writes reports/demo.html
	$(RUNNER) demo

test: ## the whole test suite, with a private PostgreSQL unless LAB_TEST_DATABASE_URL is set
	$(RUNNER) with-postgres -- cargo test --workspace

solve: ## apply a step's reference solution: make solve STEP=1
	@test -n "$(STEP)" || { echo "say which step: make solve STEP=1" >&2; exit 2; }
	$(RUNNER) solve $(STEP)

unsolve: ## take a step's reference solution back out: make unsolve STEP=1
	@test -n "$(STEP)" || { echo "say which step: make unsolve STEP=1" >&2; exit 2; }
	$(RUNNER) unsolve $(STEP)

tags: ## create local git tags step-0 and step-N-solution (for branches instead of patches)
	solutions/tag-steps.sh

# --- the cluster path: k3d on the laptop's Docker ----------------------------

preflight: ## check the tools, Docker (running, 4+ CPUs, 6+ GB) and the ports (API_PORT, WORKER_PORT: 8080, 8081)
	CLUSTER=$(CLUSTER) K3S_IMAGE=$(K3S_IMAGE) AIRGAP=$(AIRGAP) \
		API_PORT=$(API_PORT) WORKER_PORT=$(WORKER_PORT) DOCKER=$(DOCKER) deploy/preflight.sh

prefetch-local: ## fetch every crate the workspace builds from (cargo fetch --locked), so the local path builds offline
	cargo fetch --locked

# The lab's crates, vendored for the image build (deploy/vendor-lab.sh);
# again whenever the lockfile or a manifest changes.
$(VENDORED): Cargo.toml Cargo.lock lab/Cargo.toml
	deploy/vendor-lab.sh

# PostgreSQL goes to the node through the airgap folder too (postgres.tar):
# k3s loads every tarball there when it starts, whatever Docker's image
# store, where `k3d image import` of it is known to fail.
prefetch: prefetch-local $(VENDORED) ## prefetch-local, the lab's crates for the image (.lab/image-crates), then every image the cluster needs, into Docker and the airgap folder (k3s's system images, PostgreSQL), for offline use
	@version=$$(k3d version | sed -nE 's/^k3d version v(.*)/\1/p'); \
	for image in $(K3S_IMAGE) $(POSTGRES_IMAGE) $(BASE_IMAGES) \
		ghcr.io/k3d-io/k3d-tools:$$version ghcr.io/k3d-io/k3d-proxy:$$version; do \
		echo "$(DOCKER) pull $$image"; $(DOCKER) pull "$$image" || exit 1; \
	done
	@case "$$($(DOCKER) info --format '{{.Architecture}}')" in \
		x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; \
		*) echo "k3s ships system images for amd64 and arm64 only" >&2; exit 1 ;; \
	esac; \
	file=$(AIRGAP)/k3s-airgap-images-$$arch.tar.zst; \
	url=https://github.com/k3s-io/k3s/releases/download/$(K3S_RELEASE)/k3s-airgap-images-$$arch.tar.zst; \
	mkdir -p $(AIRGAP); \
	if [ -s "$$file" ]; then echo "have $$file"; else \
		echo "curl $$url"; curl -fL --retry 3 -o "$$file.part" "$$url" && mv "$$file.part" "$$file"; \
	fi
	$(DOCKER) save --output $(AIRGAP)/postgres.tar.part $(POSTGRES_IMAGE)
	mv $(AIRGAP)/postgres.tar.part $(AIRGAP)/postgres.tar

up: ## create the cluster (or reuse it), build and import the image, apply the manifests, wait for every role
	@if k3d cluster get $(CLUSTER) >/dev/null 2>&1; then \
		echo "reusing the cluster $(CLUSTER), on the ports it was created with (to move them: make down, then make up API_PORT=... WORKER_PORT=...)"; \
		k3d cluster start $(CLUSTER); \
	else \
		mkdir -p $(AIRGAP); \
		API_PORT=$(API_PORT) WORKER_PORT=$(WORKER_PORT) \
			k3d cluster create --config deploy/k3d-config.yaml \
			--volume "$(AIRGAP):/var/lib/rancher/k3s/agent/images@server:0"; \
	fi
	$(MAKE) --no-print-directory image
	DOCKER=$(DOCKER) deploy/import.sh $(CLUSTER) $(IMAGE)
	@if [ -s $(AIRGAP)/postgres.tar ]; then DOCKER=$(DOCKER) deploy/import.sh --verify $(CLUSTER) $(POSTGRES_IMAGE); \
	else echo "PostgreSQL comes from the network (no $(AIRGAP)/postgres.tar: \`make prefetch\` ships it)"; fi
	$(KUBECTL) apply -f deploy/k8s/
	$(MAKE) --no-print-directory wait
	@echo "up: api $(API), worker $(WORKER); next: make smoke"
	@if [ "$(API_PORT) $(WORKER_PORT)" != "8080 8081" ]; then \
		echo "the runner: runner run <scenario> --target api=$(API),worker=$(WORKER)"; fi

down: ## delete the cluster (images stay in Docker for the next `make up`)
	k3d cluster delete $(CLUSTER)

# --network none: the build must never reach a registry. --load: a buildx
# builder of the docker-container driver keeps its result to itself
# without it, and `make up` would import an older image.
image: $(VENDORED) ## build the lab image, offline, from the crates `make prefetch` vendors
	@if $(DOCKER) buildx version >/dev/null 2>&1; then \
		echo "$(DOCKER) buildx build --load --network none --tag $(IMAGE) ."; \
		$(DOCKER) buildx build --load --network none --tag $(IMAGE) .; \
	else \
		echo "DOCKER_BUILDKIT=1 $(DOCKER) build --network none --tag $(IMAGE) ."; \
		DOCKER_BUILDKIT=1 $(DOCKER) build --network none --tag $(IMAGE) .; \
	fi

dev: image ## after an edit in lab/: build once, import (verified), re-apply the manifests, restart the roles, wait
	DOCKER=$(DOCKER) deploy/import.sh $(CLUSTER) $(IMAGE)
	$(KUBECTL) apply -f deploy/k8s/
	$(KUBECTL) rollout restart deployment/api deployment/worker deployment/dep
	$(MAKE) --no-print-directory wait
	@echo "dev: the cluster runs your code, $$(( $$(date +%s) - $(STARTED) )) s after make began"

apply: ## after an edit in deploy/k8s/ only (case 4): apply the manifests and wait, no image build
	$(KUBECTL) apply -f deploy/k8s/
	$(MAKE) --no-print-directory wait
	@echo "apply: the cluster runs your manifests, $$(( $$(date +%s) - $(STARTED) )) s after make began"

wait: ## wait until PostgreSQL and every role are ready
	$(KUBECTL) rollout status statefulset/postgres --timeout=180s
	$(KUBECTL) rollout status deployment/dep --timeout=120s
	$(KUBECTL) rollout status deployment/api --timeout=120s
	$(KUBECTL) rollout status deployment/worker --timeout=120s

smoke: ## the api, the worker, dep through the api, and PostgreSQL through readiness
	curl -fsS --max-time 5 $(API)/healthz && echo
	curl -fsS --max-time 5 $(API)/readyz && echo
	curl -fsS --max-time 10 -X POST $(API)/cases/tx -H 'content-type: application/json' \
		-d '{"product_id":1,"quantity":1}' && echo
	curl -fsS --max-time 5 $(WORKER)/readyz && echo
	curl -fsS --max-time 5 -X POST $(WORKER)/batches -H 'content-type: application/json' \
		-d '{"fast":1,"slow":0}' && echo
	@echo "smoke: all answered"

reset: ## wipe the api's rows and the worker's batches and queues; the cluster stays
	curl -fsS --max-time 10 -X POST $(API)/admin/reset && echo
	curl -fsS --max-time 10 -X POST $(WORKER)/admin/reset && echo

# The HPA keeps replicas for its scale-down window (300 s) after a run, and
# a rerun would start pre-scaled: `runner run autoscale` refuses it. This
# scales the api to the HPA's minimum and re-creates the HPA, so that it
# forgets the last run's recommendations.
rescale: ## case 4: the api back at its HPA's minimum, with an HPA that forgets the last run, for a rerun at once
	@min=$$($(KUBECTL) create --dry-run=client -o jsonpath='{.spec.minReplicas}' -f deploy/k8s/api-hpa.yaml); \
	min=$${min:-1}; \
	$(KUBECTL) delete hpa/api --ignore-not-found && \
	$(KUBECTL) scale deployment/api --replicas=$$min && \
	$(KUBECTL) apply -f deploy/k8s/api-hpa.yaml && \
	$(KUBECTL) rollout status deployment/api --timeout=120s && \
	echo "rescale: the api runs $$min replica(s), the HPA starts afresh; next: runner run autoscale"
