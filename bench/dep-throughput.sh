#!/usr/bin/env bash
# dep's throughput against a plain axum "hello" route.
#
# Each server runs alone on CPU 1 (taskset, one tokio worker thread); wrk
# runs on CPU 0 over loopback. dep is called with no parameters (answer at
# once), the cheapest call it serves, which is what "never the bottleneck"
# is about. Passes when dep reaches at least 80% of plain.
#
#   bench/dep-throughput.sh            # 10 s per server, 64 connections
#   DURATION=30s CONNECTIONS=128 bench/dep-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
FLOOR=${FLOOR:-0.80}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset not found: apt-get install -y util-linux" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs: one for the server, one for wrk" >&2; exit 1; }

cargo build --release --quiet -p lab --bin lab --example plain_hello

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure NAME URL COMMAND...: prints requests per second
measure() {
    local name=$1 url=$2
    shift 2
    # The server's output goes to a file: it must not hold the pipe of the
    # $(...) that called us, or the caller would wait for it to exit.
    TOKIO_WORKER_THREADS=1 RUST_LOG=warn taskset -c 1 "$@" > "target/bench-$name.log" 2>&1 &
    local pid=$! started=no
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then started=yes; break; fi
        sleep 0.05
    done
    if [ "$started" = yes ]; then
        taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url" > "target/bench-$name.txt"
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ "$started" = yes ] || { echo "$name did not start; see target/bench-$name.log" >&2; return 1; }
    awk '/^Requests\/sec/ {print $2}' "target/bench-$name.txt"
}

hello_port=$(free_port)
plain=$(measure plain "http://127.0.0.1:$hello_port/" target/release/examples/plain_hello "127.0.0.1:$hello_port")
dep_port=$(free_port)
dep=$(measure dep "http://127.0.0.1:$dep_port/work" target/release/lab dep --listen "127.0.0.1:$dep_port")

ratio=$(python3 -c "print(f'{$dep / $plain:.3f}')")
printf 'plain axum hello : %10.0f req/s\n' "$plain"
printf 'lab dep /work    : %10.0f req/s\n' "$dep"
printf 'dep / plain      : %10s (floor %s)\n' "$ratio" "$FLOOR"
printf '(wrk output: target/bench-plain.txt, target/bench-dep.txt)\n'
python3 -c "import sys; sys.exit(0 if $ratio >= $FLOOR else 1)" || { echo "FAIL: dep is below the floor" >&2; exit 1; }
