# Resilience Lab. `make help` lists the targets; each one is a thin wrapper
# around a command that can also be run by hand (see README.md).

.DEFAULT_GOAL := help
.PHONY: help build demo test solve unsolve tags \
	preflight prefetch prefetch-local up down image dev apply wait smoke reset

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
API            := http://localhost:8080
WORKER         := http://localhost:8081

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

preflight: ## check the tools, Docker (running, 4+ CPUs, 6+ GB) and ports 8080/8081
	CLUSTER=$(CLUSTER) K3S_IMAGE=$(K3S_IMAGE) AIRGAP=$(AIRGAP) deploy/preflight.sh

prefetch-local: ## fetch every crate the workspace builds from (cargo fetch --locked), so the local path builds offline
	cargo fetch --locked

# PostgreSQL goes to the node through the airgap folder too (postgres.tar):
# k3s loads every tarball there when it starts, whatever Docker's image
# store, where `k3d image import` of it is known to fail.
prefetch: prefetch-local ## prefetch-local, then every image the cluster needs, into Docker and the airgap folder (k3s's system images, PostgreSQL), for offline use
	@version=$$(k3d version | sed -nE 's/^k3d version v(.*)/\1/p'); \
	for image in $(K3S_IMAGE) $(POSTGRES_IMAGE) $(BASE_IMAGES) \
		ghcr.io/k3d-io/k3d-tools:$$version ghcr.io/k3d-io/k3d-proxy:$$version; do \
		echo "docker pull $$image"; docker pull "$$image" || exit 1; \
	done
	@case "$$(docker info --format '{{.Architecture}}')" in \
		x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; \
		*) echo "k3s ships system images for amd64 and arm64 only" >&2; exit 1 ;; \
	esac; \
	file=$(AIRGAP)/k3s-airgap-images-$$arch.tar.zst; \
	url=https://github.com/k3s-io/k3s/releases/download/$(K3S_RELEASE)/k3s-airgap-images-$$arch.tar.zst; \
	mkdir -p $(AIRGAP); \
	if [ -s "$$file" ]; then echo "have $$file"; else \
		echo "curl $$url"; curl -fL --retry 3 -o "$$file.part" "$$url" && mv "$$file.part" "$$file"; \
	fi
	docker save --output $(AIRGAP)/postgres.tar.part $(POSTGRES_IMAGE)
	mv $(AIRGAP)/postgres.tar.part $(AIRGAP)/postgres.tar

up: ## create the cluster (or reuse it), build and import the image, apply the manifests, wait for every role
	@if k3d cluster get $(CLUSTER) >/dev/null 2>&1; then \
		echo "reusing the cluster $(CLUSTER)"; k3d cluster start $(CLUSTER); \
	else \
		mkdir -p $(AIRGAP); \
		k3d cluster create --config deploy/k3d-config.yaml \
			--volume "$(AIRGAP):/var/lib/rancher/k3s/agent/images@server:0"; \
	fi
	$(MAKE) --no-print-directory image
	deploy/import.sh $(CLUSTER) $(IMAGE)
	@if [ -s $(AIRGAP)/postgres.tar ]; then deploy/import.sh --verify $(CLUSTER) $(POSTGRES_IMAGE); \
	else echo "PostgreSQL comes from the network (no $(AIRGAP)/postgres.tar: \`make prefetch\` ships it)"; fi
	$(KUBECTL) apply -f deploy/k8s/
	$(MAKE) --no-print-directory wait
	@echo "up: api $(API), worker $(WORKER); next: make smoke"

down: ## delete the cluster (images stay in Docker for the next `make up`)
	k3d cluster delete $(CLUSTER)

image: ## build the lab image (dependencies come from BuildKit's cache)
	DOCKER_BUILDKIT=1 docker build --tag $(IMAGE) .

dev: image ## after an edit in lab/: build once, import (verified), re-apply the manifests, restart the roles, wait
	deploy/import.sh $(CLUSTER) $(IMAGE)
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
