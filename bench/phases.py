"""File: bench/phases.py

The benchmark's measurements, each a phase that asks its brokers (bench/brokers.py:
a fresh devbroker, or a topic of its own on a real Kafka cluster) for a place to run,
starts its services there and leaves its figures in the results (bench/README.md says
what each means):
  1. producer: waiter load mode vs kcat -P of the same records (and, on real Kafka,
     vs Kafka's own ProducerPerformance with as many records of the same size);
  2. end-to-end latency at each rate: placed -> cooking and placed -> ready from the
     cook's order events on order-status, placed -> recorded from the manager's
     ledger; 2b. one order as a person places it;
  3. ledger: the manager catching up a backlog vs kcat -C to a file (and, on real
     Kafka, kcat -C -J to a synced file and Kafka's console consumer to a file), and
     group commit vs one fsync per order.

    phases = Phases(runner, args, kafka_settings, brokers, results)
    phases.producer_phase()   # results["producer"]
"""

import json
import os
import re
import statistics
import subprocess
import threading
import time

from parsing import (COOKING, READY, decode_order_event, parse_log_time,
                     parse_producer_performance, percentile, placed_at, split_sized_records)
from processes import Proc, progress, read_text, wait_for
from settings import as_x

TOPIC = "pizza-order"
CONTENT_TYPE = "application/x-protobuf; messageType=kitchen.v1.Order"  # orders/order_record.h
SAMPLE_ORDER_ID = "00000000-0000-4000-8000-000000000000"  # same length as the waiter's UUIDs
# The waiter's third header (orders/trace_context.h), the same length.
SAMPLE_TRACEPARENT = "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"
# kcat -P sends the same headers with every record (-H), and lz4 compresses a constant
# header to nearly nothing, while the waiter's traceparent is new for every order (48
# random hex digits): measured on 1-node Kafka, 57 B a record on disk for kcat against
# the waiter's 115. So each kcat record also carries its own order's traceparent, in
# its value, as field 15 of the Order (a field kitchen.v1.Order does not have, which a
# reader skips): 108 B a record, and still every byte the waiter sends besides.
TRACEPARENT_FIELD_TAG = bytes([15 << 3 | 2])  # field 15, length-delimited
DUMP_DELIMITER = b"\x1e~KITCHEN-BENCH-RECORD-END~\x1f"  # between records of the kcat input


def stats(values):
    """Percentiles (nearest rank) of sorted milliseconds."""
    return {"orders": len(values), "p50_ms": percentile(values, 0.50),
            "p99_ms": percentile(values, 0.99), "p999_ms": percentile(values, 0.999),
            "max_ms": values[-1] if values else float("nan"),
            "mean_ms": statistics.fmean(values) if values else float("nan")}


class EventTail:
    """A status topic as a read_committed reader sees it while the benchmark runs: kcat
    (-u, unbuffered) writes each event framed by its size to a file, which a thread
    reads every 2 ms, stamping each complete event with the time it saw it. The stamp
    is what a customer waiting for READY would see (on real Kafka a READY is visible
    only once the cook's transaction commits); COOKING's own `at` is the cook's clock."""

    def __init__(self, runner, place, fetch_x):
        self.proc = runner.start("kcat-status", [
            "kcat", "-b", place.address, "-C", "-t", place.status_topic, "-o", "beginning",
            "-u", "-q", "-X", "isolation.level=read_committed", *fetch_x, "-f", "%S %s\n"])
        self.events = []  # (seen, event), in the order seen.
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            wait_for(lambda: os.path.exists(self.proc.out_path), 10, "kcat's output")
            pending = b""
            with open(self.proc.out_path, "rb") as f:
                while not self._stop.is_set():
                    chunk = f.read()
                    if not chunk:
                        time.sleep(0.002)
                        continue
                    seen = time.time()
                    pending += chunk
                    values, used = split_sized_records(pending)
                    pending = pending[used:]
                    self.events.extend((seen, decode_order_event(v)) for v in values)
        except Exception as error:  # Said by the phase that waits on the events.
            self.error = error

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.proc.stop()


class Phases:
    def __init__(self, runner, args, kafka, brokers, results):
        self.runner = runner
        self.args = args
        self.kafka = kafka
        self.brokers = brokers
        self.results = results
        # The consumers' fetch settings as they run against these brokers: the dev
        # broker's shorter fetch wait, or what the binaries print for Kafka.
        fetch = dict(kafka["kcat_consumer"])
        if brokers.real:
            fetch["fetch.wait.max.ms"] = kafka["consumer_printed_fetch_wait"]
        self.fetch_settings = fetch
        self.kcat_fetch = as_x(fetch)

    # -- helpers ------------------------------------------------------------------------

    def topic_count(self, address, topic=TOPIC):
        """Records in `topic`: the sum over partitions of the last offset + 1 (no
        transactions write there, so no markers take offsets)."""
        proc = self.runner.run("kcat-count", ["kcat", "-b", address, "-C", "-t", topic, "-o", "-1",
                                       "-e", "-q", *self.kcat_fetch, "-f", "%p %o\n"], timeout=60)
        total = 0
        for line in read_text(proc.out_path).splitlines():
            if line.strip():
                total += int(line.split()[1]) + 1
        return total

    def records_held(self, address, topic=TOPIC):
        """Records `topic` holds now: the sum over partitions of its log's end minus its
        start (the dev broker, librdkafka's mock, keeps 5 MiB a partition and drops the
        oldest record batches past that)."""
        proc = self.runner.run("kcat-ends", ["kcat", "-b", address, "-C", "-t", topic, "-o", "-1",
                                      "-e", "-q", *self.kcat_fetch, "-f", "%p %o\n"], timeout=60)
        ends = {}
        for line in read_text(proc.out_path).splitlines():
            if line.strip():
                partition, offset = line.split()
                ends[int(partition)] = int(offset) + 1
        proc = self.runner.run("kcat-starts", ["kcat", "-b", address, "-Q", *[
            arg for partition in ends for arg in ("-t", f"{topic}:{partition}:-2")]], timeout=60)
        starts = {}
        for line in read_text(proc.out_path).splitlines():
            match = re.match(r".* \[(\d+)\] offset (\d+)$", line.strip())
            if match:
                starts[int(match.group(1))] = int(match.group(2))
        if set(starts) != set(ends):
            raise RuntimeError(f"kcat -Q gave the log starts of partitions {sorted(starts)}, "
                               f"not of {sorted(ends)}")
        return sum(ends[p] - starts[p] for p in ends)

    def waiter(self, address, count, extra=(), name="waiter", timeout=300, topic=TOPIC):
        argv = [self.runner.binary("waiter/waiter"), "--brokers", address, "--topic", topic,
                "--count", str(count), "--seed", "1", *extra]
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
            "summary": summary, "started_unix": started_unix, "ended_unix": time.time(),
            "own_orders_per_s": int(match.group(6)),
            "ack_p50_ms": float(match.group(7)), "ack_p99_ms": float(match.group(8)),
        }

    # -- 1. producer ----------------------------------------------------------------------

    def dump_records(self, address, count, topic):
        """The waiter's records, as kcat -P input: KEY \\t VALUE, then the delimiter, in
        the order the waiter placed them (by placed_at), each value followed by the
        record's traceparent header as field 15 (TRACEPARENT_FIELD_TAG's comment says
        why). kcat -C reads a topic partition
        by partition; fed that order, kcat -P would fill one partition's batches at a
        time, measured 1.3x faster than the same records in the order placed."""
        fmt = "%k\t%h\t%s" + "".join(f"\\x{b:02x}" for b in DUMP_DELIMITER)
        proc = self.runner.run("kcat-dump", ["kcat", "-b", address, "-C", "-t", topic, "-e", "-o",
                                      "beginning", "-q", *self.kcat_fetch, "-f", fmt], timeout=120)
        with open(proc.out_path, "rb") as f:
            data = f.read()
        records = data.split(DUMP_DELIMITER)
        if records and records[-1] == b"":
            records.pop()
        if len(records) != count:
            raise RuntimeError(f"dumped {len(records)} records, expected {count} (on the dev "
                               "broker: more than its 5 MiB a partition, see run.py --count? "
                               "Or the delimiter occurs inside a value)")
        keys = set()
        value_bytes = 0
        placed = []
        for record in records:
            # The headers (%h: name=value,...) hold no tab, nor a comma in a value.
            key, tab, rest = record.partition(b"\t")
            headers, tab2, value = rest.partition(b"\t")
            if not tab or not tab2 or not key.isdigit():
                raise RuntimeError(f"unexpected dumped record {record[:80]!r}")
            traceparent = dict(h.partition(b"=")[::2] for h in headers.split(b",")).get(
                b"traceparent", b"")
            if len(traceparent) != len(SAMPLE_TRACEPARENT):
                raise RuntimeError(f"a dumped order without a traceparent: {record[:120]!r}")
            keys.add(int(key))
            value_bytes += len(value)
            when = placed_at(value)
            if when == (0, 0):
                raise RuntimeError(f"a dumped order without placed_at: {record[:80]!r}")
            placed.append((when, key + b"\t" + value + TRACEPARENT_FIELD_TAG +
                           bytes([len(traceparent)]) + traceparent))
        placed.sort(key=lambda pair: pair[0])  # Stable: ties keep a partition's order.
        input_path = self.runner.path("kcat-input")
        with open(input_path, "wb") as f:
            for _, record in placed:
                f.write(record + DUMP_DELIMITER)
        return input_path, {"records": len(records), "value_bytes": value_bytes,
                            "mean_value_bytes": value_bytes / len(records),
                            "distinct_keys": len(keys), "min_key": min(keys),
                            "max_key": max(keys)}

    def kcat_produce(self, address, topic, input_path):
        argv = ["kcat", "-b", address, "-P", "-t", topic, "-K", "\\t", "-D",
                "".join(f"\\x{b:02x}" for b in DUMP_DELIMITER),
                *as_x(self.kafka["kcat_producer"]),
                "-H", f"content-type={CONTENT_TYPE}", "-H", f"order-id={SAMPLE_ORDER_ID}",
                "-H", f"traceparent={SAMPLE_TRACEPARENT}"]
        with open(input_path, "rb") as stdin:
            proc = self.runner.run("kcat-produce", argv, timeout=300, stdin=stdin)
        return {"wall_s": proc.wall, "cpu_s": proc.cpu_s, "maxrss_kib": proc.maxrss_kib}

    def perf_produce(self, place, records):
        """Kafka's own producer benchmark (ProducerPerformance) with as many records of
        the waiter's mean value size, the waiter's acks, idempotence, linger, compression
        and batch bytes. It sends no keys (so every batch may fill, sticky partitioner)
        and random values of one size (compressed as lz4 compresses random bytes)."""
        p = self.kafka["waiter_producer"]
        props = {"bootstrap.servers": place.address, "acks": "all",
                 "enable.idempotence": p.get("enable.idempotence", "true"),
                 "linger.ms": p.get("linger.ms", "1"),
                 "compression.type": p.get("compression.type", "none"),
                 # librdkafka's batch.size (bytes per partition batch) is Java's too.
                 "batch.size": p.get("batch.size", "1000000")}
        argv = self.brokers.tool_argv(
            "kafka-producer-perf-test", "--topic", place.topic, "--num-records",
            str(self.args.count), "--record-size", str(round(records["mean_value_bytes"])),
            "--throughput", "-1", "--producer-props",
            *[f"{k}={v}" for k, v in props.items()])
        proc = self.runner.run("producer-performance", argv, timeout=300)
        summary = parse_producer_performance(read_text(proc.out_path))
        if summary is None or summary["records"] != self.args.count:
            raise RuntimeError(f"ProducerPerformance printed no summary of {self.args.count} "
                               f"records: {read_text(proc.out_path)[-1000:]}")
        return {"wall_s": proc.wall, "cpu_s": proc.cpu_s, "maxrss_kib": proc.maxrss_kib,
                "own_records_per_s": summary["records_per_s"], "summary": summary,
                "props": {k: v for k, v in props.items() if k != "bootstrap.servers"}}

    def on_fresh_broker(self, who, n, produce, then=None):
        """produce(place) where the brokers put a producer run (a fresh devbroker, or
        the produce topic of a Kafka cluster), which must then hold `n` records more;
        then(place) afterwards. What produce returned."""
        with self.brokers.place("produce") as place:
            before = self.topic_count(place.address, place.topic) if self.brokers.real else 0
            result = produce(place)
            counted = self.topic_count(place.address, place.topic) - before
            if counted != n:
                raise RuntimeError(f"{who} added {counted} records to {place.topic}, not {n}")
            if then is not None:
                then(place)
        return result

    @staticmethod
    def with_rates(run, n, records):
        """`run` with its orders/s and MB/s of values, for `n` orders of `records`."""
        run["orders_per_s"] = n / run["wall_s"]
        run["value_mb_per_s"] = records["value_bytes"] / run["wall_s"] / 1e6
        return run

    def producer_phase(self):
        n, repeats = self.args.count, self.args.repeats
        progress(f"== 1. producer: waiter --count {n} vs kcat -P" +
                 (" vs ProducerPerformance" if self.brokers.real else "") +
                 f", {repeats} runs each, alternated, " +
                 ("on one topic" if self.brokers.real else "a fresh devbroker per run"))
        waiter_runs, kcat_runs, perf_runs = [], [], []
        input_path, records = None, None

        def read_back(place):  # Once: the first waiter run's records feed every kcat run.
            nonlocal input_path, records
            if input_path is None:
                input_path, records = self.dump_records(place.address, n, place.topic)
                progress(f"   kcat input: the waiter's {records['records']} records read "
                         f"back (values {records['mean_value_bytes']:.1f} B on average, "
                         f"keys {records['min_key']}..{records['max_key']})")

        for run in range(1, repeats + 1):
            w = self.on_fresh_broker(
                "the waiter", n,
                lambda place: self.waiter(place.address, n, name=f"waiter-produce-{run}",
                                          topic=place.topic),
                then=read_back)
            waiter_runs.append(self.with_rates(w, n, records))
            progress(f"   run {run}: waiter {w['wall_s']:.2f} s = {w['orders_per_s']:,.0f} orders/s "
                     f"(its own count: {w['own_orders_per_s']:,}/s), peak RSS "
                     f"{w['maxrss_kib'] / 1024:.1f} MiB")

            k = self.on_fresh_broker(
                "kcat", n, lambda place: self.kcat_produce(place.address, place.topic,
                                                           input_path))
            kcat_runs.append(self.with_rates(k, n, records))
            progress(f"   run {run}: kcat   {k['wall_s']:.2f} s = {k['orders_per_s']:,.0f} orders/s, "
                     f"peak RSS {k['maxrss_kib'] / 1024:.1f} MiB")
            if self.brokers.real:
                j = self.on_fresh_broker("ProducerPerformance", n,
                                         lambda place: self.perf_produce(place, records))
                perf_runs.append(self.with_rates(j, n, records))
                progress(f"   run {run}: ProducerPerformance {j['wall_s']:.2f} s = "
                         f"{j['orders_per_s']:,.0f} records/s with its JVM's start "
                         f"(its own count: {j['own_records_per_s']:,.0f}/s), peak RSS "
                         f"{j['maxrss_kib'] / 1024:.1f} MiB")

        def median(runs, key):
            return statistics.median(r[key] for r in runs)

        result = {"count": n, "repeats": repeats, "records": records,
                  "waiter_runs": waiter_runs, "kcat_runs": kcat_runs}
        for who, runs in (("waiter", waiter_runs), ("kcat", kcat_runs)):
            result[who] = {key: median(runs, key) for key in
                           ("wall_s", "orders_per_s", "value_mb_per_s", "cpu_s", "maxrss_kib")}
        result["ratio"] = result["waiter"]["orders_per_s"] / result["kcat"]["orders_per_s"]
        if perf_runs:
            result["perf_runs"] = perf_runs
            result["perf"] = {key: median(perf_runs, key) for key in
                              ("wall_s", "orders_per_s", "value_mb_per_s", "cpu_s", "maxrss_kib",
                               "own_records_per_s")}
            result["perf"]["props"] = perf_runs[0]["props"]
            result["ratio_perf"] = (result["waiter"]["orders_per_s"] /
                                    result["perf"]["own_records_per_s"])
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

    def start_cook(self, place, group, extra=()):
        cook = self.runner.start(f"cook-{group}", [
            self.runner.binary("cook/cook"), "--brokers", place.address, "--topic", place.topic,
            "--status_topic", place.status_topic, "--cook_id", f"bench-{group}",
            "--group", group, "--prep_time=0", "--lag_interval=0", *extra])
        started = time.monotonic()
        wait_for(lambda: "partitions assigned" in read_text(cook.err_path), 60,
                 "the cook's partitions", cook)
        cook.join_s = time.monotonic() - started
        return cook

    _COOK_STOPPED = re.compile(r"cook stopped: (\d+) cooked, (\d+) transactions committed")

    def cook_transactions(self, cook):
        """How often the cook committed a transaction while it was assigned: its READY
        events wait for that, and so does its next batch."""
        text = read_text(cook.err_path)
        match = self._COOK_STOPPED.search(text)
        times = re.findall(r"^(\S+) INFO  cook: (?:partitions assigned|cook stopped)", text,
                           re.MULTILINE)
        if not match or len(times) < 2:
            return None
        span = parse_log_time(times[-1]) - parse_log_time(times[0])
        committed = int(match.group(2))
        return {"cooked": int(match.group(1)), "committed": committed, "span_s": span,
                "mean_s": span / committed if committed else None}

    def start_ledger(self, place, group):
        """A manager beside the cook: placed -> recorded from its ledger's lines."""
        ledger = self.runner.path(f"{group}.ledger")
        manager = self.runner.start(f"manager-{group}", [
            self.runner.binary("manager/manager"), "--brokers", place.address, "--topic",
            place.topic, "--ledger", ledger, "--group", group])
        wait_for(lambda: "partitions assigned" in read_text(manager.err_path), 60,
                 "the manager's partitions", manager)
        manager.ledger, manager.ledger_offset, manager.entries = ledger, 0, []
        return manager

    @staticmethod
    def read_ledger(manager):
        """New complete lines of the manager's ledger: (placed_at, recorded_at) in s."""
        if not os.path.exists(manager.ledger):
            return
        with open(manager.ledger, "rb") as f:
            f.seek(manager.ledger_offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        manager.ledger_offset += end
        for line in data[:end].splitlines():
            entry = json.loads(line)
            if entry.get("placed_at") and entry.get("recorded_at"):
                manager.entries.append((parse_log_time(entry["placed_at"]),
                                        parse_log_time(entry["recorded_at"])))

    def latency_run(self, cook, manager, tail, place, label, rate, seconds, waiter_extra=()):
        count = int(rate * seconds)
        warmup = self.args.warmup_s
        progress(f"   {label}: {count} orders at {rate}/s ({seconds:.0f} s)")
        w = self.waiter(place.address, count, extra=["--rate", str(rate), *waiter_extra],
                        name=f"waiter-{rate}", topic=place.topic)
        # This run's orders: placed while its waiter ran (runs follow one another).
        began, ended = w["started_unix"], w["ended_unix"]

        def mine(placed):
            return placed is not None and began <= placed <= ended

        cooking, ready, recorded = {}, {}, []
        seen = 0
        wait_s = self.args.timeout_s
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if tail.error is not None:
                raise RuntimeError(f"reading {place.status_topic}: {tail.error}")
            events = tail.events[seen:]
            seen += len(events)
            for when, event in events:
                if not mine(event["placed_at"]):
                    continue
                where = (event["order_partition"], event["order_offset"])
                if event["state"] == COOKING:  # The first attempt: at-least-once.
                    cooking.setdefault(where, (event["at"] - event["placed_at"]) * 1e3)
                elif event["state"] == READY:
                    ready.setdefault(where, (when - event["placed_at"]) * 1e3)
            if manager is not None:
                self.read_ledger(manager)
                recorded += [(p, (r - p) * 1e3) for p, r in manager.entries if mine(p)]
                manager.entries = []
            if len(cooking) >= count and len(ready) >= count and (
                    manager is None or len(recorded) >= count):
                break
            time.sleep(0.02)
        if len(cooking) < count or len(ready) < count:
            raise RuntimeError(f"{place.status_topic} held COOKING for {len(cooking)} and READY "
                               f"for {len(ready)} of {count} orders within {wait_s:g} s")
        if manager is not None and len(recorded) < count:
            raise RuntimeError(f"the ledger recorded {len(recorded)} of {count} orders in "
                               f"{wait_s:g} s")
        # COOKING's own events, again, to tell warm-up from steady state by placed_at.
        steady_from = began + warmup
        cooking_steady, cooking_all = [], []
        placed_by_where = {}
        for _, event in tail.events:
            if mine(event["placed_at"]):
                placed_by_where[(event["order_partition"], event["order_offset"])] = \
                    event["placed_at"]
        for where, ms in cooking.items():
            cooking_all.append(ms)
            if placed_by_where[where] >= steady_from:
                cooking_steady.append(ms)
        ready_steady = sorted(ms for where, ms in ready.items()
                              if placed_by_where[where] >= steady_from)
        recorded_steady = sorted(ms for placed, ms in recorded if placed >= steady_from)
        cooking_all.sort()
        cooking_steady.sort()
        # Pauses of the cook: gaps between successive COOKING events of this run, by the
        # cook's own clock. Its loop takes no order while it commits a transaction.
        took = sorted(event["at"] for _, event in tail.events
                      if event["state"] == COOKING and mine(event["placed_at"]))
        gaps = sorted(b - a for a, b in zip(took, took[1:]))
        long_gaps = [g for g in gaps if g >= 0.1]
        pauses = {"over_100ms": len(long_gaps), "sum_s": sum(long_gaps),
                  "max_s": gaps[-1] if gaps else 0.0,
                  "span_s": took[-1] - took[0] if took else 0.0}
        stalled = sum(1 for v in cooking_all if v >= 500)
        result = {"label": label, "rate": rate, "count": count, "waiter_extra": list(waiter_extra),
                  "steady": stats(cooking_steady), "all": stats(cooking_all),
                  "ready_steady": stats(ready_steady),
                  "recorded_steady": stats(recorded_steady) if manager is not None else None,
                  "stalled_500ms": stalled, "cook_pauses": pauses,
                  "waiter_ack_p50_ms": w["ack_p50_ms"], "waiter_ack_p99_ms": w["ack_p99_ms"],
                  "waiter_maxrss_kib": w["maxrss_kib"], "waiter_cpu_s": w["cpu_s"],
                  "waiter_wall_s": w["wall_s"]}
        s, r = result["steady"], result["ready_steady"]
        line = (f"      placed -> cooking p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, "
                f"p99.9 {s['p999_ms']:.2f} ms; -> ready (read_committed) p50 {r['p50_ms']:.1f}, "
                f"p99 {r['p99_ms']:.1f} ms")
        if manager is not None:
            d = result["recorded_steady"]
            line += f"; -> recorded p50 {d['p50_ms']:.0f}, p99 {d['p99_ms']:.0f} ms"
        progress(line + f" (after the first {warmup:g} s; all: max {result['all']['max_ms']:.1f} "
                 f"ms, {stalled} >= 500 ms); the cook paused {pauses['over_100ms']} times "
                 f">= 100 ms, {pauses['sum_s']:.1f} s of {pauses['span_s']:.1f} s, longest "
                 f"{pauses['max_s']:.2f} s")
        return result

    def latency_phase(self):
        seconds = self.args.latency_s + self.args.warmup_s
        rates = self.args.rates
        progress(f"== 2. end-to-end latency: one cook (--prep_time=0) and a manager, the waiter "
                 f"at {', '.join(map(str, rates))}/s, {seconds:g} s each; the times from "
                 "order-status and the ledger")
        runs = []
        cook_rss, cook_cpu, manager_rss = [], [], []
        variants = self.args.variants and not self.brokers.real
        with self.brokers.place("latency") as place:
            tail = EventTail(self.runner, place, self.kcat_fetch)
            try:
                cook = self.start_cook(place, "bench-latency", self.args.cook_arg)
                progress(f"   cook joined its group in {cook.join_s:.1f} s")
                manager = self.start_ledger(place, "bench-latency-ledger")
                try:
                    for rate in rates:
                        runs.append(self.latency_run(cook, manager, tail, place, f"{rate}/s",
                                                     rate, seconds))
                    if variants:
                        runs.append(self.latency_run(cook, manager, tail, place,
                                                     "1000/s, waiter -X linger.ms=0", 1000,
                                                     seconds, ["-X", "linger.ms=0"]))
                        if max(rates) >= 10000:
                            runs.append(self.latency_run(cook, manager, tail, place,
                                                         "10000/s, waiter -X linger.ms=5", 10000,
                                                         seconds, ["-X", "linger.ms=5"]))
                finally:
                    manager.stop()
                    cook.stop()
            finally:
                tail.stop()
            cook_rss.append(cook.maxrss_kib)
            cook_cpu.append(cook.cpu_s)
            manager_rss.append(manager.maxrss_kib)
            transactions = self.cook_transactions(cook)
        if variants:
            progress("   a fresh devbroker and cook with -X fetch.wait.max.ms=1 (the mock does not "
                     "answer a waiting fetch early)")
            with self.brokers.place("latency") as place:
                tail = EventTail(self.runner, place, self.kcat_fetch)
                try:
                    cook = self.start_cook(place, "bench-latency-fetch1",
                                           ["-X", "fetch.wait.max.ms=1"])
                    try:
                        runs.append(self.latency_run(
                            cook, None, tail, place,
                            "1000/s, waiter -X linger.ms=0, cook -X fetch.wait.max.ms=1", 1000,
                            seconds, ["-X", "linger.ms=0"]))
                    finally:
                        cook.stop()
                finally:
                    tail.stop()
                cook_rss.append(cook.maxrss_kib)
        self.results["latency"] = {"seconds_per_rate": seconds, "warmup_s": self.args.warmup_s,
                                   "runs": runs, "cook_maxrss_kib": max(cook_rss),
                                   "cook_cpu_s": cook_cpu[0],
                                   "manager_maxrss_kib": max(manager_rss),
                                   "cook_transactions": transactions}

    def single_order_phase(self):
        n = self.args.single_orders
        progress(f"== 2b. one order as a person places it: `waiter margherita 17`, {n} times")
        walls = []
        with self.brokers.place("single") as place:
            for i in range(n):
                proc = self.runner.run("waiter-one", [
                    self.runner.binary("waiter/waiter"), "--brokers", place.address, "--topic",
                    place.topic, "margherita", "17"], timeout=60)
                walls.append(proc.wall * 1e3)
        ordered = sorted(walls)
        result = {"runs": n, "wall_ms": walls, "p50_ms": percentile(ordered, 0.5),
                  "max_ms": ordered[-1], "min_ms": ordered[0],
                  "over_500ms": sum(1 for v in walls if v >= 500)}
        self.results["single_order"] = result
        progress(f"   wall time: min {result['min_ms']:.0f} ms, median {result['p50_ms']:.0f} ms, "
                 f"max {result['max_ms']:.0f} ms; {result['over_500ms']} of {n} took >= 500 ms")

    # -- 3. ledger -----------------------------------------------------------------------

    def stream_to_file(self, name, argv, count, sync=False):
        """A reader writing the backlog to a file: wall clock of the process (and of the
        file's fdatasync after it, with `sync`), and first to last byte of its output
        (the file's size sampled every 2 ms)."""
        out_path = self.runner.path(f"{name}.txt")
        with open(out_path, "wb") as out:
            proc = Proc(name, argv, stdout=out, stderr=subprocess.DEVNULL)
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
            raise RuntimeError(f"{name} exited {proc.exit_code}: {' '.join(argv)}")
        if os.path.getsize(out_path) != size:
            last = time.monotonic()
        wall = proc.wall
        sync_s = 0.0
        if sync:
            began = time.monotonic()
            fd = os.open(out_path, os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
            sync_s = time.monotonic() - began
            wall += sync_s
        with open(out_path, "rb") as f:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        if lines < count:
            raise RuntimeError(f"{name} wrote {lines} lines, not {count}")
        streaming = (last - first) if first is not None and last > first else float("nan")
        result = {"wall_s": wall, "orders_per_s": count / wall, "sync_s": sync_s,
                  "first_to_last_byte_s": streaming,
                  "streaming_orders_per_s": count / streaming if streaming else float("nan"),
                  "maxrss_kib": proc.maxrss_kib, "cpu_s": proc.cpu_s,
                  "bytes": os.path.getsize(out_path)}
        os.remove(out_path)
        return result

    # kcat's prefetch for the catch-up: the consumers' before #19. With theirs now (2 MiB
    # of values) kcat, which cannot wake librdkafka 2.0.2's fetchers as the services do
    # (kafka::Consumer::RefillPrefetch), would wait on their 1 s timer: the reference
    # stays what it was.
    KCAT_CATCH_UP_PREFETCH = {"queued.max.messages.kbytes": "8192", "fetch.max.bytes": "4194304"}

    def kcat_consume(self, place, count):
        """kcat -C -J (a JSON object per record: topic, partition, offset, timestamp, key,
        payload) to a file, then fdatasync'ed: no group, no decoding."""
        fetch = as_x({**self.fetch_settings, **self.KCAT_CATCH_UP_PREFETCH})
        return self.stream_to_file("kcat-consume", [
            "kcat", "-b", place.address, "-C", "-t", place.topic, "-e", "-o", "beginning", "-q",
            *fetch, "-J"], count, sync=True)

    def console_consume(self, place, count):
        """Kafka's console consumer (a JVM, a consumer group of its own) to a file."""
        return self.stream_to_file("console-consumer", self.brokers.tool_argv(
            "kafka-console-consumer", "--bootstrap-server", place.address, "--topic",
            place.topic, "--from-beginning", "--max-messages", str(count),
            "--property", "print.key=true"), count)

    def manager_catch_up(self, place, count, group, extra=(), env=None):
        ledger = self.runner.path(f"{group}.ledger")
        argv = [self.runner.binary("manager/manager"), "--brokers", place.address, "--topic",
                place.topic, "--ledger", ledger, "--group", group, *extra]
        manager = self.runner.start(f"manager-{group}", argv, env=env)
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

    # What bounds the manager's memory (issue #19): from the shipped defaults, one
    # setting put back to what it was before them at a time (and one arena), then all
    # of them.
    # librdkafka's own defaults where the kitchen sets its own (kafka::ConsumerDefaults,
    # manager/main.cc); MALLOC_ARENA_MAX=16 is glibc's default here (8 a core), which
    # the manager keeps when the environment sets it.
    OLD_PREFETCH = ["-X", "queued.min.messages=100000", "-X", "queued.max.messages.kbytes=8192"]
    OLD_FETCH = ["-X", "fetch.max.bytes=4194304", "-X", "max.partition.fetch.bytes=1048576"]
    OLD_BATCH = ["--sync_max_records=10000"]
    OLD_ARENAS = {"MALLOC_ARENA_MAX": "16"}
    MEMORY_MATRIX = [
        ("prefetch 100,000 records, 8 MiB: -X queued.min.messages=100000 "
         "-X queued.max.messages.kbytes=8192", OLD_PREFETCH, None),
        ("fetches of 4 MiB, 1 MiB a partition: -X fetch.max.bytes=4194304 "
         "-X max.partition.fetch.bytes=1048576", OLD_FETCH, None),
        ("batches of 10,000: --sync_max_records=10000", OLD_BATCH, None),
        ("a malloc arena per thread: MALLOC_ARENA_MAX=16", [], OLD_ARENAS),
        ("one malloc arena: MALLOC_ARENA_MAX=1", [], {"MALLOC_ARENA_MAX": "1"}),
        ("all four (the defaults before #19)", OLD_PREFETCH + OLD_FETCH + OLD_BATCH,
         OLD_ARENAS),
    ]

    def memory_matrix(self, place, n, default):
        """The manager catching up the same backlog with one memory setting changed at a
        time, each in a new group: peak RSS against catch-up speed."""
        rows = [{"label": "as shipped (prefetch 6,000 records, fetches of 1 MiB, 256 KiB "
                          "a partition, batches of 2,000, two malloc arenas)", "maxrss_kib": default["maxrss_kib"],
                 "wall_s": default["wall_s"],
                 "recorded_at_orders_per_s": default["recorded_at_orders_per_s"]}]
        for index, (label, extra, env) in enumerate(self.MEMORY_MATRIX):
            run = self.manager_catch_up(place, n, f"bench-memory-{index}", extra, env)
            rows.append({"label": label, "extra": extra, "env": env,
                         "maxrss_kib": run["maxrss_kib"], "wall_s": run["wall_s"],
                         "recorded_at_orders_per_s": run["recorded_at_orders_per_s"]})
            progress(f"   manager, {label}: peak RSS {run['maxrss_kib'] / 1024:.1f} MiB, "
                     f"{run['wall_s']:.2f} s from start, streaming "
                     f"{run['recorded_at_orders_per_s'] or float('nan'):,.0f}/s")
        return rows

    def ledger_phase(self):
        n, small = self.args.backlog, self.args.small_backlog
        progress(f"== 3. ledger: a backlog of {n} orders, the manager catching up vs kcat -C "
                 "-J to a synced file" + (" and Kafka's console consumer" if self.brokers.real
                                         else ""))
        c = None
        with self.brokers.place("backlog") as place:
            self.waiter(place.address, n, name="waiter-backlog", topic=place.topic)
            held = self.records_held(place.address, place.topic)
            if held < n:
                progress(f"   the broker holds {held:,} of them (the dev broker keeps 5 MiB a "
                         "partition and dropped the oldest): the catch-up is of those")
                n = held
            k = self.kcat_consume(place, n)
            progress(f"   kcat -C -J: {k['wall_s']:.2f} s with its fdatasync = "
                     f"{k['orders_per_s']:,.0f} orders/s (first to last byte "
                     f"{k['first_to_last_byte_s']:.2f} s = {k['streaming_orders_per_s']:,.0f}/s), "
                     f"peak RSS {k['maxrss_kib'] / 1024:.1f} MiB")
            if self.brokers.real:
                c = self.console_consume(place, n)
                progress(f"   kafka-console-consumer: {c['wall_s']:.2f} s = "
                         f"{c['orders_per_s']:,.0f} orders/s (first to last byte "
                         f"{c['first_to_last_byte_s']:.2f} s = "
                         f"{c['streaming_orders_per_s']:,.0f}/s), peak RSS "
                         f"{c['maxrss_kib'] / 1024:.1f} MiB")
            m = self.manager_catch_up(place, n, "bench-ledger")
            progress(f"   manager: {m['wall_s']:.2f} s from start to {n} lines = "
                     f"{m['orders_per_s']:,.0f} orders/s (group join {m['join_s']:.1f} s; "
                     f"first to last recorded_at {m['recorded_at_span_s']:.3f} s = "
                     f"{m['recorded_at_orders_per_s'] or float('nan'):,.0f}/s), peak RSS "
                     f"{m['maxrss_kib'] / 1024:.1f} MiB")

            matrix = self.memory_matrix(place, n, m)

        progress(f"   group commit vs one fsync per order, on a backlog of {small}")
        with self.brokers.place("small-backlog") as place:
            self.waiter(place.address, small, name="waiter-small-backlog", topic=place.topic)
            grouped = self.manager_catch_up(place, small, "bench-grouped")
            progress(f"   manager (group commit): partitions assigned to last line "
                     f"{grouped['assigned_to_done_s']:.3f} s = "
                     f"{grouped['assigned_to_done_orders_per_s']:,.0f} orders/s")
            single = self.manager_catch_up(place, small, "bench-fsync-each",
                                           ["--sync_max_records=1"])
            progress(f"   manager --sync_max_records=1: partitions assigned to last line "
                     f"{single['assigned_to_done_s']:.3f} s = "
                     f"{single['assigned_to_done_orders_per_s']:,.0f} orders/s")
        self.results["ledger"] = {
            "backlog": n, "backlog_placed": self.args.backlog, "kcat": k, "console": c, "manager": m, "small_backlog": small,
            "memory_matrix": matrix,
            "manager_group_commit_small": grouped, "manager_fsync_each_small": single,
            "ratio_whole_process": m["orders_per_s"] / k["orders_per_s"],
            "ratio_streaming": ((m["recorded_at_orders_per_s"] or float("nan")) /
                                k["streaming_orders_per_s"]),
            # From partitions assigned to the last line: both runs carry the same consumer
            # start-up (up to 0.5 s, see README), so this is a lower bound of the gain.
            "group_commit_gain": (grouped["assigned_to_done_orders_per_s"] /
                                  single["assigned_to_done_orders_per_s"]),
        }
