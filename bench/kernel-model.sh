#!/usr/bin/env bash
# Case 4's model beside the real kernel: one `lab api` in a cgroup whose
# CPU quota is the api manifest's limit, driven by the runner at 50%, 90%,
# 110% and 150% of one pod's capacity, each rate beside what
# `runner model autoscale` predicts for that pod at that rate (answered
# share, p95, health probes failing). The table is printed and written to
# target/tmp/kernel/pod.md. Needs root and cgroup v1's cpu controller
# (/sys/fs/cgroup/cpu); PostgreSQL as `make test` finds it.
#
#   bench/kernel-model.sh                    # 30 s per rate
#   LAB_KERNEL_SECONDS=60 bench/kernel-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CI=${CI:-true} cargo run --quiet --package runner -- with-postgres -- \
    cargo test --package runner --test runner kernel:: -- --nocapture
