"""File: bench/report.py

What the benchmark writes: the machine it ran on (and its load), the targets met or
missed on each broker, and OUT/bench.md (the tables, each broker's side by side, real
Kafka first; also printed), OUT/bench.json (every raw number) and OUT/latency.png
(latency percentiles against rate, a line per broker).

    results = {"machine": machine_info(), "brokers": {"kafka-3": {...}, ...}}
    write_report(results, "results")
"""

import datetime
import json
import os
import platform
import subprocess

from processes import progress, read_text

# Targets: measured against, never asserted.
TARGET_PRODUCE_RATIO = 1.0
TARGET_LEDGER_STREAMING_RATIO = 0.5
TARGET_P99_MS_AT_1000 = 10.0  # placed -> cooking, on three nodes (issue #19).
TARGET_RSS_MIB = 30.0


def load_average():
    """The machine's load (1, 5, 15 minutes), as `uptime` says it."""
    return list(os.getloadavg())


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


def memory_summary(results):
    """Peak RSS of every process of one broker's run (results: that broker's)."""
    p = results["producer"]
    lat = results["latency"]
    led = results["ledger"]
    waiter_peaks = [r["maxrss_kib"] for r in p["waiter_runs"]]
    waiter_peaks += [r["waiter_maxrss_kib"] for r in lat["runs"]]
    memory = {
        "waiter": {"maxrss_kib": max(waiter_peaks),
                   "during": f"load mode, --count {p['count']} as fast as it goes"},
        "cook": {"maxrss_kib": lat["cook_maxrss_kib"],
                 "during": "the latency runs (all rates, one process)"},
        "manager": {"maxrss_kib": max(led["manager"]["maxrss_kib"],
                                      lat.get("manager_maxrss_kib", 0)),
                    "during": f"catching up a backlog of {led['backlog']} (and the latency runs)"},
        "kcat -P": {"maxrss_kib": max(r["maxrss_kib"] for r in p["kcat_runs"]),
                    "during": "producing the same records"},
        "kcat -C -J": {"maxrss_kib": led["kcat"]["maxrss_kib"],
                       "during": "consuming the same backlog"},
    }
    if p.get("perf_runs"):
        memory["ProducerPerformance (JVM)"] = {
            "maxrss_kib": max(r["maxrss_kib"] for r in p["perf_runs"]),
            "during": "producing as many records"}
    if led.get("console"):
        memory["kafka-console-consumer (JVM)"] = {"maxrss_kib": led["console"]["maxrss_kib"],
                                                  "during": "consuming the same backlog"}
    for node, kib in sorted(results.get("broker_jvm_maxrss_kib", {}).items()):
        memory[f"Kafka broker node {node} (JVM, -Xmx512m)"] = {
            "maxrss_kib": kib, "during": "the whole run on this cluster"}
    results["memory"] = memory

def targets(results, name):
    """The goals of issue #19 on one broker's run: (target, measured, met or None)."""
    p, led, mem = results["producer"], results["ledger"], results["memory"]
    default_1000 = next((r for r in results["latency"]["runs"]
                         if r["rate"] == 1000 and not r["waiter_extra"]), None)
    rows = [
        ("waiter produce rate >= 1.0x kcat -P (ratio of the medians)",
         f"{p['ratio']:.2f}x (fastest runs {p['best_ratio']:.2f}x, run by run "
         f"{p['pair_ratio_median']:.2f}x)",
         p["ratio"] >= TARGET_PRODUCE_RATIO),
        ("manager streaming catch-up >= 0.5x kcat -C -J to a synced file",
         f"{led['ratio_streaming']:.2f}x", led["ratio_streaming"] >= TARGET_LEDGER_STREAMING_RATIO),
    ]
    if default_1000:
        p99 = default_1000["steady"]["p99_ms"]
        goal = name == "kafka-3"
        rows.append(("placed -> cooking p99 <= 10 ms at 1000 orders/s" +
                     ("" if goal else " (the goal is on three nodes; for comparison)"),
                     f"{p99:.2f} ms", (p99 <= TARGET_P99_MS_AT_1000) if goal else None))
    for service in ("manager", "waiter", "cook"):
        mib = mem[service]["maxrss_kib"] / 1024
        rows.append((f"{service} peak RSS < 30 MiB", f"{mib:.1f} MiB", mib < TARGET_RSS_MIB))
    results["targets"] = [{"target": t, "measured": m, "met": met} for t, m, met in rows]
    return rows


def verdict(met):
    return "met" if met else "not a goal here" if met is None else "**missed**"


def markdown(results):
    m = results["machine"]
    order = list(results["brokers"])
    out = []
    add = out.append
    add("# The kitchen's benchmark")
    add("")
    add(f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Linux "
        f"{m['kernel']}; librdkafka {m['librdkafka']}, kcat {m['kcat']}; {m['date_utc']}. "
        "Binaries built with `bazel build -c opt`. Load average (1, 5, 15 min) at the start "
        f"{', '.join(f'{x:.2f}' for x in results['load_at_start'])}, at the end "
        f"{', '.join(f'{x:.2f}' for x in results['load_at_end'])}"
        + (" (a load above the 2 cores means other work shared them: every figure is "
           "slower and noisier than on an idle machine)"
           if max(results["load_at_start"][0], results["load_at_end"][0]) > m["nproc"] else "")
        + f". The whole run took {results['elapsed_s']:.0f} s ("
        + ", ".join(f"{results['brokers'][b]['broker']['name']} "
                    f"{results['brokers'][b]['elapsed_s']:.0f} s" for b in order)
        + "). How to read this: bench/README.md.")
    add("")
    add("## Targets")
    add("")
    add("| target | " + " | ".join(results["brokers"][b]["broker"]["name"] for b in order) + " |")
    add("| --- |" + " --- |" * len(order))
    names = [t["target"] for t in results["brokers"][order[0]]["targets"]]
    for index, name in enumerate(names):
        cells = []
        for b in order:
            t = results["brokers"][b]["targets"][index]
            cells.append(f"{t['measured']}: {verdict(t['met'])}")
        add(f"| {name} | " + " | ".join(cells) + " |")
    add("")
    for b in order:
        out += broker_markdown(results["brokers"][b], results)
    return "\n".join(out)


def broker_markdown(r, top):
    p, led = r["producer"], r["ledger"]
    lat, one = r["latency"], r["single_order"]
    real = r["broker"]["kind"] == "kafka"
    out = []
    add = out.append
    add(f"## On the {r['broker']['name']}")
    add("")
    add(f"Broker: {r['broker']['description']}"
        + (f" (up, topics created, in {r['broker']['start_s']:.0f} s)" if real else "")
        + f". This broker's part took {r['elapsed_s']:.0f} s.")
    add("")
    rec = p["records"]
    add(f"### 1. Producer: {p['count']:,} orders, median of {p['repeats']} runs")
    add("")
    kp = top["kafka_settings"]["kcat_producer"]
    add(f"Same records for both: kcat sends the waiter's own keys and values read back, "
        "in the order the waiter placed them "
        f"(values {rec['mean_value_bytes']:.1f} B on average, keys "
        f"{rec['min_key']}..{rec['max_key']}) with three headers of the same size, and the "
        "waiter's producer settings (" + ", ".join(f"`{k}={v}`" for k, v in kp.items()) +
        "). Wall clock of the whole process; " + (
            "the same topic for every run, each run checked by what it added to the end "
            "offsets." if real else "a fresh devbroker per run."))
    add("")
    add("| | wall s | orders/s | MB/s (values) | CPU s | orders per CPU s | peak RSS MiB |")
    add("| --- | --- | --- | --- | --- | --- | --- |")
    for who, label in (("waiter", "waiter --count"), ("kcat", "kcat -P")):
        x = p[who]
        add(f"| {label} | {x['wall_s']:.2f} | {x['orders_per_s']:,.0f} | "
            f"{x['value_mb_per_s']:.1f} | {x['cpu_s']:.2f} | {p['count'] / x['cpu_s']:,.0f} | "
            f"{x['maxrss_kib'] / 1024:.1f} |")
    if p.get("perf"):
        x = p["perf"]
        add(f"| ProducerPerformance (Kafka's own; **no keys**, so it fills bigger batches; "
            f"random {round(p['records']['mean_value_bytes'])}-byte values, no headers) "
            f"| {x['wall_s']:.2f} with its JVM's start | {x['orders_per_s']:,.0f} "
            f"(its own count, without the start: {x['own_records_per_s']:,.0f}) | "
            f"{x['value_mb_per_s']:.1f} | {x['cpu_s']:.2f} | {p['count'] / x['cpu_s']:,.0f} | "
            f"{x['maxrss_kib'] / 1024:.1f} |")
    add(f"| **waiter / kcat** | | **{p['ratio']:.2f}x** | | | "
        f"{p['kcat']['cpu_s'] / p['waiter']['cpu_s']:.2f}x | |")
    if p.get("perf"):
        add(f"| **waiter / ProducerPerformance's own count** | | **{p['ratio_perf']:.2f}x** "
            "| | | | |")
        add("")
        add("ProducerPerformance ran with " +
            ", ".join(f"`{k}={v}`" for k, v in p["perf"]["props"].items()) + ".")
    add("")
    add("Each run (orders/s): waiter " +
        ", ".join(f"{x['orders_per_s']:,.0f}" for x in p["waiter_runs"]) + "; kcat " +
        ", ".join(f"{x['orders_per_s']:,.0f}" for x in p["kcat_runs"]) + ". Fastest "
        f"runs: {p['best_ratio']:.2f}x. Each waiter run over the kcat run after it: median "
        f"{p['pair_ratio_median']:.2f}x, from {p['pair_ratios'][0]:.2f}x to "
        f"{p['pair_ratios'][-1]:.2f}x.")
    add("")
    add(f"### 2. End-to-end latency: waiter to cook and ledger (`--prep_time=0`)")
    add("")
    ks = top["kafka_settings"]
    wait = (ks["consumer_printed_fetch_wait"] if real else ks["consumer"]["fetch.wait.max.ms"])
    add(f"placed -> cooking: from `placed_at` (set by the waiter) to the `at` of the cook's "
        "COOKING event on order-status (the cook's clock when it took the order). placed -> "
        "ready: to the moment a read_committed reader of order-status (kcat -u, read every "
        "2 ms) saw the READY event (on real Kafka, once the cook's transaction committed, "
        "batched by `--batch_max_delay` 100 ms). placed -> recorded: to the ledger's "
        "`recorded_at` (milliseconds; a batch is synced every `--sync_max_delay` 100 ms). "
        f"Settings as the binaries print them: waiter `linger.ms="
        f"{ks['waiter_producer']['linger.ms']}`, consumers `fetch.wait.max.ms={wait}`"
        + ("; the last rows override them with `-X`" if len(lat["runs"]) > 3 else "") +
        f". Each rate runs {lat['seconds_per_rate']:g} s; percentiles leave out "
        f"orders placed in the waiter's first {lat['warmup_s']:g} s (start-up); the last "
        "two columns count all orders.")
    add("")
    add("| rate | orders | cooking p50 / p99 / p99.9 ms | max ms | ready p50 / p99 / p99.9 ms "
        "| recorded p50 / p99 / p99.9 ms | waiter ack p50 / p99 ms | cooking max ms, all | "
        "orders >= 500 ms | cook's pauses >= 100 ms: count, total / span s, longest s |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")

    def pause(x):
        if not x:
            return ""
        return (f"{x['over_100ms']}, {x['sum_s']:.1f} / {x['span_s']:.1f}, "
                f"{x['max_s']:.2f}")

    def triple(x, digits):
        if not x:
            return ""
        return (f"{x['p50_ms']:.{digits}f} / {x['p99_ms']:.{digits}f} / "
                f"{x['p999_ms']:.{digits}f}")

    for run in lat["runs"]:
        s = run["steady"]
        add(f"| {run['label']} | {s['orders']:,} | {triple(s, 2)} | {s['max_ms']:.2f} | "
            f"{triple(run['ready_steady'], 1)} | {triple(run['recorded_steady'], 0)} | "
            f"{run['waiter_ack_p50_ms']:.1f} / "
            f"{run['waiter_ack_p99_ms']:.1f} | {run['all']['max_ms']:.1f} | "
            f"{run['stalled_500ms']} | {pause(run.get('cook_pauses'))} |")
    add("")
    tx = lat.get("cook_transactions")
    if tx and tx["committed"]:
        add(f"The cook (one process, all rates) committed {tx['committed']:,} transactions "
            f"for {tx['cooked']:,} orders in the {tx['span_s']:.0f} s it held its partitions: "
            f"one every {tx['mean_s']:.2f} s on average. A READY is visible to read_committed "
            "readers once its transaction commits.")
        add("")
    add(f"One order at a time (`waiter margherita 17`, {one['runs']} runs, a new process "
        f"each): wall time min {one['min_ms']:.0f} ms, median {one['p50_ms']:.0f} ms, max "
        f"{one['max_ms']:.0f} ms; {one['over_500ms']} of {one['runs']} took >= 500 ms.")
    add("")
    km, mm = led["kcat"], led["manager"]
    add(f"### 3. Ledger: catching up a backlog of {led['backlog']:,} orders")
    add("")
    add("| | wall s (start to last record) | orders/s | first to last record s | "
        "orders/s (streaming) | CPU s | orders per CPU s | peak RSS MiB |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    add(f"| manager (fsync'ed ledger, group commit) | {mm['wall_s']:.2f} (join "
        f"{mm['join_s']:.1f}) | {mm['orders_per_s']:,.0f} | {mm['recorded_at_span_s']:.3f} | "
        f"{mm['recorded_at_orders_per_s'] or float('nan'):,.0f} | {mm['cpu_s']:.2f} | "
        f"{led['backlog'] / mm['cpu_s']:,.0f} | {mm['maxrss_kib'] / 1024:.1f} |")
    add(f"| kcat -C -J -e to a file, then fdatasync (no group, the consumers' fetch wait, "
        f"their prefetch of before #19) | {km['wall_s']:.2f} (sync {km['sync_s']:.3f}) | "
        f"{km['orders_per_s']:,.0f} | {km['first_to_last_byte_s']:.3f} | "
        f"{km['streaming_orders_per_s']:,.0f} | {km['cpu_s']:.2f} | "
        f"{led['backlog'] / km['cpu_s']:,.0f} | {km['maxrss_kib'] / 1024:.1f} |")
    c = led.get("console")
    if c:
        add(f"| kafka-console-consumer to a file (a JVM; a group of its own; keys printed) | "
            f"{c['wall_s']:.2f} | {c['orders_per_s']:,.0f} | {c['first_to_last_byte_s']:.3f} | "
            f"{c['streaming_orders_per_s']:,.0f} | {c['cpu_s']:.2f} | "
            f"{led['backlog'] / c['cpu_s']:,.0f} | {c['maxrss_kib'] / 1024:.1f} |")
    add(f"| **manager / kcat** | | **{led['ratio_whole_process']:.2f}x** | | "
        f"**{led['ratio_streaming']:.2f}x** | | {km['cpu_s'] / mm['cpu_s']:.2f}x | |")
    add("")
    if led.get("memory_matrix"):
        add(f"What bounds the manager's memory: the same backlog of {led['backlog']:,}, from "
            "the shipped defaults one setting put back to its value before #19 at a time (and one "
            "malloc arena), then all four, each in a new group:")
        add("")
        add("| manager | peak RSS MiB | wall s (start to last record) | orders/s (streaming) "
            "| x kcat -C -J (streaming) |")
        add("| --- | --- | --- | --- | --- |")
        for x in led["memory_matrix"]:
            rate = x["recorded_at_orders_per_s"] or float("nan")
            add(f"| {x['label']} | {x['maxrss_kib'] / 1024:.1f} | {x['wall_s']:.2f} | "
                f"{rate:,.0f} | {rate / led['kcat']['streaming_orders_per_s']:.2f}x |")
        add("")
    g, s1 = led["manager_group_commit_small"], led["manager_fsync_each_small"]
    add(f"Group commit, a backlog of {led['small_backlog']:,}: from the group's `partitions "
        "assigned` to the last line in the ledger, as the driver saw it (both include the "
        "consumer's start-up, so the gain is a lower bound), and first to last "
        "`recorded_at` (stamped when a batch is synced):")
    add("")
    add("| manager | assigned to last line s | orders/s | first to last recorded_at s |")
    add("| --- | --- | --- | --- |")
    for x, label in ((g, "default (`--sync_max_records=2000`)"),
                     (s1, "`--sync_max_records=1` (one fsync per order)")):
        add(f"| {label} | {x['assigned_to_done_s']:.3f} | "
            f"{x['assigned_to_done_orders_per_s']:,.0f} | {x['recorded_at_span_s']:.3f} |")
    add(f"| **group commit gain** | | **>= {led['group_commit_gain']:.1f}x** | |")
    add("")
    add("### 4. Memory: peak RSS")
    add("")
    add("| process | peak RSS MiB | during |")
    add("| --- | --- | --- |")
    for name, x in r["memory"].items():
        add(f"| {name} | {x['maxrss_kib'] / 1024:.1f} | {x['during']} |")
    add("")
    return out

def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("   (no matplotlib: no plot; tools/install_deps.sh installs python3-matplotlib)")
        return False
    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
    series = (("p50_ms", "p50", "o", ":"), ("p99_ms", "p99", "s", "-"),
              ("p999_ms", "p99.9", "^", "--"))
    for index, (target, r) in enumerate(results["brokers"].items()):
        default = sorted((x for x in r["latency"]["runs"] if not x["waiter_extra"]),
                         key=lambda x: x["rate"])
        colour = f"C{index}"
        for key, name, marker, style in series:
            ax.plot([x["rate"] for x in default], [x["steady"][key] for x in default],
                    marker=marker, linestyle=style, color=colour,
                    label=f"{r['broker']['name']}: {name}")
    ax.axhline(TARGET_P99_MS_AT_1000, color="grey", linestyle="--", linewidth=1)
    ax.text(min(results["settings"]["rates"]), TARGET_P99_MS_AT_1000 * 1.05,
            "goal: p99 <= 10 ms at 1000/s on three nodes", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("orders per second (waiter --rate)")
    ax.set_ylabel("placed -> cooking (ms), from the COOKING events")
    m = results["machine"]
    ks = results["kafka_settings"]
    ax.set_title(f"Kitchen end-to-end latency (placed -> cooking)\n"
                 f"waiter linger.ms={ks['waiter_producer']['linger.ms']}; "
                 f"{m['nproc']} cores {m['cpu_model']}, librdkafka {m['librdkafka']}; load "
                 f"{results['load_at_start'][0]:.1f} at the start", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=len(results["brokers"]))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_report(results, out):
    os.makedirs(out, exist_ok=True)
    for name, r in results["brokers"].items():
        memory_summary(r)
        targets(r, name)
    text = markdown(results)
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=False, default=str)
        f.write("\n")
    plotted = plot(results, os.path.join(out, "latency.png"))
    print()
    print(text, flush=True)
    progress(f"written: {out}/bench.md, {out}/bench.json" +
             (f", {out}/latency.png" if plotted else ""))
