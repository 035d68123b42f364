"""File: bench/brokers.py

Where the benchmark's phases run: the dev broker or a real Kafka cluster, behind one
interface so that every phase measures the same way on each.

  - DevBrokers: a fresh devbroker (librdkafka's mock cluster, in memory) for every
    place a phase asks for; the kitchen's own topics (pizza-order, order-status).
  - KafkaBrokers: one real Kafka cluster (tools/kafka up --foreground, 1 or 3 nodes,
    replication 3 and min.insync.replicas=2 with 3) for the whole run. Starting a
    cluster takes tens of seconds, so a phase gets a topic of its own instead of a
    fresh broker (created at the start, all at once), and a producer run is counted by
    what it added to the topic's end offsets.

    brokers = KafkaBrokers(runner, tool, nodes=3)
    with brokers.place("backlog") as place:   # place.address, place.topic, ...
        ...
    brokers.jvm_peaks()   # {node: VmHWM KiB} of the broker JVMs so far
"""

import contextlib
import json
import os
import subprocess
import time

from processes import progress, read_text, wait_for

KITCHEN_TOPIC, KITCHEN_STATUS_TOPIC = "pizza-order", "order-status"
PARTITIONS = 6


class Place:
    """A broker address and the topics a phase uses there."""

    def __init__(self, address, topic, status_topic):
        self.address = address
        self.topic = topic
        self.status_topic = status_topic


class DevBrokers:
    kind = "dev"
    real = False

    def __init__(self, runner):
        self.runner = runner
        self.description = ("devbroker (librdkafka's mock cluster, 3 brokers, in memory) on "
                            "the same machine, a fresh one for every run")
        self.name = "dev broker"

    @contextlib.contextmanager
    def place(self, purpose):
        broker = self.runner.start_broker()
        try:
            yield Place(broker.address, KITCHEN_TOPIC, KITCHEN_STATUS_TOPIC)
        finally:
            broker.stop()

    def jvm_peaks(self):
        return {}

    def stop(self):
        pass


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class KafkaBrokers:
    kind = "kafka"
    real = True
    # A topic per phase (besides the kitchen's, which the latency phase uses), and the
    # status topic of each phase that runs a cook.
    PURPOSES = {"latency": (KITCHEN_TOPIC, KITCHEN_STATUS_TOPIC),
                "produce": ("bench-produce", None),
                "single": ("bench-single", None),
                "backlog": ("bench-backlog", None),
                "small-backlog": ("bench-small-backlog", None)}

    def __init__(self, runner, tool, nodes):
        self.runner = runner
        self.tool = tool
        self.nodes = nodes
        self.replication = 3 if nodes >= 3 else 1
        self.name = f"Kafka, {nodes} node{'s' if nodes > 1 else ''}"
        self.description = (f"Apache Kafka (KRaft, tools/kafka) with {nodes} node"
                            f"{'s' if nodes > 1 else ''} on the same machine, each broker and "
                            f"controller, replication {self.replication}"
                            + (", min.insync.replicas=2" if nodes >= 3 else "") +
                            "; one cluster for the whole run, a topic per phase")
        self.state_dir = runner.path(f"kafka-{nodes}")
        started = time.monotonic()
        progress(f"   starting {self.name} (tools/kafka up --nodes {nodes})")
        self.supervisor = runner.start(f"kafka-{nodes}", [
            tool, "--state_dir", self.state_dir, "up", "--foreground", "--nodes", str(nodes),
            "--stop_timeout", "10"])
        self.address = wait_for(lambda: read_text(self.supervisor.out_path).strip(), 300,
                                f"{self.name} to serve", self.supervisor).splitlines()[-1]
        self.pids = self._node_pids()
        self._create_topics()
        self.start_s = time.monotonic() - started
        progress(f"   {self.name} serving at {self.address} in {self.start_s:.0f} s (topics "
                 "included)")
        self.peaks = {}

    def _node_pids(self):
        pids = {}
        for node in range(1, self.nodes + 1):
            path = os.path.join(self.state_dir, f"node-{node}", "pid")
            pids[node] = int(read_text(path).strip())
        return pids

    def tool_argv(self, name, *arguments):
        """One of Kafka's own tools, run by tools/kafka with the pinned Kafka (the tool's
        JVM replaces tools/kafka's process: its pid is the JVM's)."""
        return [self.tool, "--state_dir", self.state_dir, "tool", name, *arguments]

    def _create_topics(self):
        topics = sorted({t for t, _ in self.PURPOSES.values() if t != KITCHEN_TOPIC})
        creations = []
        for topic in topics:
            argv = self.tool_argv("kafka-topics", "--bootstrap-server", self.address, "--create",
                                  "--if-not-exists", "--topic", topic, "--partitions",
                                  str(PARTITIONS), "--replication-factor", str(self.replication))
            creations.append((topic, subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                                      stdout=subprocess.PIPE,
                                                      stderr=subprocess.STDOUT)))
        for topic, process in creations:
            output, _ = process.communicate(timeout=180)
            if process.returncode != 0:
                raise RuntimeError(f"creating topic {topic} failed: {output.decode()[-1000:]}")
        # Created is not yet served: on 3 nodes a partition's new leader answered
        # ListOffsets with "Unknown topic or partition" right after the creation
        # returned. Wait until every partition's end can be asked for.
        for topic in topics:
            wait_for(lambda: self._ends_known(topic), 60, f"{topic}'s partitions to be served")

    def _ends_known(self, topic):
        """Whether every partition of `topic` answers for its end (kcat exits 0)."""
        probe = subprocess.run(["kcat", "-b", self.address, "-C", "-t", topic, "-o", "-1", "-e",
                                "-q", "-f", "%p\n"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        if probe.returncode == 0:
            return True
        time.sleep(0.2)
        return False

    @contextlib.contextmanager
    def place(self, purpose):
        topic, status = self.PURPOSES[purpose]
        yield Place(self.address, topic, status or KITCHEN_STATUS_TOPIC)
        self.sample()

    def sample(self):
        for node, pid in self.pids.items():
            kib = vm_hwm_kib(pid)
            if kib is not None:
                self.peaks[node] = max(self.peaks.get(node, 0), kib)

    def jvm_peaks(self):
        self.sample()
        return dict(self.peaks)

    def stop(self):
        self.sample()
        self.supervisor.stop(timeout=60)
