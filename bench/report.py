"""File: bench/report.py

What the benchmark writes: the machine it ran on, the targets met or missed, and
OUT/bench.md (the tables, also printed), OUT/bench.json (every raw number) and
OUT/latency.png (latency percentiles against rate).

    results = {"machine": machine_info(), ...}   # filled by the phases
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
TARGET_LEDGER_RATIO = 1.0
TARGET_P99_MS_AT_1000 = 5.0
TARGET_RSS_MIB = 30.0


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
        "manager": {"maxrss_kib": led["manager"]["maxrss_kib"],
                    "during": f"catching up a backlog of {led['backlog']}"},
        "kcat -P": {"maxrss_kib": max(r["maxrss_kib"] for r in p["kcat_runs"]),
                    "during": "producing the same records"},
        "kcat -C": {"maxrss_kib": led["kcat"]["maxrss_kib"],
                    "during": "consuming the same backlog"},
    }
    results["memory"] = memory

def targets(results):
    p, led, mem = results["producer"], results["ledger"], results["memory"]
    default_1000 = next((r for r in results["latency"]["runs"]
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
    results["targets"] = [{"target": t, "measured": m, "met": met} for t, m, met in rows]
    return rows

def markdown(results):
    r = results
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
        f"logs it. Settings as the binaries print them: waiter `linger.ms="
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

def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("   (no matplotlib: no plot; tools/install_deps.sh installs python3-matplotlib)")
        return False
    runs = results["latency"]["runs"]
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
    m = results["machine"]
    ks = results["kafka_settings"]
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

def write_report(results, out):
    os.makedirs(out, exist_ok=True)
    memory_summary(results)
    targets(results)
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
