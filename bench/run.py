#!/usr/bin/env python3
"""The kitchen's benchmark: throughput, latency and memory, side by side with kcat.

Run it with tools/bench (installs, builds with -c opt, then runs this). By hand:

    /usr/bin/python3 bench/run.py --bin "$(bazel info -c opt bazel-bin)" --out results

Every figure is measured against a devbroker (librdkafka's mock cluster, in memory)
started on a free port; bench/README.md says what each figure means and what limits it.
Writes OUT/bench.md (the tables), OUT/bench.json (the raw numbers) and OUT/latency.png.
Every process started here is stopped when the run ends, fails or is interrupted.
"""

import argparse
import atexit
import ctypes
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOPIC = "pizza-order"
CONTENT_TYPE = "application/x-protobuf; messageType=kitchen.v1.Order"  # orders/order_record.h
SAMPLE_ORDER_ID = "00000000-0000-4000-8000-000000000000"  # same length as the waiter's UUIDs
DUMP_DELIMITER = b"\x1e~KITCHEN-BENCH-RECORD-END~\x1f"  # between records of the kcat input

# Targets: measured against, never asserted.
TARGET_PRODUCE_RATIO = 1.0
TARGET_LEDGER_RATIO = 1.0
TARGET_P99_MS_AT_1000 = 5.0
TARGET_RSS_MIB = 30.0


# ---------------------------------------------------------------------------------------
# Processes: every one is tracked, dies with the driver (PR_SET_PDEATHSIG) and is stopped
# at exit, whatever happened.

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Proc:
    """A child process; wait() reaps it with wait4 to get its own rusage."""

    live = []

    def __init__(self, name, argv, stdout, stderr, stdin=subprocess.DEVNULL):
        self.name = name
        self.argv = argv
        self.started = time.monotonic()
        # Its own session: a Ctrl-C reaches only the driver, which stops the children in
        # order; PR_SET_PDEATHSIG kills them if the driver itself is killed.
        self.popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                      preexec_fn=_die_with_parent, close_fds=True,
                                      start_new_session=True)
        self.pid = self.popen.pid
        self.exit_code = None
        self.wall = None
        self.maxrss_kib = 0
        self.cpu_s = None
        Proc.live.append(self)

    def sample_memory(self):
        """Peak RSS so far: VmHWM, the kernel's high-water mark of this program's memory.

        Not wait4's ru_maxrss (nor /usr/bin/time's "Maximum resident set size"): Linux
        carries the parent's high-water mark over fork and exec into it, so a child of a
        large process reports at least that (`/usr/bin/time -f %M /bin/true` can say
        1.8 GB). VmHWM belongs to the memory map exec made, so it is the program's own.
        """
        try:
            with open(f"/proc/{self.pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        self.maxrss_kib = max(self.maxrss_kib, int(line.split()[1]))
                        break
        except OSError:
            pass

    def poll(self):
        if self.exit_code is not None:
            return self.exit_code
        self.sample_memory()
        pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self._reaped(status, usage)
        return self.exit_code

    def _reaped(self, status, usage):
        self.wall = time.monotonic() - self.started
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.exit_code  # So that Popen never waits again.
        self.cpu_s = usage.ru_utime + usage.ru_stime  # Its own: not inherited.
        if self in Proc.live:
            Proc.live.remove(self)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name} still running after {timeout:.0f} s")
            time.sleep(0.002)
        return self.exit_code

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not exit within `timeout`."""
        if self.poll() is not None:
            return self.exit_code
        self.sample_memory()  # The high-water mark of the whole run, before shutdown.
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.wait(timeout)
        except TimeoutError:
            progress(f"  {self.name} did not stop within {timeout} s of SIGTERM: killing it")
            os.kill(self.pid, signal.SIGKILL)
            return self.wait(10)


def stop_everything():
    for proc in list(Proc.live):
        try:
            proc.stop(timeout=5)
        except Exception:  # Last resort at exit: never leave a child behind.
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _on_signal(number, _frame):
    raise SystemExit(128 + number)


def progress(text):
    print(text, flush=True)


# ---------------------------------------------------------------------------------------
# Small helpers.


def percentile(sorted_values, fraction):
    """Nearest rank: the smallest value with at least `fraction` of the values <= it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _varint(data, at):
    """A protobuf varint at `at`: (value, where the next field starts)."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def placed_at(value):
    """(seconds, nanos) of a kitchen.v1.Order's placed_at (field 4), read from its
    protobuf bytes; (0, 0) when it has none. Just enough of the wire format to put the
    waiter's records back in the order it placed them."""
    at, seconds, nanos = 0, 0, 0
    while at < len(value):
        tag, at = _varint(value, at)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            _, at = _varint(value, at)
        elif wire_type == 2:
            length, at = _varint(value, at)
            end = at + length
            if field == 4:
                inner = at
                while inner < end:
                    inner_tag, inner = _varint(value, inner)
                    number, inner = _varint(value, inner)
                    if inner_tag >> 3 == 1:
                        seconds = number
                    elif inner_tag >> 3 == 2:
                        nanos = number
            at = end
        else:
            raise ValueError(f"unexpected wire type {wire_type} in an order")
    return seconds, nanos


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(h|ms|us|ns|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def parse_absl_duration(text):
    """absl::FormatDuration's output ("812us", "1.234ms", "2.5s", "1m2.5s", "0") in s."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("-")
    if body == "0":
        return 0.0
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            raise ValueError(f"not a duration: {text!r}")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body) or position == 0:
        raise ValueError(f"not a duration: {text!r}")
    return sign * total


def parse_log_time(text):
    """The services' log time, 2026-11-24T06:30:26.899Z, as Unix seconds."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def wait_for(predicate, timeout, what, proc=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.exit_code}) while waiting for {what}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def read_text(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


def machine_info():
    cpu = "unknown"
    try:
        for line in read_text("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def package_version(name):
        try:
            return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name],
                                  capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(memory_gib, 1),
        "kernel": platform.release(),
        "librdkafka": package_version("librdkafka1") or "unknown",
        "kcat": package_version("kcat") or "unknown",
        "python": platform.python_version(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def read_defaults(path, function):
    """The {"name", "value"} properties a service sets in `function` of `path`."""
    try:
        text = read_text(path)
    except OSError:
        return {}
    start = text.find(function + "(")
    if start < 0:
        return {}
    end = text.find("\n}", start)
    return dict(re.findall(r'\{"([a-z.]+)",\s*"([^"]*)"\}', text[start:end]))


def service_settings(repo):
    """The waiter's producer and the consumers' settings, as the source has them now, so
    that kcat is always run with the same ones (and bench.md says which they were)."""
    producer = read_defaults(os.path.join(repo, "waiter/order_sender.cc"),
                             "WaiterProducerDefaults")
    consumer = read_defaults(os.path.join(repo, "kafka/consumer.cc"), "ConsumerDefaults")
    if "linger.ms" not in producer or "fetch.wait.max.ms" not in consumer:
        progress("   warning: could not read the services' Kafka settings from the source; "
                 "kcat runs with the last known ones")
    producer = {"enable.idempotence": "true", "acks": "all", "linger.ms": "1",
                "batch.num.messages": "10000", "compression.type": "lz4",
                "queue.buffering.max.messages": "20000", **producer}
    consumer = {"fetch.wait.max.ms": "2", **consumer}
    kcat_producer = {k: producer[k] for k in ("enable.idempotence", "acks", "linger.ms",
                                              "batch.num.messages", "compression.type",
                                              "queue.buffering.max.messages")}
    kcat_consumer = {k: consumer[k] for k in ("fetch.wait.max.ms", "queued.max.messages.kbytes",
                                              "fetch.max.bytes") if k in consumer}
    return {"waiter_producer": producer, "consumer": consumer,
            "kcat_producer": kcat_producer, "kcat_consumer": kcat_consumer}


def as_x(properties):
    return [arg for name, value in properties.items() for arg in ("-X", f"{name}={value}")]


# ---------------------------------------------------------------------------------------
# The bench.


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.work = args.work
        self.serial = 0
        self.results = {"machine": machine_info(), "settings": {}, "producer": {},
                        "latency": {}, "single_order": {}, "ledger": {}, "memory": {}}
        self.kafka = service_settings(args.repo)
        self.results["kafka_settings"] = self.kafka
        self.kcat_fetch = as_x(self.kafka["kcat_consumer"])

    # -- processes ------------------------------------------------------------------------

    def path(self, name):
        self.serial += 1
        return os.path.join(self.work, f"{self.serial:03d}-{name}")

    def binary(self, name):
        path = os.path.join(self.bin, name)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"bench: {path} not found: build first (tools/bench does)")
        return path

    def start(self, name, argv, stdin=subprocess.DEVNULL):
        """Starts a process with its standard output and error in files of the work dir."""
        out_path, err_path = self.path(f"{name}.out"), self.path(f"{name}.log")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = Proc(name, argv, stdout=out, stderr=err, stdin=stdin)
        proc.out_path, proc.err_path = out_path, err_path
        return proc

    def run(self, name, argv, timeout, stdin=subprocess.DEVNULL, check=True):
        proc = self.start(name, argv, stdin=stdin)
        proc.wait(timeout)
        if check and proc.exit_code != 0:
            raise RuntimeError(f"{name} exited {proc.exit_code}: {' '.join(argv)}\n"
                               f"{read_text(proc.err_path)[-2000:]}")
        return proc

    def start_broker(self):
        broker = self.start("devbroker", [self.binary("deploy/devbroker/devbroker"), "--port", "0"])
        address = wait_for(lambda: read_text(broker.out_path).strip().splitlines()[:1], 30,
                           "the devbroker's address", broker)[0]
        broker.address = address
        return broker

    def stop(self, proc):
        return proc.stop()

    def topic_count(self, address):
        """Records in pizza-order: the sum over partitions of the last offset + 1."""
        proc = self.run("kcat-count", ["kcat", "-b", address, "-C", "-t", TOPIC, "-o", "-1",
                                       "-e", "-q", *self.kcat_fetch, "-f", "%p %o\n"], timeout=60)
        total = 0
        for line in read_text(proc.out_path).splitlines():
            if line.strip():
                total += int(line.split()[1]) + 1
        return total

    def waiter(self, address, count, extra=(), name="waiter", timeout=300):
        argv = [self.binary("waiter/waiter"), "--brokers", address, "--count", str(count),
                "--seed", "1", *extra]
        started_unix = time.time()
        proc = self.run(name, argv, timeout=timeout)
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
        proc = self.run("kcat-dump", ["kcat", "-b", address, "-C", "-t", TOPIC, "-e", "-o",
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
        input_path = self.path("kcat-input")
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
            proc = self.run("kcat-produce", argv, timeout=300, stdin=stdin)
        return {"wall_s": proc.wall, "cpu_s": proc.cpu_s, "maxrss_kib": proc.maxrss_kib}

    def producer_phase(self):
        n, repeats = self.args.count, self.args.repeats
        progress(f"== 1. producer: waiter --count {n} vs kcat -P, {repeats} runs each, a fresh "
                 "devbroker per run")
        waiter_runs, kcat_runs = [], []
        input_path, records = None, None
        for run in range(1, repeats + 1):
            broker = self.start_broker()
            try:
                w = self.waiter(broker.address, n, name=f"waiter-produce-{run}")
                counted = self.topic_count(broker.address)
                if counted != n:
                    raise RuntimeError(f"topic holds {counted} records after the waiter, not {n}")
                if input_path is None:
                    input_path, records = self.dump_records(broker.address, n)
                    progress(f"   kcat input: the waiter's {records['records']} records read back "
                             f"(values {records['mean_value_bytes']:.1f} B on average, keys "
                             f"{records['min_key']}..{records['max_key']})")
            finally:
                self.stop(broker)
            w["orders_per_s"] = n / w["wall_s"]
            w["value_mb_per_s"] = records["value_bytes"] / w["wall_s"] / 1e6
            waiter_runs.append(w)
            progress(f"   run {run}: waiter {w['wall_s']:.2f} s = {w['orders_per_s']:,.0f} orders/s "
                     f"(its own count: {w['own_orders_per_s']:,}/s), peak RSS "
                     f"{w['maxrss_kib'] / 1024:.1f} MiB")

            broker = self.start_broker()
            try:
                k = self.kcat_produce(broker.address, input_path)
                counted = self.topic_count(broker.address)
                if counted != n:
                    raise RuntimeError(f"topic holds {counted} records after kcat, not {n}")
            finally:
                self.stop(broker)
            k["orders_per_s"] = n / k["wall_s"]
            k["value_mb_per_s"] = records["value_bytes"] / k["wall_s"] / 1e6
            kcat_runs.append(k)
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
        cook = self.start(f"cook-{group}", [self.binary("cook/cook"), "--brokers", address,
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
        broker = self.start_broker()
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
                self.stop(cook)
            cook_rss.append(cook.maxrss_kib)
            cook_cpu.append(cook.cpu_s)
        finally:
            self.stop(broker)
        if self.args.variants:
            progress("   a fresh devbroker and cook with -X fetch.wait.max.ms=1 (the mock does not "
                     "answer a waiting fetch early)")
            broker = self.start_broker()
            try:
                cook = self.start_cook(broker.address, "bench-latency-fetch1",
                                       ["-X", "fetch.wait.max.ms=1"])
                try:
                    runs.append(self.latency_run(
                        cook, broker.address,
                        "1000/s, waiter -X linger.ms=0, cook -X fetch.wait.max.ms=1", 1000,
                        seconds, ["-X", "linger.ms=0"]))
                finally:
                    self.stop(cook)
                cook_rss.append(cook.maxrss_kib)
            finally:
                self.stop(broker)
        self.results["latency"] = {"seconds_per_rate": seconds, "warmup_s": self.args.warmup_s,
                                   "runs": runs, "cook_maxrss_kib": max(cook_rss),
                                   "cook_cpu_s": cook_cpu[0]}

    def single_order_phase(self):
        n = self.args.single_orders
        progress(f"== 2b. one order as a person places it: `waiter margherita 17`, {n} times")
        broker = self.start_broker()
        walls = []
        try:
            for i in range(n):
                proc = self.run("waiter-one", [self.binary("waiter/waiter"), "--brokers",
                                               broker.address, "margherita", "17"], timeout=60)
                walls.append(proc.wall * 1e3)
        finally:
            self.stop(broker)
        ordered = sorted(walls)
        result = {"runs": n, "wall_ms": walls, "p50_ms": percentile(ordered, 0.5),
                  "max_ms": ordered[-1], "min_ms": ordered[0],
                  "over_500ms": sum(1 for v in walls if v >= 500)}
        self.results["single_order"] = result
        progress(f"   wall time: min {result['min_ms']:.0f} ms, median {result['p50_ms']:.0f} ms, "
                 f"max {result['max_ms']:.0f} ms; {result['over_500ms']} of {n} took >= 500 ms")

    # -- 3. ledger -----------------------------------------------------------------------

    def kcat_consume(self, address, count):
        out_path = self.path("kcat-consume.txt")
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
        ledger = self.path(f"{group}.ledger")
        argv = [self.binary("manager/manager"), "--brokers", address, "--ledger", ledger,
                "--group", group, *extra]
        manager = self.start(f"manager-{group}", argv)
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
            status = self.stop(manager)
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
        broker = self.start_broker()
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
            self.stop(broker)

        progress(f"   group commit vs one fsync per order, on a backlog of {small}")
        broker = self.start_broker()
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
            self.stop(broker)
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

    # -- report --------------------------------------------------------------------------

    def memory_summary(self):
        p = self.results["producer"]
        lat = self.results["latency"]
        led = self.results["ledger"]
        waiter_peaks = [r["maxrss_kib"] for r in p["waiter_runs"]]
        waiter_peaks += [r["waiter_maxrss_kib"] for r in lat["runs"]]
        memory = {
            "waiter": {"maxrss_kib": max(waiter_peaks),
                       "during": f"load mode, --count {p['count']} as fast as it goes"},
            "cook": {"maxrss_kib": lat["cook_maxrss_kib"],
                     "during": "the latency runs (all rates, one process)"},
            "manager": {"maxrss_kib": led["manager"]["maxrss_kib"],
                        "during": f"catching up a backlog of {led['backlog']}"},
            "kcat -P": {"maxrss_kib": max(r["maxrss_kib"] for r in p["kcat_runs"]),
                        "during": "producing the same records"},
            "kcat -C": {"maxrss_kib": led["kcat"]["maxrss_kib"],
                        "during": "consuming the same backlog"},
        }
        self.results["memory"] = memory

    def targets(self):
        p, led, mem = self.results["producer"], self.results["ledger"], self.results["memory"]
        default_1000 = next((r for r in self.results["latency"]["runs"]
                             if r["rate"] == 1000 and not r["waiter_extra"]), None)
        rows = [
            ("waiter produce rate >= 1.0x kcat (ratio of the medians)",
             f"{p['ratio']:.2f}x (fastest runs {p['best_ratio']:.2f}x, run by run "
             f"{p['pair_ratio_median']:.2f}x)",
             p["ratio"] >= TARGET_PRODUCE_RATIO),
            ("manager catch-up >= 1.0x kcat -C to a file, whole process (incl. group join)",
             f"{led['ratio_whole_process']:.2f}x", led["ratio_whole_process"] >= TARGET_LEDGER_RATIO),
            ("manager catch-up >= 1.0x kcat -C to a file, streaming (first to last record)",
             f"{led['ratio_streaming']:.2f}x", led["ratio_streaming"] >= TARGET_LEDGER_RATIO),
        ]
        if default_1000:
            p99 = default_1000["steady"]["p99_ms"]
            rows.append(("end-to-end p99 <= 5 ms at 1000 orders/s", f"{p99:.2f} ms",
                         p99 <= TARGET_P99_MS_AT_1000))
        for service in ("waiter", "cook", "manager"):
            mib = mem[service]["maxrss_kib"] / 1024
            rows.append((f"{service} peak RSS < 30 MiB", f"{mib:.1f} MiB", mib < TARGET_RSS_MIB))
        self.results["targets"] = [{"target": t, "measured": m, "met": met} for t, m, met in rows]
        return rows

    def markdown(self):
        r = self.results
        m, p, led = r["machine"], r["producer"], r["ledger"]
        lat, one = r["latency"], r["single_order"]
        out = []
        add = out.append
        add("# The kitchen's benchmark")
        add("")
        add(f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Linux "
            f"{m['kernel']}; librdkafka {m['librdkafka']}, kcat {m['kcat']}; {m['date_utc']}. "
            "Broker: devbroker (librdkafka's mock cluster, 3 brokers, in memory) on the same "
            "machine. Binaries built with `bazel build -c opt`. How to read this: "
            "bench/README.md.")
        add("")
        add("## Targets")
        add("")
        add("| target | measured | |")
        add("| --- | --- | --- |")
        for t in r["targets"]:
            add(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**missed**'} |")
        add("")
        rec = p["records"]
        add(f"## 1. Producer: {p['count']:,} orders, median of {p['repeats']} runs")
        add("")
        kp = r["kafka_settings"]["kcat_producer"]
        add(f"Same records for both: kcat sends the waiter's own keys and values read back, "
            "in the order the waiter placed them "
            f"(values {rec['mean_value_bytes']:.1f} B on average, keys "
            f"{rec['min_key']}..{rec['max_key']}) with two headers of the same size, and the "
            "waiter's producer settings (" + ", ".join(f"`{k}={v}`" for k, v in kp.items()) +
            "). Wall clock of the whole process; a fresh devbroker per run.")
        add("")
        add("| | wall s | orders/s | MB/s (values) | CPU s | orders per CPU s | peak RSS MiB |")
        add("| --- | --- | --- | --- | --- | --- | --- |")
        for who, label in (("waiter", "waiter --count"), ("kcat", "kcat -P")):
            x = p[who]
            add(f"| {label} | {x['wall_s']:.2f} | {x['orders_per_s']:,.0f} | "
                f"{x['value_mb_per_s']:.1f} | {x['cpu_s']:.2f} | {p['count'] / x['cpu_s']:,.0f} | "
                f"{x['maxrss_kib'] / 1024:.1f} |")
        add(f"| **waiter / kcat** | | **{p['ratio']:.2f}x** | | | "
            f"{p['kcat']['cpu_s'] / p['waiter']['cpu_s']:.2f}x | |")
        add("")
        add("Each run (orders/s): waiter " +
            ", ".join(f"{x['orders_per_s']:,.0f}" for x in p["waiter_runs"]) + "; kcat " +
            ", ".join(f"{x['orders_per_s']:,.0f}" for x in p["kcat_runs"]) + ". Fastest "
            f"runs: {p['best_ratio']:.2f}x. Each waiter run over the kcat run after it: median "
            f"{p['pair_ratio_median']:.2f}x, from {p['pair_ratios'][0]:.2f}x to "
            f"{p['pair_ratios'][-1]:.2f}x.")
        add("")
        add(f"## 2. End-to-end latency: waiter to cook (`--prep_time=0`)")
        add("")
        ks = r["kafka_settings"]
        add(f"From `placed_at` (set by the waiter) to the cook's `cooking` line, as the cook "
            f"logs it. Settings as in the source: waiter `linger.ms="
            f"{ks['waiter_producer']['linger.ms']}`, consumers `fetch.wait.max.ms="
            f"{ks['consumer']['fetch.wait.max.ms']}`; the last rows override them with `-X`. "
            f"Each rate runs {lat['seconds_per_rate']:g} s; percentiles leave out "
            f"orders placed in the waiter's first {lat['warmup_s']:g} s (start-up); the last "
            "two columns count all orders.")
        add("")
        add("| rate | orders | p50 ms | p99 ms | p99.9 ms | max ms | waiter ack p50 / p99 ms "
            "| max ms, all | orders >= 500 ms |")
        add("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for run in lat["runs"]:
            s = run["steady"]
            add(f"| {run['label']} | {s['orders']:,} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
                f"{s['p999_ms']:.2f} | {s['max_ms']:.2f} | {run['waiter_ack_p50_ms']:.1f} / "
                f"{run['waiter_ack_p99_ms']:.1f} | {run['all']['max_ms']:.1f} | "
                f"{run['stalled_500ms']} |")
        add("")
        add(f"One order at a time (`waiter margherita 17`, {one['runs']} runs, a new process "
            f"each): wall time min {one['min_ms']:.0f} ms, median {one['p50_ms']:.0f} ms, max "
            f"{one['max_ms']:.0f} ms; {one['over_500ms']} of {one['runs']} took >= 500 ms.")
        add("")
        km, mm = led["kcat"], led["manager"]
        add(f"## 3. Ledger: catching up a backlog of {led['backlog']:,} orders")
        add("")
        add("| | wall s (start to last record) | orders/s | first to last record s | "
            "orders/s (streaming) | CPU s | orders per CPU s | peak RSS MiB |")
        add("| --- | --- | --- | --- | --- | --- | --- | --- |")
        add(f"| manager (fsync'ed ledger, group commit) | {mm['wall_s']:.2f} (join "
            f"{mm['join_s']:.1f}) | {mm['orders_per_s']:,.0f} | {mm['recorded_at_span_s']:.3f} | "
            f"{mm['recorded_at_orders_per_s'] or float('nan'):,.0f} | {mm['cpu_s']:.2f} | "
            f"{led['backlog'] / mm['cpu_s']:,.0f} | {mm['maxrss_kib'] / 1024:.1f} |")
        add(f"| kcat -C -e to a file (no group, no fsync, the consumers' fetch settings) | "
            f"{km['wall_s']:.2f} | "
            f"{km['orders_per_s']:,.0f} | {km['first_to_last_byte_s']:.3f} | "
            f"{km['streaming_orders_per_s']:,.0f} | {km['cpu_s']:.2f} | "
            f"{led['backlog'] / km['cpu_s']:,.0f} | {km['maxrss_kib'] / 1024:.1f} |")
        add(f"| **manager / kcat** | | **{led['ratio_whole_process']:.2f}x** | | "
            f"**{led['ratio_streaming']:.2f}x** | | {km['cpu_s'] / mm['cpu_s']:.2f}x | |")
        add("")
        g, s1 = led["manager_group_commit_small"], led["manager_fsync_each_small"]
        add(f"Group commit, a backlog of {led['small_backlog']:,}: from the group's `partitions "
            "assigned` to the last line in the ledger, as the driver saw it (both include the "
            "consumer's start-up, so the gain is a lower bound), and first to last "
            "`recorded_at` (stamped when a batch is synced):")
        add("")
        add("| manager | assigned to last line s | orders/s | first to last recorded_at s |")
        add("| --- | --- | --- | --- |")
        for x, label in ((g, "default (`--sync_max_records=10000`)"),
                         (s1, "`--sync_max_records=1` (one fsync per order)")):
            add(f"| {label} | {x['assigned_to_done_s']:.3f} | "
                f"{x['assigned_to_done_orders_per_s']:,.0f} | {x['recorded_at_span_s']:.3f} |")
        add(f"| **group commit gain** | | **>= {led['group_commit_gain']:.1f}x** | |")
        add("")
        add("## 4. Memory: peak RSS")
        add("")
        add("| process | peak RSS MiB | during |")
        add("| --- | --- | --- |")
        for name, x in r["memory"].items():
            add(f"| {name} | {x['maxrss_kib'] / 1024:.1f} | {x['during']} |")
        add("")
        return "\n".join(out)

    def plot(self, path):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            progress("   (no matplotlib: no plot; tools/install_deps.sh installs python3-matplotlib)")
            return False
        runs = self.results["latency"]["runs"]
        default = sorted((r for r in runs if not r["waiter_extra"]), key=lambda r: r["rate"])
        variants = [r for r in runs if r["waiter_extra"]]
        fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
        series = (("p50_ms", "p50", "o"), ("p99_ms", "p99", "s"), ("p999_ms", "p99.9", "^"),
                  ("max_ms", "max", "v"))
        colours = {}
        for key, name, marker in series:
            line, = ax.plot([r["rate"] for r in default], [r["steady"][key] for r in default],
                            marker=marker, label=f"{name}")
            colours[key] = line.get_color()
        from matplotlib.lines import Line2D
        extra_legend = []
        for index, variant in enumerate(variants):
            x = variant["rate"] * (1.1 + 0.1 * index)
            hollow = "fetch.wait" not in variant["label"]
            for key, name, marker in series:
                ax.plot([x], [variant["steady"][key]], marker=marker, linestyle="none",
                        color=colours[key], markeredgewidth=1.5,
                        markerfacecolor="none" if hollow else colours[key],
                        markeredgecolor=colours[key] if hollow else "black")
            extra_legend.append(Line2D(
                [], [], marker="o", linestyle="none", color="grey", markeredgewidth=1.5,
                markerfacecolor="none" if hollow else "grey",
                markeredgecolor="grey" if hollow else "black",
                label="at " + variant["label"].replace(", ", ": ", 1)))
        ax.axhline(TARGET_P99_MS_AT_1000, color="grey", linestyle="--", linewidth=1)
        ax.text(default[0]["rate"], TARGET_P99_MS_AT_1000 * 1.05, "target: p99 <= 5 ms at 1000/s",
                fontsize=8, color="grey")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("orders per second (waiter --rate)")
        ax.set_ylabel("placed -> cooking (ms)")
        m = self.results["machine"]
        ks = self.results["kafka_settings"]
        ax.set_title(f"Kitchen end-to-end latency (placed -> cooking) on the devbroker\n"
                     f"default settings: waiter linger.ms={ks['waiter_producer']['linger.ms']}, "
                     f"consumers fetch.wait.max.ms={ks['consumer']['fetch.wait.max.ms']}; "
                     f"{m['nproc']} cores {m['cpu_model']}, librdkafka {m['librdkafka']}",
                     fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(handles=handles + extra_legend, fontsize=8, loc="upper left")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return True

    def report(self):
        out = self.args.out
        os.makedirs(out, exist_ok=True)
        self.memory_summary()
        self.targets()
        text = self.markdown()
        with open(os.path.join(out, "bench.md"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(out, "bench.json"), "w") as f:
            json.dump(self.results, f, indent=2, sort_keys=False, default=str)
            f.write("\n")
        plotted = self.plot(os.path.join(out, "latency.png"))
        print()
        print(text, flush=True)
        progress(f"written: {out}/bench.md, {out}/bench.json" +
                 (f", {out}/latency.png" if plotted else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="bazel-bin of an -c opt build")
    parser.add_argument("--repo", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), help="the workspace (its Kafka settings are read)")
    parser.add_argument("--out", default="results", help="where bench.md/json/png go")
    parser.add_argument("--count", type=int, default=200000, help="orders per producer run")
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
    parser.add_argument("--backlog", type=int, default=200000)
    parser.add_argument("--small_backlog", type=int, default=20000,
                        help="backlog for group commit vs one fsync per order")
    parser.add_argument("--timeout_s", type=float, default=180)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: small counts, short rates (figures not meaningful)")
    parser.add_argument("--keep", action="store_true", help="keep the logs of every process")
    args = parser.parse_args()
    if args.quick:
        args.count, args.repeats, args.latency_s = 20000, 1, 2
        args.backlog, args.small_backlog, args.single_orders = 20000, 2000, 3
    args.bin = os.path.abspath(args.bin)
    args.out = os.path.abspath(args.out)
    os.makedirs(os.path.join(args.out, "tmp"), exist_ok=True)
    args.work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(args.out, "tmp"))

    atexit.register(stop_everything)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _on_signal)

    bench = Bench(args)
    bench.results["settings"] = {k: v for k, v in vars(args).items() if k not in ("work",)}
    started = time.monotonic()
    m = bench.results["machine"]
    progress(f"bench: {m['nproc']} cores ({m['cpu_model']}), Linux {m['kernel']}, librdkafka "
             f"{m['librdkafka']}; logs in {args.work}")
    ok = False
    try:
        bench.producer_phase()
        bench.latency_phase()
        bench.single_order_phase()
        bench.ledger_phase()
        bench.results["elapsed_s"] = round(time.monotonic() - started, 1)
        bench.report()
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
