"""File: bench/phases.py

The benchmark's measurements, each a phase that starts its own devbrokers and
services and leaves its figures in the results (bench/README.md says what each
means):
  1. producer: waiter load mode vs kcat -P of the same records;
  2. end-to-end latency, waiter to cook, at each rate; 2b. one order as a person
     places it;
  3. ledger: the manager catching up a backlog vs kcat -C to a file, and group
     commit vs one fsync per order.

    phases = Phases(runner, args, kafka_settings, results)
    phases.producer_phase()   # results["producer"]
"""

import os
import re
import statistics
import subprocess
import time

from parsing import parse_absl_duration, parse_log_time, percentile, placed_at
from processes import Proc, progress, read_text, wait_for
from settings import as_x

TOPIC = "pizza-order"
CONTENT_TYPE = "application/x-protobuf; messageType=kitchen.v1.Order"  # orders/order_record.h
SAMPLE_ORDER_ID = "00000000-0000-4000-8000-000000000000"  # same length as the waiter's UUIDs
DUMP_DELIMITER = b"\x1e~KITCHEN-BENCH-RECORD-END~\x1f"  # between records of the kcat input


class Phases:
    def __init__(self, runner, args, kafka, results):
        self.runner = runner
        self.args = args
        self.kafka = kafka
        self.results = results
        self.kcat_fetch = as_x(kafka["kcat_consumer"])

    # -- helpers ------------------------------------------------------------------------

    def topic_count(self, address):
        """Records in pizza-order: the sum over partitions of the last offset + 1."""
        proc = self.runner.run("kcat-count", ["kcat", "-b", address, "-C", "-t", TOPIC, "-o", "-1",
                                       "-e", "-q", *self.kcat_fetch, "-f", "%p %o\n"], timeout=60)
        total = 0
        for line in read_text(proc.out_path).splitlines():
            if line.strip():
                total += int(line.split()[1]) + 1
        return total

    def waiter(self, address, count, extra=(), name="waiter", timeout=300):
        argv = [self.runner.binary("waiter/waiter"), "--brokers", address, "--count", str(count),
                "--seed", "1", *extra]
        started_unix = time.time()
        proc = self.runner.run(name, argv, timeout=timeout)
        summary = read_text(proc.out_path).strip().splitlines()[-1]
        match = re.match(r"(\d+) sent, (\d+) acknowledged, (\d+) failed, (\d+) skipped in "
                         r"([\d.]+) s: (\d+) orders/s; delivery latency p50 ([\d.]+) ms, "
                         r"p99 ([\d.]+) ms", summary)
        if not match or int(match.group(2)) != count:
            raise RuntimeError(f"waiter did not place {count} orders: {summary}")
        return {
            "wall_s": proc.wall, "cpu_s": proc.cpu_s, "maxrss_kib": proc.maxrss_kib,
            "summary": summary, "started_unix": started_unix,
            "own_orders_per_s": int(match.group(6)),
            "ack_p50_ms": float(match.group(7)), "ack_p99_ms": float(match.group(8)),
        }

    # -- 1. producer ----------------------------------------------------------------------

    def dump_records(self, address, count):
        """The waiter's records, as kcat -P input: KEY \\t VALUE, then the delimiter, in
        the order the waiter placed them (by placed_at). kcat -C reads a topic partition
        by partition; fed that order, kcat -P would fill one partition's batches at a
        time, measured 1.3x faster than the same records in the order placed."""
        fmt = "%k\t%s" + "".join(f"\\x{b:02x}" for b in DUMP_DELIMITER)
        proc = self.runner.run("kcat-dump", ["kcat", "-b", address, "-C", "-t", TOPIC, "-e", "-o",
                                      "beginning", "-q", *self.kcat_fetch, "-f", fmt], timeout=120)
        with open(proc.out_path, "rb") as f:
            data = f.read()
        records = data.split(DUMP_DELIMITER)
        if records and records[-1] == b"":
            records.pop()
        if len(records) != count:
            raise RuntimeError(f"dumped {len(records)} records, expected {count} (does the "
                               "delimiter occur inside a value?)")
        keys = set()
        value_bytes = 0
        placed = []
        for record in records:
            key, tab, value = record.partition(b"\t")
            if not tab or not key.isdigit():
                raise RuntimeError(f"unexpected dumped record {record[:80]!r}")
            keys.add(int(key))
            value_bytes += len(value)
            when = placed_at(value)
            if when == (0, 0):
                raise RuntimeError(f"a dumped order without placed_at: {record[:80]!r}")
            placed.append((when, record))
        placed.sort(key=lambda pair: pair[0])  # Stable: ties keep a partition's order.
        input_path = self.runner.path("kcat-input")
        with open(input_path, "wb") as f:
            for _, record in placed:
                f.write(record + DUMP_DELIMITER)
        return input_path, {"records": len(records), "value_bytes": value_bytes,
                            "mean_value_bytes": value_bytes / len(records),
                            "distinct_keys": len(keys), "min_key": min(keys),
                            "max_key": max(keys)}

    def kcat_produce(self, address, input_path):
        argv = ["kcat", "-b", address, "-P", "-t", TOPIC, "-K", "\\t", "-D",
                "".join(f"\\x{b:02x}" for b in DUMP_DELIMITER),
                *as_x(self.kafka["kcat_producer"]),
                "-H", f"content-type={CONTENT_TYPE}", "-H", f"order-id={SAMPLE_ORDER_ID}"]
        with open(input_path, "rb") as stdin:
            proc = self.runner.run("kcat-produce", argv, timeout=300, stdin=stdin)
        return {"wall_s": proc.wall, "cpu_s": proc.cpu_s, "maxrss_kib": proc.maxrss_kib}

    def on_fresh_broker(self, who, n, produce, then=None):
        """produce(address) on a fresh devbroker, which must then hold `n` records;
        then(address) before the broker stops. What produce returned."""
        broker = self.runner.start_broker()
        try:
            result = produce(broker.address)
            counted = self.topic_count(broker.address)
            if counted != n:
                raise RuntimeError(f"topic holds {counted} records after {who}, not {n}")
            if then is not None:
                then(broker.address)
        finally:
            broker.stop()
        return result

    @staticmethod
    def with_rates(run, n, records):
        """`run` with its orders/s and MB/s of values, for `n` orders of `records`."""
        run["orders_per_s"] = n / run["wall_s"]
        run["value_mb_per_s"] = records["value_bytes"] / run["wall_s"] / 1e6
        return run

    def producer_phase(self):
        n, repeats = self.args.count, self.args.repeats
        progress(f"== 1. producer: waiter --count {n} vs kcat -P, {repeats} runs each, a fresh "
                 "devbroker per run")
        waiter_runs, kcat_runs = [], []
        input_path, records = None, None

        def read_back(address):  # Once: the first waiter run's records feed every kcat run.
            nonlocal input_path, records
            if input_path is None:
                input_path, records = self.dump_records(address, n)
                progress(f"   kcat input: the waiter's {records['records']} records read "
                         f"back (values {records['mean_value_bytes']:.1f} B on average, "
                         f"keys {records['min_key']}..{records['max_key']})")

        for run in range(1, repeats + 1):
            w = self.on_fresh_broker(
                "the waiter", n,
                lambda address: self.waiter(address, n, name=f"waiter-produce-{run}"),
                then=read_back)
            waiter_runs.append(self.with_rates(w, n, records))
            progress(f"   run {run}: waiter {w['wall_s']:.2f} s = {w['orders_per_s']:,.0f} orders/s "
                     f"(its own count: {w['own_orders_per_s']:,}/s), peak RSS "
                     f"{w['maxrss_kib'] / 1024:.1f} MiB")

            k = self.on_fresh_broker(
                "kcat", n, lambda address: self.kcat_produce(address, input_path))
            kcat_runs.append(self.with_rates(k, n, records))
            progress(f"   run {run}: kcat   {k['wall_s']:.2f} s = {k['orders_per_s']:,.0f} orders/s, "
                     f"peak RSS {k['maxrss_kib'] / 1024:.1f} MiB")

        def median(runs, key):
            return statistics.median(r[key] for r in runs)

        result = {"count": n, "repeats": repeats, "records": records,
                  "waiter_runs": waiter_runs, "kcat_runs": kcat_runs}
        for who, runs in (("waiter", waiter_runs), ("kcat", kcat_runs)):
            result[who] = {key: median(runs, key) for key in
                           ("wall_s", "orders_per_s", "value_mb_per_s", "cpu_s", "maxrss_kib")}
        result["ratio"] = result["waiter"]["orders_per_s"] / result["kcat"]["orders_per_s"]
        # Each waiter run against the kcat run right after it: the machine's drift between
        # pairs cancels out.
        pair_ratios = sorted(w["orders_per_s"] / k["orders_per_s"]
                             for w, k in zip(waiter_runs, kcat_runs))
        result["pair_ratios"] = pair_ratios
        result["pair_ratio_median"] = statistics.median(pair_ratios)
        # The fastest run of each: noise only ever slows a run down.
        result["best_ratio"] = (max(w["orders_per_s"] for w in waiter_runs) /
                                max(k["orders_per_s"] for k in kcat_runs))
        self.results["producer"] = result
        progress(f"   median: waiter {result['waiter']['orders_per_s']:,.0f} orders/s, kcat "
                 f"{result['kcat']['orders_per_s']:,.0f} orders/s: {result['ratio']:.2f}x; "
                 f"fastest runs {result['best_ratio']:.2f}x; run by run: median "
                 f"{result['pair_ratio_median']:.2f}x, {pair_ratios[0]:.2f}x to "
                 f"{pair_ratios[-1]:.2f}x")

    # -- 2. end-to-end latency ----------------------------------------------------------

    def start_cook(self, address, group, extra=()):
        cook = self.runner.start(f"cook-{group}", [self.runner.binary("cook/cook"), "--brokers", address,
                                            "--group", group, "--prep_time=0",
                                            "--lag_interval=0", *extra])
        started = time.monotonic()
        wait_for(lambda: "partitions assigned" in read_text(cook.err_path), 60,
                 "the cook's partitions", cook)
        cook.join_s = time.monotonic() - started
        cook.log_offset = 0
        cook.cooked = 0
        return cook

    _COOKING = re.compile(r"^(\S+) INFO  cook: cooking .* placed (\S+) ago\)$")

    def cooked_lines(self, cook):
        """New "cooking" lines since the last call: (log time, waited seconds)."""
        with open(cook.err_path, "rb") as f:
            f.seek(cook.log_offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        cook.log_offset += end
        found = []
        for line in data[:end].decode(errors="replace").splitlines():
            match = self._COOKING.match(line)
            if match:
                found.append((parse_log_time(match.group(1)),
                              parse_absl_duration(match.group(2))))
        return found

    def latency_run(self, cook, address, label, rate, seconds, waiter_extra=()):
        count = int(rate * seconds)
        warmup = self.args.warmup_s
        progress(f"   {label}: {count} orders at {rate}/s ({seconds:.0f} s)")
        w = self.waiter(address, count, extra=["--rate", str(rate), *waiter_extra],
                        name=f"waiter-{rate}")
        lines = []
        deadline = time.monotonic() + 60
        while len(lines) < count and time.monotonic() < deadline:
            lines += self.cooked_lines(cook)
            if len(lines) < count:
                time.sleep(0.02)
        if len(lines) < count:
            raise RuntimeError(f"the cook logged {len(lines)} of {count} orders within 60 s")
        all_ms = sorted(waited * 1e3 for _, waited in lines)
        steady_ms = sorted(waited * 1e3 for logged, waited in lines
                           if logged - waited >= w["started_unix"] + warmup)
        stalled = sum(1 for v in all_ms if v >= 500)

        def stats(values):
            return {"orders": len(values), "p50_ms": percentile(values, 0.50),
                    "p99_ms": percentile(values, 0.99), "p999_ms": percentile(values, 0.999),
                    "max_ms": values[-1] if values else float("nan"),
                    "mean_ms": statistics.fmean(values) if values else float("nan")}

        result = {"label": label, "rate": rate, "count": count, "waiter_extra": list(waiter_extra),
                  "steady": stats(steady_ms), "all": stats(all_ms), "stalled_500ms": stalled,
                  "waiter_ack_p50_ms": w["ack_p50_ms"], "waiter_ack_p99_ms": w["ack_p99_ms"],
                  "waiter_maxrss_kib": w["maxrss_kib"], "waiter_cpu_s": w["cpu_s"],
                  "waiter_wall_s": w["wall_s"]}
        s = result["steady"]
        progress(f"      p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, p99.9 "
                 f"{s['p999_ms']:.2f} ms, max {s['max_ms']:.2f} ms (after the first {warmup:g} s; "
                 f"all orders: max {result['all']['max_ms']:.1f} ms, {stalled} waited >= 500 ms)")
        return result

    def latency_phase(self):
        seconds = self.args.latency_s + self.args.warmup_s
        rates = self.args.rates
        progress(f"== 2. end-to-end latency: one cook (--prep_time=0), the waiter at "
                 f"{', '.join(map(str, rates))}/s, {seconds:g} s each")
        runs = []
        cook_rss, cook_cpu = [], []
        broker = self.runner.start_broker()
        try:
            cook = self.start_cook(broker.address, "bench-latency")
            progress(f"   cook joined its group in {cook.join_s:.1f} s")
            try:
                for rate in rates:
                    runs.append(self.latency_run(cook, broker.address, f"{rate}/s", rate, seconds))
                if self.args.variants:
                    runs.append(self.latency_run(cook, broker.address,
                                                 "1000/s, waiter -X linger.ms=0", 1000, seconds,
                                                 ["-X", "linger.ms=0"]))
                    if max(rates) >= 10000:
                        runs.append(self.latency_run(cook, broker.address,
                                                     "10000/s, waiter -X linger.ms=5", 10000,
                                                     seconds, ["-X", "linger.ms=5"]))
            finally:
                cook.stop()
            cook_rss.append(cook.maxrss_kib)
            cook_cpu.append(cook.cpu_s)
        finally:
            broker.stop()
        if self.args.variants:
            progress("   a fresh devbroker and cook with -X fetch.wait.max.ms=1 (the mock does not "
                     "answer a waiting fetch early)")
            broker = self.runner.start_broker()
            try:
                cook = self.start_cook(broker.address, "bench-latency-fetch1",
                                       ["-X", "fetch.wait.max.ms=1"])
                try:
                    runs.append(self.latency_run(
                        cook, broker.address,
                        "1000/s, waiter -X linger.ms=0, cook -X fetch.wait.max.ms=1", 1000,
                        seconds, ["-X", "linger.ms=0"]))
                finally:
                    cook.stop()
                cook_rss.append(cook.maxrss_kib)
            finally:
                broker.stop()
        self.results["latency"] = {"seconds_per_rate": seconds, "warmup_s": self.args.warmup_s,
                                   "runs": runs, "cook_maxrss_kib": max(cook_rss),
                                   "cook_cpu_s": cook_cpu[0]}

    def single_order_phase(self):
        n = self.args.single_orders
        progress(f"== 2b. one order as a person places it: `waiter margherita 17`, {n} times")
        broker = self.runner.start_broker()
        walls = []
        try:
            for i in range(n):
                proc = self.runner.run("waiter-one", [self.runner.binary("waiter/waiter"), "--brokers",
                                               broker.address, "margherita", "17"], timeout=60)
                walls.append(proc.wall * 1e3)
        finally:
            broker.stop()
        ordered = sorted(walls)
        result = {"runs": n, "wall_ms": walls, "p50_ms": percentile(ordered, 0.5),
                  "max_ms": ordered[-1], "min_ms": ordered[0],
                  "over_500ms": sum(1 for v in walls if v >= 500)}
        self.results["single_order"] = result
        progress(f"   wall time: min {result['min_ms']:.0f} ms, median {result['p50_ms']:.0f} ms, "
                 f"max {result['max_ms']:.0f} ms; {result['over_500ms']} of {n} took >= 500 ms")

    # -- 3. ledger -----------------------------------------------------------------------

    def kcat_consume(self, address, count):
        out_path = self.runner.path("kcat-consume.txt")
        argv = ["kcat", "-b", address, "-C", "-t", TOPIC, "-e", "-o", "beginning", "-q",
                *self.kcat_fetch, "-f", "%k %s\n"]
        with open(out_path, "wb") as out:
            proc = Proc("kcat-consume", argv, stdout=out, stderr=subprocess.DEVNULL)
        first = last = None
        size = 0
        while proc.poll() is None:
            now = time.monotonic()
            current = os.path.getsize(out_path)
            if current != size:
                size = current
                first = first if first is not None else now
                last = now
            time.sleep(0.002)
        if proc.exit_code != 0:
            raise RuntimeError(f"kcat -C exited {proc.exit_code}")
        if os.path.getsize(out_path) != size:
            last = time.monotonic()
        streaming = (last - first) if first is not None and last > first else float("nan")
        return {"wall_s": proc.wall, "orders_per_s": count / proc.wall,
                "first_to_last_byte_s": streaming,
                "streaming_orders_per_s": count / streaming if streaming else float("nan"),
                "maxrss_kib": proc.maxrss_kib, "cpu_s": proc.cpu_s,
                "bytes": os.path.getsize(out_path)}

    def manager_catch_up(self, address, count, group, extra=()):
        ledger = self.runner.path(f"{group}.ledger")
        argv = [self.runner.binary("manager/manager"), "--brokers", address, "--ledger", ledger,
                "--group", group, *extra]
        manager = self.runner.start(f"manager-{group}", argv)
        t0 = manager.started
        assigned = None
        lines, offset = 0, 0
        deadline = t0 + self.args.timeout_s
        try:
            while lines < count:
                now = time.monotonic()
                if assigned is None and "partitions assigned" in read_text(manager.err_path):
                    assigned = now
                if os.path.exists(ledger):
                    with open(ledger, "rb") as f:
                        f.seek(offset)
                        data = f.read()
                    offset += len(data)
                    lines += data.count(b"\n")
                if lines >= count:
                    break
                if manager.poll() is not None:
                    raise RuntimeError(f"manager exited {manager.exit_code}: "
                                       f"{read_text(manager.err_path)[-2000:]}")
                if now > deadline:
                    raise TimeoutError(f"manager recorded {lines} of {count} orders in "
                                       f"{self.args.timeout_s} s")
                time.sleep(0.005)
            done = time.monotonic()
        finally:
            status = manager.stop()
        if status != 0:
            raise RuntimeError(f"manager exited {status} on SIGTERM")
        # recorded_at is stamped when a batch is synced: the rate from the first to the
        # last stamp counts the orders after the first batch.
        first_stamp, last_stamp, in_first_batch = None, None, 0
        with open(ledger, "rb") as f:
            for line in f:
                at = line.find(b'"recorded_at":"')
                stamp = line[at + 15:line.index(b'"', at + 15)]
                if first_stamp is None:
                    first_stamp = stamp
                if stamp == first_stamp:
                    in_first_batch += 1
                last_stamp = stamp
        recorded_span = (parse_log_time(last_stamp.decode()) -
                         parse_log_time(first_stamp.decode()))
        assigned = assigned if assigned is not None else done
        result = {
            "group": group, "extra": list(extra), "orders": count, "ledger_lines": lines,
            "ledger_bytes": os.path.getsize(ledger),
            "wall_s": done - t0, "orders_per_s": count / (done - t0),
            "join_s": assigned - t0,
            "assigned_to_done_s": done - assigned,
            "assigned_to_done_orders_per_s": count / (done - assigned) if done > assigned else None,
            "recorded_at_span_s": recorded_span,
            "recorded_at_orders_per_s": ((count - in_first_batch) / recorded_span
                                         if recorded_span > 0 else None),
            "first_batch_orders": in_first_batch,
            "maxrss_kib": manager.maxrss_kib, "cpu_s": manager.cpu_s,
        }
        os.remove(ledger)
        return result

    def ledger_phase(self):
        n, small = self.args.backlog, self.args.small_backlog
        progress(f"== 3. ledger: a backlog of {n} orders, the manager catching up vs kcat -C to a file")
        broker = self.runner.start_broker()
        try:
            self.waiter(broker.address, n, name="waiter-backlog")
            k = self.kcat_consume(broker.address, n)
            progress(f"   kcat -C -e: {k['wall_s']:.2f} s = {k['orders_per_s']:,.0f} orders/s "
                     f"(first to last byte {k['first_to_last_byte_s']:.2f} s = "
                     f"{k['streaming_orders_per_s']:,.0f}/s), peak RSS {k['maxrss_kib'] / 1024:.1f} MiB")
            m = self.manager_catch_up(broker.address, n, "bench-ledger")
            progress(f"   manager: {m['wall_s']:.2f} s from start to {n} lines = "
                     f"{m['orders_per_s']:,.0f} orders/s (group join {m['join_s']:.1f} s; "
                     f"first to last recorded_at {m['recorded_at_span_s']:.3f} s = "
                     f"{m['recorded_at_orders_per_s'] or float('nan'):,.0f}/s), peak RSS "
                     f"{m['maxrss_kib'] / 1024:.1f} MiB")
        finally:
            broker.stop()

        progress(f"   group commit vs one fsync per order, on a backlog of {small}")
        broker = self.runner.start_broker()
        try:
            self.waiter(broker.address, small, name="waiter-small-backlog")
            grouped = self.manager_catch_up(broker.address, small, "bench-grouped")
            progress(f"   manager (group commit): partitions assigned to last line "
                     f"{grouped['assigned_to_done_s']:.3f} s = "
                     f"{grouped['assigned_to_done_orders_per_s']:,.0f} orders/s")
            single = self.manager_catch_up(broker.address, small, "bench-fsync-each",
                                           ["--sync_max_records=1"])
            progress(f"   manager --sync_max_records=1: partitions assigned to last line "
                     f"{single['assigned_to_done_s']:.3f} s = "
                     f"{single['assigned_to_done_orders_per_s']:,.0f} orders/s")
        finally:
            broker.stop()
        self.results["ledger"] = {
            "backlog": n, "kcat": k, "manager": m, "small_backlog": small,
            "manager_group_commit_small": grouped, "manager_fsync_each_small": single,
            "ratio_whole_process": m["orders_per_s"] / k["orders_per_s"],
            "ratio_streaming": ((m["recorded_at_orders_per_s"] or float("nan")) /
                                k["streaming_orders_per_s"]),
            # From partitions assigned to the last line: both runs carry the same consumer
            # start-up (up to 0.5 s, see README), so this is a lower bound of the gain.
            "group_commit_gain": (grouped["assigned_to_done_orders_per_s"] /
                                  single["assigned_to_done_orders_per_s"]),
        }
