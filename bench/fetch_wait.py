#!/usr/bin/env python3
"""File: bench/fetch_wait.py

What the consumers' fetch.wait.max.ms costs and buys on each broker: for each value,
an idle cook's CPU and its brokers' CPU over an idle interval, then the wait from
placing an order to the cook starting it, for orders placed one at a time (the case
the setting is for: an idle consumer woken by one order).

On real Kafka a fetch that finds no data waits up to fetch.wait.max.ms on the broker
and is answered as soon as data arrives; librdkafka's mock (the dev broker) holds an
empty fetch for the whole wait. So the value trades idle requests against latency on
the mock, and only idle requests on Kafka. README, "The consumers' fetch wait", has the
figures.

    bazel build -c opt //waiter //cook //deploy/devbroker
    bench/fetch_wait.py [--values 2,50,100,500] [--idle 20] [--orders 20]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bazel-bin")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_pids(pid):
    """The JVMs under a tools/kafka supervisor."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                pass
    return found


class Broker:
    def __init__(self, kind, work):
        self.kind = kind
        out = open(os.path.join(work, f"{kind}.out"), "w+")
        err = open(os.path.join(work, f"{kind}.log"), "w")
        if kind == "dev":
            argv = [os.path.join(BIN, "deploy/devbroker/devbroker"), "--port", "0",
                    "--control=false"]
        else:
            argv = [os.path.join(ROOT, "tools/kafka"), "--state_dir",
                    os.path.join(work, "kafka"), "up", "--foreground", "--nodes", "3",
                    "--stop_timeout", "5"]
        self.process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            out.seek(0)
            line = out.readline().strip()
            if line:
                self.bootstrap = line
                break
            if self.process.poll() is not None:
                raise SystemExit(f"{kind} broker did not start; see {err.name}")
            time.sleep(0.1)
        else:
            raise SystemExit(f"{kind} broker did not start in time")
        self.pids = [self.process.pid] if kind == "dev" else children_pids(self.process.pid)

    def cpu(self):
        return sum(cpu_seconds(pid) for pid in self.pids)

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def measure(broker, value, args, work):
    group = f"fetch-wait-{value}-{time.monotonic_ns()}"
    log_path = os.path.join(work, f"cook-{broker.kind}-{value}.log")
    cook = subprocess.Popen(
        [os.path.join(BIN, "cook/cook"), "--brokers", broker.bootstrap, "--group", group,
         "--prep_time", "0", "-X", f"fetch.wait.max.ms={value}"],
        stderr=open(log_path, "w"), stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while "partitions assigned" not in open(log_path).read():
            if time.monotonic() > deadline:
                raise SystemExit(f"cook never joined; see {log_path}")
            time.sleep(0.1)
        time.sleep(2)  # Let the join's own traffic pass before the idle interval.
        cook_before, broker_before = cpu_seconds(cook.pid), broker.cpu()
        time.sleep(args.idle)
        idle_cook = (cpu_seconds(cook.pid) - cook_before) / args.idle
        idle_broker = (broker.cpu() - broker_before) / args.idle
        # Only the orders placed from here on: the group started from the earliest
        # offset, so the topic's older orders were cooked during the join.
        skip = len(open(log_path).read())
        for i in range(args.orders):
            subprocess.run([os.path.join(BIN, "waiter/waiter"), "--brokers", broker.bootstrap,
                            "margherita", str(i % 12 + 1)], capture_output=True, check=True)
            time.sleep(0.5)
        deadline = time.monotonic() + 30
        while open(log_path).read()[skip:].count(" cooking ") < args.orders:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        scale = {"s": 1000, "ms": 1, "us": 0.001}  # absl::FormatDuration's units.
        waits = [float(number) * scale[unit] for number, unit in
                 re.findall(r" cooking .* placed ([0-9.]+)(s|ms|us) ago", open(log_path).read()[skip:])]
    finally:
        cook.terminate()
        cook.wait(30)
    waits.sort()
    return {"broker": broker.kind, "fetch.wait.max.ms": value,
            "idle cook CPU %": 100 * idle_cook, "idle broker CPU %": 100 * idle_broker,
            "placed->cooking p50 ms": statistics.median(waits) if waits else None,
            "max ms": waits[-1] if waits else None, "orders": len(waits)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--values", default="2,50,100,500")
    parser.add_argument("--idle", type=float, default=20, help="idle seconds measured")
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--brokers", default="dev,kafka")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="fetch-wait.")
    rows = []
    for kind in args.brokers.split(","):
        broker = Broker(kind, work)
        try:
            for value in [int(v) for v in args.values.split(",")]:
                rows.append(measure(broker, value, args, work))
                print(rows[-1], flush=True)
        finally:
            broker.stop()
    print("\n| broker | fetch.wait.max.ms | idle cook CPU | idle broker CPU | placed → cooking p50 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['broker']} | {r['fetch.wait.max.ms']} | {r['idle cook CPU %']:.1f}% | "
              f"{r['idle broker CPU %']:.1f}% | {r['placed->cooking p50 ms']:.1f} ms | "
              f"{r['max ms']:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
