#!/usr/bin/env python3
"""The runner as a load generator, side by side with oha (or wrk).

For each rate (default 1000 and 5000 req/s) a trivial server (`lab dep`,
GET /work answers at once) runs alone on CPU 1, and the generator on CPU 0:

- runner: `runner run` of a throwaway scenario at that rate. Achieved rate
  is the mean of the full seconds' sent counts over the intended rate.
- oha: `oha -q RATE` for the same time; wrk (`-t1`, closed loop at its
  maximum) when oha is not installed, and the table says so.

Generator CPU per request is the generator process's user+system time over
the requests it sent. This machine's CPU time per request varies by tens of
percent from one minute to the next, so each rate runs several rounds, the
two generators taking turns, and the table shows the median of each (the
spread of the runner/oha ratio beside it). Floors: runner rate within 1% of
intended, runner CPU per request at most 1.2x oha's.

    bench/generator.py                 # 1000 and 5000 req/s, 10 s each, 3 rounds
    bench/generator.py --rates 2000 --seconds 20 --rounds 5
    bench/generator.py --answers       # the runner also classifies every answer
"""

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for(url, within=10):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{url} did not answer within {within} s")


SCENARIO = """
[bench]
case = 1
description = "generator benchmark"
service = "api"
path = "/work"
rate = {rate}
duration = "{seconds}s"
request_cap = "1s"
hint = "none"
files = ["bench/generator.py"]

{answers}
[[bench.checks]]
metric = "goodput"
target = 1.0
zero = 0.0
weight = 1
"""


# With --answers, the runner also reads every answer's class (dep's
# `outcome` field) and whether a full one came in time, as case 1 reads
# its `source`.
ANSWERS = """
[bench.answers]
field = "outcome"
full = ["ok"]
degraded = ["fallback"]
within = "1s"
"""


def run_runner(rate, seconds, base, answers):
    folder = tempfile.mkdtemp(prefix="bench-generator-")
    with open(os.path.join(folder, "scenarios.toml"), "w") as f:
        f.write(SCENARIO.format(rate=rate, seconds=seconds, answers=ANSWERS if answers else ""))
    before = child_cpu()
    out = subprocess.run(
        ["taskset", "-c", "0", os.path.join(ROOT, "target/release/runner"), "run", "bench", "--json",
         "--target", f"api={base}", "--reports", os.path.join(folder, "reports")],
        cwd=folder, capture_output=True, text=True, check=True)
    cpu = child_cpu() - before
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    with open(summary["data"]) as f:
        data = json.load(f)
    full = [s["sent"] for s in data["totals"]["seconds"][:seconds]]
    achieved = sum(full) / len(full)
    shutil.rmtree(folder, ignore_errors=True)
    return achieved, cpu / max(summary["sent"], 1), summary["sent"]


def run_oha(rate, seconds, url):
    before = child_cpu()
    out = subprocess.run(
        ["taskset", "-c", "0", "oha", "-z", f"{seconds}s", "-q", str(rate), "--no-tui",
         "--output-format", "json", url], capture_output=True, text=True, check=True)
    cpu = child_cpu() - before
    result = json.loads(out.stdout)
    sent = sum(result.get("statusCodeDistribution", {}).values())
    return sent / seconds, cpu / max(sent, 1), sent


def run_wrk(seconds, url):
    before = child_cpu()
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c64", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True)
    cpu = child_cpu() - before
    total = next(int(line.split()[0]) for line in out.stdout.splitlines() if "requests in" in line)
    return total / seconds, cpu / max(total, 1), total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--answers", action="store_true", help="the runner reads each answer's class too")
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "lab", "-p", "runner"], cwd=ROOT, check=True)
    other = "oha" if shutil.which("oha") else "wrk"
    if other == "wrk" and not shutil.which("wrk"):
        sys.exit("neither oha (cargo install oha) nor wrk (apt-get install -y wrk) is installed")

    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "1", os.path.join(ROOT, "target/release/lab"), "dep", "--listen", f"127.0.0.1:{port}"],
        env={**os.environ, "TOKIO_WORKER_THREADS": "1", "RUST_LOG": "warn"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        wait_for(base + "/healthz")
        print(f"{'rate/s':>7} {'runner achieved':>16} {'runner us/req':>14} {other + ' achieved':>14} {other + ' us/req':>11} {'ratio':>6} {'ratio range':>12}")
        for rate in args.rates:
            rounds = []
            for _ in range(args.rounds):
                r_rate, r_cpu, _ = run_runner(rate, args.seconds, base, args.answers)
                if other == "oha":
                    o_rate, o_cpu, _ = run_oha(rate, args.seconds, base + "/work")
                else:
                    o_rate, o_cpu, _ = run_wrk(args.seconds, base + "/work")
                rounds.append((r_rate, r_cpu, o_rate, o_cpu, r_cpu / o_cpu))
            r_rate, r_cpu, o_rate, o_cpu = (statistics.median(r[i] for r in rounds) for i in range(4))
            ratios = [r[4] for r in rounds]
            ratio = r_cpu / o_cpu
            accuracy = min(r[0] for r in rounds) / rate
            print(f"{rate:>7} {r_rate:>10.1f} ({accuracy:>5.1%}) {r_cpu * 1e6:>12.1f} {o_rate:>14.1f} {o_cpu * 1e6:>11.1f} {ratio:>6.2f} {min(ratios):>5.2f}-{max(ratios):.2f}")
            if abs(accuracy - 1) > 0.01:
                print(f"  FAIL: runner rate is {accuracy:.1%} of intended in its worst round (floor: within 1%)")
                failed = True
            if ratio > 1.2:
                print(f"  FAIL: runner CPU per request is {ratio:.2f}x {other}'s (floor: 1.2x)")
                failed = True
        if other == "wrk":
            print("note: oha is not installed; wrk runs closed-loop at its maximum rate, so its column is not rate-matched")
    finally:
        server.terminate()
        server.wait()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
