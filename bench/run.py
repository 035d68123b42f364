#!/usr/bin/env python3
"""The kitchen's benchmark: throughput, latency and memory, side by side with kcat.

Run it with tools/bench (installs, builds with -c opt, then runs this). By hand:

    /usr/bin/python3 bench/run.py --bin "$(bazel info -c opt bazel-bin)" --out results

Every figure is measured on each broker asked for: the dev broker (librdkafka's mock
cluster, in memory, a fresh one per run, started on a free port) by default; with
--kafka a real Kafka cluster of 3 nodes (replication 3) and of 1 node (tools/kafka);
with --all those and the dev broker. bench/README.md says what each figure means and
what limits it. Writes OUT/bench.md (the tables, side by side), OUT/bench.json (the
raw numbers) and OUT/latency.png.
Every process started here is stopped when the run ends, fails or is interrupted.

This file is the command line and the order of the phases; the processes are
processes.py, the Kafka settings (read from the binaries) settings.py, the
measurements phases.py, the tables and the plot report.py.
"""

import argparse
import json
import os
import shutil
import tempfile
import time

from brokers import DevBrokers, KafkaBrokers
from phases import Phases
from processes import Runner, progress, stop_everything, stop_everything_at_exit
from report import load_average, machine_info, write_report
from settings import service_settings


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="bazel-bin of an -c opt build")
    parser.add_argument("--out", default="results", help="where bench.md/json/png go")
    # On the dev broker 100,000: librdkafka 2.0.2's mock keeps at most 5 MiB a
    # partition (rdkafka_mock.c, max_size), and 200,000 orders with the waiter's three
    # headers put more than that on the fullest partition (keys 1..100 over 6
    # partitions, ~24 % on one): it dropped the oldest batches and the read-back came
    # up ~3,000 short.
    parser.add_argument("--count", type=int, default=100000,
                        help="orders per producer run on the dev broker")
    parser.add_argument("--repeats", type=int, default=15,
                        help="runs of each producer, alternated (a run is under a second, "
                        "and on a shared 2-core machine one run can take twice another's time)")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--latency_s", type=float, default=6, help="measured seconds per rate")
    parser.add_argument("--warmup_s", type=float, default=1,
                        help="first seconds of each rate left out of the percentiles")
    parser.add_argument("--no_variants", dest="variants", action="store_false",
                        help="skip the runs with other linger.ms / fetch.wait.max.ms settings")
    parser.add_argument("--single_orders", type=int, default=20)
    parser.add_argument("--backlog", type=int, default=100000,
                        help="the manager's catch-up backlog on the dev broker (its 5 MiB a "
                        "partition, see --count)")
    parser.add_argument("--kafka_backlog", type=int, default=200000,
                        help="the manager's catch-up backlog on Kafka")
    parser.add_argument("--small_backlog", type=int, default=20000,
                        help="backlog for group commit vs one fsync per order")
    parser.add_argument("--timeout_s", type=float, default=180)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: small counts, short rates (figures not meaningful)")
    parser.add_argument("--keep", action="store_true", help="keep the logs of every process")
    parser.add_argument("--kafka", action="store_true",
                        help="on real Kafka (3 nodes, then 1) instead of the dev broker")
    parser.add_argument("--all", action="store_true",
                        help="on real Kafka (3 nodes, 1 node) and on the dev broker")
    parser.add_argument("--kafka_count", type=int, default=100000,
                        help="orders per producer run on Kafka (every run stays on disk)")
    parser.add_argument("--kafka_repeats", type=int, default=7,
                        help="runs of each producer on Kafka, alternated (3 runs on 3 nodes "
                        "spread from 0.34x to 1.16x run by run; ProducerPerformance's JVM "
                        "start makes a round several seconds)")
    parser.add_argument("--kafka_small_backlog", type=int, default=5000,
                        help="backlog for group commit vs one fsync per order on Kafka "
                        "(one sync and one offset commit per order: 300 orders/s there)")
    parser.add_argument("--phases", nargs="+", default=["producer", "latency", "single", "ledger"],
                        choices=["producer", "latency", "single", "ledger"],
                        help="which phases to run (e.g. --phases latency)")
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 1],
                        help="with --kafka or --all: the cluster sizes, in order")
    parser.add_argument("--cook_arg", action="append", default=[],
                        help="an extra argument for the latency phase's cook, repeatable "
                        "(e.g. --cook_arg=-X --cook_arg=debug=eos; with --keep its log stays)")
    parser.add_argument("--kafka_tool", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "kafka"))
    args = parser.parse_args()
    if args.quick:
        args.count, args.repeats, args.latency_s = 20000, 1, 2
        args.backlog, args.small_backlog, args.single_orders = 20000, 2000, 3
        args.kafka_backlog = 20000
        args.kafka_count, args.kafka_repeats, args.kafka_small_backlog = 20000, 1, 2000
    clusters = [f"kafka-{n}" for n in args.nodes]
    targets = (clusters if args.kafka else clusters + ["dev"] if args.all else ["dev"])
    args.bin = os.path.abspath(args.bin)
    args.out = os.path.abspath(args.out)
    os.makedirs(os.path.join(args.out, "tmp"), exist_ok=True)
    args.work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(args.out, "tmp"))

    stop_everything_at_exit()

    results = {"machine": machine_info(), "load_at_start": load_average(), "brokers": {}}
    results["settings"] = {k: v for k, v in vars(args).items() if k not in ("work",)}
    started = time.monotonic()
    m = results["machine"]
    progress(f"bench: {m['nproc']} cores ({m['cpu_model']}), Linux {m['kernel']}, librdkafka "
             f"{m['librdkafka']}; logs in {args.work}")
    runner = Runner(args.bin, args.work)
    ok = False
    try:
        results["kafka_settings"] = service_settings(runner)
        progress("   Kafka settings from the binaries: waiter " +
                 " ".join(f"{k}={v}" for k, v in results["kafka_settings"]["kcat_producer"].items()) +
                 "; consumers " +
                 " ".join(f"{k}={v}" for k, v in results["kafka_settings"]["kcat_consumer"].items()))
        for target in targets:
            began = time.monotonic()
            own = {"producer": {}, "latency": {}, "single_order": {}, "ledger": {}}
            run_args = argparse.Namespace(**vars(args))
            if target == "dev":
                brokers = DevBrokers(runner)
            else:
                run_args.count, run_args.repeats = args.kafka_count, args.kafka_repeats
                run_args.small_backlog = args.kafka_small_backlog
                run_args.backlog = args.kafka_backlog
                progress(f"== {target}")
                brokers = KafkaBrokers(runner, args.kafka_tool, int(target.split("-")[1]))
            try:
                own["broker"] = {"kind": brokers.kind, "name": brokers.name,
                                 "description": brokers.description,
                                 "start_s": getattr(brokers, "start_s", None)}
                progress(f"== on the {brokers.name}")
                phases = Phases(runner, run_args, results["kafka_settings"], brokers, own)
                for phase in ("producer", "latency", "single", "ledger"):
                    if phase in args.phases:
                        {"producer": phases.producer_phase, "latency": phases.latency_phase,
                         "single": phases.single_order_phase,
                         "ledger": phases.ledger_phase}[phase]()
                own["broker_jvm_maxrss_kib"] = brokers.jvm_peaks()
            finally:
                brokers.stop()
            own["elapsed_s"] = round(time.monotonic() - began, 1)
            progress(f"   the {brokers.name}: {own['elapsed_s']:.0f} s")
            results["brokers"][target] = own
        results["load_at_end"] = load_average()
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        if len(args.phases) < 4:  # The tables need every phase: the raw numbers only.
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "bench.json"), "w") as f:
                json.dump(results, f, indent=2, default=str)
            progress(f"written: {args.out}/bench.json (phases {' '.join(args.phases)} only)")
        else:
            write_report(results, args.out)
        ok = True
    finally:
        stop_everything()
        if ok and not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
        elif not ok:
            progress(f"bench failed; the logs of every process are in {args.work}")
    progress(f"bench: done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
