# Resilience Lab. `make help` lists the targets; each one is a thin wrapper
# around a command that can also be run by hand (see README.md).

.DEFAULT_GOAL := help
.PHONY: help build demo test solve unsolve tags

# The runner, built on first use (dev profile, as the local stack uses);
# cargo shows its progress, since the first build takes a few minutes.
RUNNER := cargo run --package runner --

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN { FS = ":.*## " } { printf "  make %-10s %s\n", $$1, $$2 }'

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
