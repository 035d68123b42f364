"""File: tools/kafka.py

A real Apache Kafka (KRaft) cluster on 127.0.0.1, for people and for tests: each node
is both broker and controller, its own `kafka.Kafka` JVM with its own data directory
under a state directory. The Kafka that runs is the one pinned in
third_party/kafka/pom.xml, installed by tools/install_kafka.sh into a cache outside
the source tree.

One process owns the nodes: the supervisor (`up --foreground`). It starts them as its
own children, so the kernel kills them if it dies (PR_SET_PDEATHSIG): a test that runs
the supervisor as its child leaks no JVM even when it is killed. Plain `up` starts the
supervisor detached, waits until the cluster serves and returns; `down` asks it to stop.
Restarting a node (`start N`) goes through the supervisor's control socket (an
abstract Unix socket named after the state directory), so the node is its child again; kill, pause and resume are plain signals.

`up --secure` starts the secure cluster instead: its only client listeners ask for TLS
and SASL/SCRAM-SHA-512, with a throwaway CA made at start, a SCRAM user per service and
ACLs that give each only what it needs. It runs the Kafka pinned in
third_party/kafka-3.9/pom.xml (why 3.9: that file, and README "Security").

State directory layout:
  cluster.json        nodes, ports, bootstrap list, the supervisor's pid
  supervisor.log      what the supervisor said after `up` returned (detached only)
  node-N/server.properties, node-N/data/, node-N/kafka.log, node-N/pid
  secure/             (--secure, every file 0600) ca.pem, the broker's keystore,
                      USER.properties per user (librdkafka's format), admin-java.properties
"""

import argparse
import base64
import ctypes
import hashlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

import kafka_secure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class KafkaInstall:
    """One pinned Kafka: its pom and the logging settings its nodes and tools run with."""

    def __init__(self, directory, node_logging, tool_logging):
        self.pom = os.path.join(ROOT, "third_party", directory, "pom.xml")
        self.node_logging = node_logging
        self.tool_logging = tool_logging


# Every cluster's Kafka (Log4j2), and the secure cluster's (3.9: reload4j).
DEFAULT_KAFKA = KafkaInstall(
    "kafka",
    "-Dlog4j2.configurationFile=" + os.path.join(ROOT, "third_party", "kafka", "log4j2.properties"),
    "-Dlog4j2.configurationFile=" + os.path.join(ROOT, "third_party", "kafka",
                                                 "tools-log4j2.properties"))
SECURE_KAFKA = KafkaInstall(
    "kafka-3.9",
    "-Dlog4j.configuration=file:" + os.path.join(ROOT, "third_party", "kafka-3.9",
                                                 "log4j.properties"),
    "-Dlog4j.configuration=file:" + os.path.join(ROOT, "third_party", "kafka-3.9",
                                                 "tools-log4j.properties"))
# The Kafka this command works with: the secure one once main() knows the cluster is.
kafka_install = DEFAULT_KAFKA
# Debian's OpenJDK 17, by absolute path (Bazel's tests run with no JAVA_HOME).
JAVA = os.environ.get("KITCHEN_JAVA", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
CACHE_DIR = os.environ.get("KITCHEN_CACHE_DIR", "/var/cache/kitchen")
DEFAULT_STATE_DIR = os.environ.get("KITCHEN_KAFKA_STATE_DIR", "/tmp/kitchen-kafka")
READY_LINE = "Kafka Server started"
MARKER = ".kitchen-kafka"

# The kitchen's topics, created before `up` returns (auto-creation is off), with the
# partition count the dev broker uses.
TOPICS = [("pizza-order", 6), ("pizza-order.dlq", 6), ("order-status", 6),
          ("kitchen-members", 1)]
# Settings of one topic besides the shared ones: order-status keeps a day of events
# (README, "Order events"), pizza-order and its dead letters Kafka's default week.
# kitchen-members (who is working, for the board) keeps each member's latest word for
# an hour.
TOPIC_CONFIGS = {"order-status": {"retention.ms": "86400000"},
                 "kitchen-members": {"cleanup.policy": "compact,delete",
                                     "retention.ms": "3600000"}}

# Local-only settings: what one machine and its tests need, left out of the comparison
# with docker-compose.yaml (README, "Real Kafka on this machine").
LOCAL_SETTINGS = {
    # 6 internal partitions instead of 50: a first group join or transaction does not
    # wait for 50 partitions to be created and loaded.
    "offsets.topic.num.partitions": "6",
    "transaction.state.log.num.partitions": "6",
    # Kafka's default allocates 128 MiB per node at start; its own test harnesses 2 MiB.
    "log.cleaner.dedupe.buffer.size": "2097152",
    # Tests stop members with short session timeouts (Kafka's minimum is 6000 ms).
    "group.min.session.timeout.ms": "1000",
    # Two cores: fewer request threads than Kafka's defaults (3 network, 8 I/O).
    "num.network.threads": "2",
    "num.io.threads": "4",
}


def kafka_version():
    with open(kafka_install.pom) as pom:
        match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read())
    if not match:
        raise SystemExit(f"kafka: no <kafka.version> in {kafka_install.pom}")
    return match.group(1)


def libs_dir():
    return os.path.join(CACHE_DIR, f"kafka-{kafka_version()}", "libs")


def shared_settings(nodes):
    """The broker settings docker-compose.yaml gives its brokers too (a test compares
    them): three copies and two in sync with three nodes, one with one."""
    replicas, in_sync = ("3", "2") if nodes >= 3 else ("1", "1")
    return {
        "process.roles": "broker,controller",
        "auto.create.topics.enable": "false",
        "default.replication.factor": replicas,
        "min.insync.replicas": in_sync,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": in_sync,
        "group.initial.rebalance.delay.ms": "0",
    }


class Failure(Exception):
    """A situation the user must hear about: the message, and exit status 1."""


def say(message):
    print(f"kafka: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------
# Processes


def die_with_parent():
    """preexec_fn: the kernel SIGKILLs the child when the supervisor dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def paused(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "T"
    except (FileNotFoundError, IndexError):
        return False


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


def java_command(main_class, args, heap, tool=False):
    """The java command line for `main_class` with `args`; main_class None: the
    caller appends an argument file (@FILE) that names the class and its arguments."""
    if tool:
        # Short-lived tools: start fast, as Kafka's scripts give tools 256 MiB.
        flags = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
    else:
        # What kafka-server-start.sh runs, with the heap given.
        flags = [f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                 "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent"]
    command = [JAVA, *flags, "-Djava.awt.headless=true",
               kafka_install.tool_logging if tool else kafka_install.node_logging,
               "-cp", os.path.join(libs_dir(), "*")]
    return command + ([main_class, *args] if main_class else [])


def last_lines(path, count=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-count:])
    except FileNotFoundError:
        return "(no log)\n"


def check_installed():
    if not os.access(JAVA, os.X_OK):
        raise Failure(f"no Java at {JAVA}: run tools/install_deps.sh (Debian's openjdk-17-jre-headless)")
    libs = libs_dir()
    if not os.path.exists(os.path.join(os.path.dirname(libs), ".complete")):
        raise Failure(f"Kafka {kafka_version()}'s jars are not in {libs}: run tools/install_deps.sh")


# ---------------------------------------------------------------------------------
# Ports


def port_free(port):
    """Whether a server could listen on `port`: bound as Kafka binds, with
    SO_REUSEADDR, so connections of an earlier server still in TIME_WAIT do not
    count, while anything listening does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count):
    """Ports the kernel picks, held open together so that no two are the same."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# ---------------------------------------------------------------------------------
# State


class State:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.cluster_file = os.path.join(self.dir, "cluster.json")
        # An abstract socket (Linux): no path-length limit (Bazel's temporary folders
        # are deep), nothing to clean up, gone with the supervisor.
        self.socket_address = "\0kitchen-kafka:" + hashlib.sha256(self.dir.encode()).hexdigest()

    def node_dir(self, node):
        return os.path.join(self.dir, f"node-{node}")

    def node_log(self, node):
        return os.path.join(self.node_dir(node), "kafka.log")

    def node_properties(self, node):
        return os.path.join(self.node_dir(node), "server.properties")

    def secure_dir(self):
        return os.path.join(self.dir, "secure")

    def client_config(self, cluster):
        """The librdkafka properties file a client of `cluster` needs (kcat -F): the
        secure cluster's admin's, or none."""
        if cluster and cluster.get("secure"):
            return kafka_secure.user_properties_path(self.secure_dir(), kafka_secure.ADMIN)
        return None

    def load(self):
        try:
            with open(self.cluster_file) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as error:
            raise Failure(f"{self.cluster_file} is damaged ({error}): tools/kafka down removes it")

    def save(self, cluster):
        temporary = self.cluster_file + ".tmp"
        with open(temporary, "w") as f:
            json.dump(cluster, f, indent=1)
        os.replace(temporary, self.cluster_file)

    def node_pid(self, node):
        """The pid of node N's JVM if it runs (checked against its command line)."""
        try:
            with open(os.path.join(self.node_dir(node), "pid")) as f:
                pid = int(f.read())
        except (FileNotFoundError, ValueError):
            return None
        if alive(pid) and self.node_properties(node) in cmdline(pid):
            return pid
        return None

    def supervisor_pid(self, cluster):
        pid = cluster.get("supervisor_pid") if cluster else None
        if pid and alive(pid) and "kafka.py" in cmdline(pid):
            return pid
        return None

    def remove(self):
        if os.path.exists(os.path.join(self.dir, MARKER)):
            shutil.rmtree(self.dir, ignore_errors=True)

    def clear_leftovers(self, cluster):
        """A cluster whose supervisor is gone: its nodes died with it (PDEATHSIG), but
        a node the kernel has not reaped yet, or one started by an older supervisor,
        is killed here before the state is wiped."""
        for node in range(1, len(cluster.get("nodes", [])) + 1):
            pid = self.node_pid(node)
            if pid:
                os.kill(pid, signal.SIGKILL)
        self.remove()


def running_cluster(state):
    cluster = state.load()
    if cluster is None:
        raise Failure(f"no cluster runs in {state.dir} (tools/kafka up starts one)")
    if not state.supervisor_pid(cluster):
        raise Failure(f"the cluster in {state.dir} is not running: its supervisor "
                      f"(pid {cluster.get('supervisor_pid')}) is gone; tools/kafka down "
                      "removes what is left")
    return cluster


def node_number(cluster, text):
    try:
        node = int(text)
    except ValueError:
        node = 0
    if not 1 <= node <= len(cluster["nodes"]):
        raise Failure(f"no node {text}: nodes are numbered 1 to {len(cluster['nodes'])}")
    return node


# ---------------------------------------------------------------------------------
# The supervisor


class Supervisor:
    def __init__(self, state, args):
        self.state = state
        self.args = args
        self.nodes = args.nodes
        self.children = {}  # node -> Popen
        self.cluster = None
        self.stopping = False
        self.owns_state = False  # Set once the state directory is this supervisor's.

    # --- setting up

    def prepare_state(self):
        existing = self.state.load() if os.path.exists(self.state.cluster_file) else None
        if existing is not None:
            pid = self.state.supervisor_pid(existing)
            if pid:
                raise Failure(f"a cluster already runs in {self.state.dir} (supervisor pid "
                              f"{pid}, bootstrap {existing.get('bootstrap')}): "
                              "tools/kafka down first, or give another --state_dir")
            say(f"removing the leftovers of a cluster whose supervisor (pid "
                f"{existing.get('supervisor_pid')}) is gone")
            self.state.clear_leftovers(existing)
        if os.path.isdir(self.state.dir) and os.listdir(self.state.dir):
            if not os.path.exists(os.path.join(self.state.dir, MARKER)):
                raise Failure(f"{self.state.dir} is not empty and is not a kitchen Kafka "
                              "state directory: give another --state_dir")
            self.state.remove()
        os.makedirs(self.state.dir, exist_ok=True)
        open(os.path.join(self.state.dir, MARKER), "w").close()
        self.owns_state = True

    def choose_ports(self):
        """Client ports (from --port, or free ones), then the controllers' and the SASL
        listeners' (free ones)."""
        # --secure: the client ports are the SASL_SSL listeners', and there is no other.
        others = 2 * self.nodes if self.args.sasl else self.nodes
        if self.args.port:
            clients = list(range(self.args.port, self.args.port + self.nodes))
            for port in clients:
                if not port_free(port):
                    raise Failure(f"port {port} on 127.0.0.1 is taken (tools/kafka up "
                                  f"--port {self.args.port} needs {clients[0]}-{clients[-1]}); "
                                  "stop what listens there, or leave out --port")
            ports = free_ports(others)
        else:
            ports = free_ports(self.nodes + others)
            clients, ports = ports[: self.nodes], ports[self.nodes:]
        controllers, sasl = ports[: self.nodes], ports[self.nodes:]
        return clients, controllers, sasl

    def write_properties(self, clients, controllers, sasl, secure=None):
        """Each node's server.properties (0600: a secure node's holds passwords).
        `secure`: the secure cluster's settings (kafka_secure.broker_settings)."""
        voters = ",".join(f"{n}@127.0.0.1:{controllers[n - 1]}" for n in range(1, self.nodes + 1))
        for node in range(1, self.nodes + 1):
            os.makedirs(os.path.join(self.state.node_dir(node), "data"))
            settings = {
                "node.id": str(node),
                "controller.quorum.voters": voters,
                "listeners": f"PLAINTEXT://127.0.0.1:{clients[node - 1]},"
                             f"CONTROLLER://127.0.0.1:{controllers[node - 1]}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{clients[node - 1]}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names": "CONTROLLER",
                "inter.broker.listener.name": "PLAINTEXT",
                "log.dirs": os.path.join(self.state.node_dir(node), "data"),
                **shared_settings(self.nodes),
                **LOCAL_SETTINGS,
            }
            if sasl:
                # A second client listener that asks for SCRAM-SHA-512 (not TLS: what
                # --sasl proves is that librdkafka authenticates).
                settings["listeners"] += f",SASL_PLAINTEXT://127.0.0.1:{sasl[node - 1]}"
                settings["advertised.listeners"] += f",SASL_PLAINTEXT://127.0.0.1:{sasl[node - 1]}"
                settings["listener.security.protocol.map"] += ",SASL_PLAINTEXT:SASL_PLAINTEXT"
                settings["sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
                settings["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"] = (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;")
            if secure:
                # The only client listener asks for TLS and SCRAM; the controllers'
                # own one (internal) for SASL/PLAIN, so that no listener takes an
                # anonymous client.
                settings["listeners"] = (f"SASL_SSL://127.0.0.1:{clients[node - 1]},"
                                         f"CONTROLLER://127.0.0.1:{controllers[node - 1]}")
                settings["advertised.listeners"] = f"SASL_SSL://127.0.0.1:{clients[node - 1]}"
                settings["listener.security.protocol.map"] = (
                    "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT")
                del settings["inter.broker.listener.name"]
                settings.update(secure)
            descriptor = os.open(self.state.node_properties(node),
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as f:
                f.write("# Written by tools/kafka up.\n")
                for key, value in settings.items():
                    f.write(f"{key}={value}\n")

    def format_storage(self):
        # Like kafka-storage.sh random-uuid: 16 random bytes in URL-safe base64, not
        # starting with '-' (Kafka's Uuid avoids that so the id cannot look like a flag).
        while True:
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            if not cluster_id.startswith("-"):
                break
        def format_command(node):
            arguments = ["format", "-t", cluster_id, "-c", self.state.node_properties(node)]
            if not self.args.secure:
                return java_command("kafka.tools.StorageTool", arguments, None, tool=True)
            # The SCRAM users, created with the metadata (KIP-900); their passwords
            # in an argument file, not on the command line.
            words = ["kafka.tools.StorageTool", *arguments]
            for scram in kafka_secure.scram_arguments(self.passwords):
                words += ["--add-scram", scram]
            argument_files.append(kafka_secure.argument_file(self.state.secure_dir(), words))
            return java_command(None, [], None, tool=True) + [f"@{argument_files[-1]}"]

        argument_files = []
        try:
            formats = [subprocess.Popen(
                format_command(n), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True) for n in range(1, self.nodes + 1)]
            outputs = [process.communicate(timeout=120)[0] for process in formats]
        finally:
            for path in argument_files:
                os.unlink(path)
        for node, process in enumerate(formats, start=1):
            output = outputs[node - 1]
            if process.returncode != 0:
                raise Failure(f"formatting node {node}'s storage failed:\n{output[-2000:]}")
        return cluster_id

    # --- nodes

    def start_node(self, node):
        log = open(self.state.node_log(node), "a")
        log.write(f"==== tools/kafka: node {node} starting at {time.strftime('%FT%T')}\n")
        log.flush()
        offset = log.tell()
        process = subprocess.Popen(
            java_command("kafka.Kafka", [self.state.node_properties(node)], self.args.heap),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent, cwd=self.state.node_dir(node))
        log.close()
        self.children[node] = process
        with open(os.path.join(self.state.node_dir(node), "pid"), "w") as f:
            f.write(str(process.pid))
        return offset

    def wait_serving(self, starts, timeout):
        """Waits until each node in `starts` (node -> log offset of its start) logged
        the readiness line; a node that exits or is late is a Failure with its log."""
        began = time.monotonic()
        waiting = dict(starts)
        while waiting:
            for node, offset in list(waiting.items()):
                with open(self.state.node_log(node), errors="replace") as f:
                    f.seek(offset)
                    if READY_LINE in f.read():
                        say(f"node {node} serves at 127.0.0.1:"
                            f"{self.cluster['nodes'][node - 1]['port']} "
                            f"({time.monotonic() - began:.1f} s)")
                        del waiting[node]
                        continue
                status = self.children[node].poll()
                if status is not None:
                    raise Failure(f"node {node} exited with status {status} before serving; "
                                  f"the end of {self.state.node_log(node)}:\n"
                                  f"{last_lines(self.state.node_log(node))}")
            if waiting and time.monotonic() - began > timeout:
                raise Failure("; ".join(
                    f"node {n} did not serve within {timeout:.0f} s; the end of "
                    f"{self.state.node_log(n)}:\n{last_lines(self.state.node_log(n))}"
                    for n in waiting))
            time.sleep(0.1)

    def admin_tool_arguments(self):
        """What Kafka's own tools need besides --bootstrap-server to be let in."""
        if not self.args.secure:
            return []
        return ["--command-config", kafka_secure.admin_java_properties(self.state.secure_dir())]

    def create_topics(self):
        shared = shared_settings(self.nodes)
        creations = [(topic, subprocess.Popen(
            java_command("org.apache.kafka.tools.TopicCommand", [
                "--bootstrap-server", self.cluster["bootstrap"], *self.admin_tool_arguments(),
                "--create",
                "--if-not-exists", "--topic", topic, "--partitions", str(partitions),
                "--replication-factor", shared["default.replication.factor"],
                "--config", f"min.insync.replicas={shared['min.insync.replicas']}"]
                + [argument for name, value in TOPIC_CONFIGS.get(topic, {}).items()
                   for argument in ("--config", f"{name}={value}")],
                None, tool=True),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)) for topic, partitions in TOPICS]
        for topic, process in creations:
            output, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise Failure(f"creating topic {topic} failed:\n{output[-2000:]}")
        deadline = time.monotonic() + 60
        for topic, partitions in TOPICS:
            while True:
                led = partition_leaders(self.cluster["bootstrap"], topic,
                                        self.state.client_config(self.cluster))
                if len(led) == partitions and all(leader >= 0 for leader in led.values()):
                    break
                if time.monotonic() > deadline:
                    raise Failure(f"topic {topic} has no leader for every partition: {led}")
                time.sleep(0.2)
        say("topics " + ", ".join(
            f"{t} ({p} partitions, replication {shared['default.replication.factor']})"
            for t, p in TOPICS))

    def create_scram_user(self):
        """User `kitchen` with a fresh random password, created with Kafka's own
        ConfigCommand (librdkafka 2.0.2 has no SCRAM admin API). The password is on no
        command line: the tool's arguments, main class included, are in an argument
        file (the java launcher's @file) readable only by us, removed once read."""
        password = secrets.token_urlsafe(24)
        arguments = os.path.join(self.state.dir, "scram.args")
        descriptor = os.open(arguments, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(f"kafka.admin.ConfigCommand --bootstrap-server {self.cluster['bootstrap']} "
                    "--alter --entity-type users --entity-name kitchen --add-config "
                    f"SCRAM-SHA-512=[iterations=8192,password={password}]\n")
        try:
            command = java_command(None, [], None, tool=True) + [f"@{arguments}"]
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=120)
        finally:
            os.unlink(arguments)
        if done.returncode != 0:
            raise Failure(f"creating the SCRAM user failed:\n{(done.stdout + done.stderr)[-2000:]}")
        properties = os.path.join(self.state.dir, "sasl.properties")
        descriptor = os.open(properties, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write("# librdkafka properties for the SASL/SCRAM listener (tools/kafka up --sasl)\n"
                    "security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=SCRAM-SHA-512\n"
                    f"sasl.username=kitchen\nsasl.password={password}\n")
        say(f"SASL/SCRAM-SHA-512 listeners at {self.cluster['sasl_bootstrap']}; user kitchen's "
            f"client properties in {properties}")

    def create_acls(self):
        """The users' ACLs (kafka_secure.ACLS), by Kafka 3.9's AclCommand, three at a
        time (ten JVMs at once, each logging in with TLS and SCRAM, starve two cores
        past the tools' 60 s timeout); one that fails is run once more (adding an ACL
        that exists changes nothing)."""
        waiting = [(arguments, 2) for arguments in kafka_secure.acl_arguments(
            self.cluster["bootstrap"], self.state.secure_dir())]
        running = []
        while waiting or running:
            while waiting and len(running) < 3:
                arguments, tries = waiting.pop(0)
                running.append((arguments, tries, subprocess.Popen(
                    java_command("kafka.admin.AclCommand", arguments, None, tool=True),
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True)))
            arguments, tries, process = running.pop(0)
            output, _ = process.communicate(timeout=180)
            if process.returncode != 0:
                if tries <= 1:
                    raise Failure(f"creating the ACLs failed:\n{output[-2000:]}")
                waiting.append((arguments, tries - 1))
        say(f"ACLs for users {', '.join(kafka_secure.USERS)} (README, \"Security\")")

    # --- running

    def up(self):
        began = time.monotonic()
        check_installed()
        self.prepare_state()
        clients, controllers, sasl = self.choose_ports()
        secure = None
        if self.args.secure:
            try:
                store_password = kafka_secure.make_certificates(self.state.secure_dir())
            except kafka_secure.SecureSetupError as error:
                raise Failure(str(error))
            self.passwords = kafka_secure.new_passwords()
            secure = kafka_secure.broker_settings(self.state.secure_dir(), store_password,
                                                  self.passwords)
        self.write_properties(clients, controllers, sasl, secure)
        self.cluster = {
            "kafka_version": kafka_version(),
            "supervisor_pid": os.getpid(),
            "bootstrap": ",".join(f"127.0.0.1:{p}" for p in clients),
            "nodes": [{"node": n, "port": clients[n - 1], "controller_port": controllers[n - 1]}
                      for n in range(1, self.nodes + 1)],
            "ready": False,
        }
        if sasl:
            self.cluster["sasl_bootstrap"] = ",".join(f"127.0.0.1:{p}" for p in sasl)
        if secure:
            self.cluster["secure"] = True
            self.cluster["users"] = kafka_secure.write_client_files(
                self.state.secure_dir(), self.cluster["bootstrap"], self.passwords)
            self.cluster["ca"] = os.path.join(self.state.secure_dir(), "ca.pem")
            self.cluster["admin_properties"] = self.state.client_config(self.cluster)
            self.cluster["admin_java_properties"] = kafka_secure.admin_java_properties(
                self.state.secure_dir())
        self.state.save(self.cluster)
        say(f"formatting {self.nodes} node(s) of Kafka {kafka_version()} in {self.state.dir}")
        self.cluster["cluster_id"] = self.format_storage()
        self.state.save(self.cluster)
        # All together: each node waits for its quorum with no deadline of its own.
        starts = {node: self.start_node(node) for node in range(1, self.nodes + 1)}
        self.wait_serving(starts, self.args.timeout)
        self.create_topics()
        if sasl:
            self.create_scram_user()
        if secure:
            self.create_acls()
            say(f"TLS and SASL/{kafka_secure.MECHANISM} only, at {self.cluster['bootstrap']}; "
                f"CA {self.cluster['ca']}")
            for user, path in self.cluster["users"].items():
                say(f"user {user}'s client properties in {path}")
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.bind(self.state.socket_address)
        self.control.listen(4)
        self.cluster["ready"] = True
        self.state.save(self.cluster)
        say(f"cluster up in {time.monotonic() - began:.1f} s")

    def serve(self):
        """The control loop, on the main thread (PR_SET_PDEATHSIG fires when the thread
        that started a child exits, so every node is started from here)."""
        while not self.stopping:
            readable, _, _ = select.select([self.control], [], [], 0.2)
            if readable:
                connection, _ = self.control.accept()
                with connection:
                    request = connection.makefile().readline().split()
                    connection.sendall((self.handle(request) + "\n").encode())
            for node, process in self.children.items():
                if process.returncode is None and process.poll() is not None:
                    say(f"node {node} exited with status {process.returncode}")

    def handle(self, request):
        if len(request) == 2 and request[0] == "start":
            try:
                node = node_number(self.cluster, request[1])
                process = self.children.get(node)
                if process is not None and process.poll() is None:
                    if alive(process.pid):
                        return f"error node {node} is running (pid {process.pid})"
                    # Killed, but the kernel is still taking its threads down.
                    process.wait(30)
                offset = self.start_node(node)
                self.wait_serving({node: offset}, self.args.timeout)
                return f"ok node {node} serves at 127.0.0.1:{self.cluster['nodes'][node - 1]['port']}"
            except Failure as failure:
                return "error " + str(failure).replace("\n", "\n  ")
        return f"error unknown request {' '.join(request)!r}"

    def stop(self):
        """SIGTERM every node (a paused one is continued first), SIGKILL what is left
        after --stop_timeout: a controlled shutdown can wait long for a controller."""
        running = [p for p in self.children.values() if p.poll() is None]
        if self.children:
            say(f"stopping {len(running)} running node(s)")
        for process in running:
            os.kill(process.pid, signal.SIGCONT)
            process.terminate()
        deadline = time.monotonic() + self.args.stop_timeout
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        keep = os.path.exists(os.path.join(self.state.dir, "keep")) or self.args.keep
        if not self.owns_state:
            return
        if keep:
            self.cluster and self.state.save({**self.cluster, "supervisor_pid": None})
            say(f"stopped; state kept in {self.state.dir}")
        else:
            self.state.remove()


def command_up(state, args):
    if args.nodes not in (1, 3):
        raise Failure(f"--nodes {args.nodes}: a local cluster has 1 or 3 nodes")
    if args.port and not 1 <= args.port <= 65535 - args.nodes:
        raise Failure(f"--port {args.port} is not a port")
    if not args.foreground:
        return detach(args)
    supervisor = Supervisor(state, args)

    def on_signal(signum, frame):
        supervisor.stopping = True
        if supervisor.cluster is None or not supervisor.cluster.get("ready"):
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        supervisor.up()
    except (Failure, KeyboardInterrupt, Exception) as failure:
        supervisor.args.keep = False
        supervisor.stop()
        if isinstance(failure, Failure):
            raise
        if isinstance(failure, KeyboardInterrupt):
            return 130
        raise
    print(supervisor.cluster["bootstrap"], flush=True)
    if args.detached:
        # Whoever waited for the bootstrap line has it: from now on talk to a file.
        log = os.open(os.path.join(state.dir, "supervisor.log"),
                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
    try:
        supervisor.serve()
    finally:
        supervisor.stop()
    return 0


def detach(args):
    """Plain `up`: the supervisor in a session of its own, waited for until it prints
    the bootstrap list or fails."""
    argv = [sys.executable, os.path.abspath(__file__), "--state_dir", args.state_dir, "up",
            "--foreground", "--detached", "--nodes", str(args.nodes), "--port", str(args.port),
            "--heap", args.heap, "--timeout", str(args.timeout),
            "--stop_timeout", str(args.stop_timeout)] + (["--sasl"] if args.sasl else []) + (
                ["--secure"] if args.secure else [])
    supervisor = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  text=True, start_new_session=True)
    lines = supervisor.stdout.read().splitlines()
    if lines and supervisor.poll() is None:
        print(lines[-1])
        return 0
    return supervisor.wait() or 1


# ---------------------------------------------------------------------------------
# Commands on a running cluster


def command_down(state, args):
    cluster = state.load()
    if cluster is None:
        raise Failure(f"no cluster runs in {state.dir}")
    pid = state.supervisor_pid(cluster)
    if not pid:
        state.clear_leftovers(cluster)
        say(f"no cluster was running in {state.dir}; removed what its supervisor "
            f"(pid {cluster.get('supervisor_pid')}) left behind")
        return 0
    if args.keep:
        open(os.path.join(state.dir, "keep"), "w").close()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.stop_timeout + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        say(f"the supervisor (pid {pid}) did not stop in time: killing it and its nodes")
        os.kill(pid, signal.SIGKILL)
        state.clear_leftovers(cluster)
    for node in range(1, len(cluster["nodes"]) + 1):
        leftover = state.node_pid(node)
        if leftover:
            os.kill(leftover, signal.SIGKILL)
    say("down")
    return 0


def command_status(state, args):
    cluster = running_cluster(state)
    print(f"Kafka {cluster['kafka_version']} in {state.dir}, supervisor pid "
          f"{cluster['supervisor_pid']}, bootstrap {cluster['bootstrap']}")
    if cluster.get("secure"):
        print(f"secure: TLS and SASL/{kafka_secure.MECHANISM} only, CA {cluster['ca']}; "
              f"Kafka's tools: --command-config {cluster['admin_java_properties']}")
        for user, path in cluster["users"].items():
            print(f"user {user}: client properties {path}")
    if cluster.get("sasl_bootstrap"):
        print(f"SASL/SCRAM bootstrap {cluster['sasl_bootstrap']}, client properties "
              f"{os.path.join(state.dir, 'sasl.properties')}")
    for node in cluster["nodes"]:
        pid = state.node_pid(node["node"])
        what = "down" if pid is None else ("paused" if paused(pid) else "running")
        print(f"node {node['node']}: {what}{f' (pid {pid})' if pid else ''}, clients "
              f"127.0.0.1:{node['port']}, controller 127.0.0.1:{node['controller_port']}, "
              f"log {state.node_log(node['node'])}")
    return 0


def command_signal(state, args):
    cluster = running_cluster(state)
    node = node_number(cluster, args.node)
    pid = state.node_pid(node)
    if pid is None:
        raise Failure(f"node {node} is not running (tools/kafka start {node} starts it)")
    signum = {"kill": signal.SIGKILL, "pause": signal.SIGSTOP, "resume": signal.SIGCONT}
    os.kill(pid, signum[args.command])
    if args.command == "kill":
        while alive(pid):
            time.sleep(0.05)
    done = {"kill": "killed", "pause": "paused", "resume": "resumed"}[args.command]
    say(f"node {node} (pid {pid}) {done}")
    return 0


def command_start(state, args):
    cluster = running_cluster(state)
    node_number(cluster, args.node)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
        control.connect(state.socket_address)
        control.sendall(f"start {args.node}\n".encode())
        answer = control.makefile().read().strip()
    if answer.startswith("ok "):
        say(answer[3:])
        return 0
    raise Failure(answer.removeprefix("error "))


def command_logs(state, args):
    cluster = state.load()
    if cluster is None:
        raise Failure(f"no cluster in {state.dir}")
    node = node_number(cluster, args.node)
    sys.stdout.write(last_lines(state.node_log(node), args.lines) if args.lines
                     else open(state.node_log(node), errors="replace").read())
    return 0


def partition_leaders(bootstrap, topic, config_file=None):
    """{partition: leader node id} from the cluster's metadata, read with kcat
    (`config_file`: the librdkafka properties a secure cluster asks for)."""
    done = subprocess.run(["kcat", "-b", bootstrap, *(["-F", config_file] if config_file else []),
                           "-L", "-J", "-t", topic, "-m", "5"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return {}
    for entry in json.loads(done.stdout).get("topics", []):
        if entry.get("topic") == topic and not entry.get("error"):
            return {p["partition"]: p["leader"] for p in entry.get("partitions", [])}
    return {}


def java_string_hash(text):
    """Java's String.hashCode, over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def command_leader(state, args):
    cluster = running_cluster(state)
    leaders = partition_leaders(cluster["bootstrap"], args.topic, state.client_config(cluster))
    if args.partition not in leaders:
        raise Failure(f"no partition {args.topic}/{args.partition} in the cluster's metadata")
    if leaders[args.partition] < 0:
        raise Failure(f"{args.topic}/{args.partition} has no leader now")
    print(leaders[args.partition])
    return 0


def command_coordinator(state, args):
    """A group's coordinator leads partition abs(hash(group)) % N of __consumer_offsets
    (Kafka's GroupCoordinatorService.partitionFor), N as the cluster sets it."""
    cluster = running_cluster(state)
    partitions = int(LOCAL_SETTINGS["offsets.topic.num.partitions"])
    partition = (java_string_hash(args.group) & 0x7FFFFFFF) % partitions
    leaders = partition_leaders(cluster["bootstrap"], "__consumer_offsets",
                                state.client_config(cluster))
    if not leaders:
        raise Failure("__consumer_offsets does not exist yet: no consumer group has been "
                      "used on this cluster")
    if leaders.get(partition, -1) < 0:
        raise Failure(f"__consumer_offsets/{partition}, which {args.group!r} uses, has no leader now")
    print(leaders[partition])
    return 0


def command_config(state, args):
    """The settings `up --nodes N` gives every node, as JSON (for the comparison with
    docker-compose.yaml and for the README)."""
    print(json.dumps({
        "kafka_version": kafka_version(),
        "shared": shared_settings(args.nodes),
        "local": LOCAL_SETTINGS,
        "topics": [{"name": t, "partitions": p,
                    "replication_factor": int(shared_settings(args.nodes)["default.replication.factor"]),
                    "min_insync_replicas": int(shared_settings(args.nodes)["min.insync.replicas"])}
                   for t, p in TOPICS],
    }, indent=1))
    return 0


# Kafka's own command-line tools, by the names of the scripts its tarball ships.
KAFKA_TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-dump-log": "org.apache.kafka.tools.DumpLogSegments",
    "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-verifiable-producer": "org.apache.kafka.tools.VerifiableProducer",
    "kafka-verifiable-consumer": "org.apache.kafka.tools.VerifiableConsumer",
    "kafka-storage": "kafka.tools.StorageTool",
}


def command_tool(state, args):
    """Runs one of Kafka's own tools with the pinned Kafka, in place of this process."""
    if args.name not in KAFKA_TOOLS:
        raise Failure(f"unknown tool {args.name!r}; one of {', '.join(sorted(KAFKA_TOOLS))}")
    check_installed()
    command = java_command(KAFKA_TOOLS[args.name], args.arguments, None, tool=True)
    os.execv(command[0], command)


def main(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state_dir", default=argparse.SUPPRESS,
                        help=f"where the cluster keeps its state (default {DEFAULT_STATE_DIR}, "
                             "or $KITCHEN_KAFKA_STATE_DIR)")
    parser = argparse.ArgumentParser(
        prog="tools/kafka", parents=[common],
        description="A real Apache Kafka (KRaft) cluster on 127.0.0.1: each node broker "
                    "and controller, its own process. Nodes are numbered from 1; node N "
                    "has node.id N.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", parents=[common],
                             help="start a cluster; the last line printed is the bootstrap list")
    up.add_argument("--nodes", type=int, default=1, help="1 or 3 (default 1)")
    up.add_argument("--port", type=int, default=0,
                    help="the first node's client port, the next nodes the following ones "
                         "(default: free ports; 9092 is where every service looks)")
    up.add_argument("--heap", default="512m", help="each node's Java heap (default 512m)")
    up.add_argument("--timeout", type=float, default=120,
                    help="seconds a node may take to serve (default 120)")
    up.add_argument("--stop_timeout", type=float, default=15,
                    help="seconds nodes get to stop before SIGKILL (default 15)")
    up.add_argument("--foreground", action="store_true",
                    help="stay attached: the nodes are this process's children and stop "
                         "with it (SIGTERM or SIGINT); what tests use")
    up.add_argument("--keep", action="store_true", help="keep the state when stopping")
    up.add_argument("--sasl", action="store_true",
                    help="also a SASL_PLAINTEXT listener per node asking for SCRAM-SHA-512, "
                         "with user kitchen (client properties in STATE/sasl.properties)")
    up.add_argument("--secure", action="store_true",
                    help="the secure cluster instead: client listeners ask for TLS and "
                         "SASL/SCRAM-SHA-512 only, users waiter, cook, manager and board "
                         "with ACLs; runs Kafka 3.9 (README, \"Security\"); each user's "
                         "client properties in STATE/secure/USER.properties")
    up.add_argument("--detached", action="store_true", help=argparse.SUPPRESS)
    down = commands.add_parser("down", parents=[common],
                               help="stop the cluster (SIGTERM, SIGKILL after a bound)")
    down.add_argument("--keep", action="store_true", help="keep the state directory")
    down.add_argument("--stop_timeout", type=float, default=15)
    commands.add_parser("status", parents=[common], help="what runs where")
    for name, text in [("kill", "SIGKILL node N"), ("start", "restart node N on its data"),
                       ("pause", "SIGSTOP node N"), ("resume", "SIGCONT node N")]:
        sub = commands.add_parser(name, parents=[common], help=text)
        sub.add_argument("node")
    logs = commands.add_parser("logs", parents=[common], help="node N's log")
    logs.add_argument("node")
    logs.add_argument("--lines", type=int, default=0, help="only the last LINES lines")
    leader = commands.add_parser("leader", parents=[common],
                                 help="the node that leads TOPIC's PARTITION")
    leader.add_argument("topic")
    leader.add_argument("partition", type=int)
    coordinator = commands.add_parser("coordinator", parents=[common],
                                      help="the node that coordinates consumer group GROUP")
    coordinator.add_argument("group")
    tool = commands.add_parser(
        "tool", parents=[common],
        help="run one of Kafka's own tools (kafka-topics, kafka-console-consumer, "
             "kafka-consumer-groups, ...) with the pinned Kafka: tools/kafka tool NAME ARGS")
    tool.add_argument("name")
    tool.add_argument("arguments", nargs=argparse.REMAINDER)
    config = commands.add_parser("config", parents=[common],
                                 help="the settings `up` gives the nodes, as JSON")
    config.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args(argv)
    if not hasattr(args, "state_dir"):
        args.state_dir = DEFAULT_STATE_DIR
    state = State(args.state_dir)
    global kafka_install
    try:
        if args.command == "up":
            if args.secure and args.sasl:
                raise Failure("--secure and --sasl: the secure cluster has only TLS and "
                              "SASL listeners already; give one of them")
            secure = args.secure
        else:
            cluster = state.load()
            secure = bool(cluster and cluster.get("secure"))
    except Failure as failure:
        say(str(failure))
        return 1
    if secure:
        kafka_install = SECURE_KAFKA
    handlers = {"up": command_up, "down": command_down, "status": command_status,
                "kill": command_signal, "pause": command_signal, "resume": command_signal,
                "start": command_start, "logs": command_logs, "leader": command_leader,
                "coordinator": command_coordinator, "config": command_config,
                "tool": command_tool}
    try:
        return handlers[args.command](state, args)
    except Failure as failure:
        say(str(failure))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
