#!/usr/bin/python3
# File: tests/readme_commands_test.py
#
# The README's hand commands are part of the product: this runs them as written, so
# the README cannot drift from what the kitchen does. Each block of commands that
# follows a line `<!-- readme_commands_test: SCENARIO -->` in README.md belongs to
# that scenario (`dev`: the dev broker; `kafka`: a local real cluster), and a
# scenario's blocks run in order, in a fresh working folder where `bazel-bin/`,
# `tools/` and `proto/` are what Bazel built for this test.
#
# What "as written" allows, and no more:
#  - `bazel build` lines are not run: the binaries are this test's data (Bazel
#    cannot run inside a Bazel test);
#  - the long-running services a person starts in a terminal of their own
#    (devbroker, cook, manager) are started in the background, and the next command
#    waits until they serve;
#  - each scenario runs in a network namespace of its own, so that the README's
#    fixed port 9092 is free whatever else this machine runs, and tools/kafka keeps
#    its state in the test's folder (KITCHEN_KAFKA_STATE_DIR).
# Every other command must exit 0, and what it did is checked afterwards: each order
# cooked and recorded, none dead-lettered.
#
# Run by Bazel (//tests:readme_commands_test); needs root (unshare --net).

import fcntl
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

RUNFILES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(RUNFILES, "README.md")
WORK = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="readme_commands_test.")
MARKER = re.compile(r"^<!-- readme_commands_test: (\w+) -->$")
SERVICES = ("bazel-bin/deploy/devbroker/devbroker", "bazel-bin/cook/cook",
            "bazel-bin/manager/manager")

failures = []


class CommandFailed(Exception):
    """A README command failed: the rest of its scenario is not run."""


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)


def commands_by_scenario(text):
    """{scenario: [command, ...]} from the README's marked blocks (four-space
    indented, a command continued over lines ending in `\\` or `|`)."""
    scenarios = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        marker = MARKER.match(lines[i])
        i += 1
        if not marker:
            continue
        while i < len(lines) and not lines[i].strip():
            i += 1
        block = []
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            block.append(lines[i][4:])
            i += 1
        commands, current = [], ""
        for line in block:
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            current += line + "\n"
            if not line.rstrip().endswith(("\\", "|")):
                commands.append(current.strip())
                current = ""
        scenarios.setdefault(marker.group(1), []).extend(commands)
    return scenarios


def loopback_up():
    """Brings `lo` up in this fresh network namespace (SIOCSIFFLAGS, IFF_UP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SIOCSIFFLAGS


def workspace(scenario):
    """A folder laid out like the source tree after `bazel build`."""
    folder = os.path.join(WORK, scenario)
    os.makedirs(os.path.join(folder, "bazel-bin", "deploy", "devbroker"))
    for binary in ["waiter/waiter", "cook/cook", "manager/manager",
                   "deploy/devbroker/devbroker"]:
        os.makedirs(os.path.join(folder, "bazel-bin", os.path.dirname(binary)), exist_ok=True)
        os.symlink(os.path.join(RUNFILES, binary), os.path.join(folder, "bazel-bin", binary))
    for tree in ["tools", "proto", "third_party"]:
        os.symlink(os.path.join(RUNFILES, tree), os.path.join(folder, tree))
    return folder


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def serves(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Scenario:
    def __init__(self, name, commands):
        self.name = name
        self.commands = commands
        self.folder = workspace(name)
        self.environment = {**os.environ,
                            "KITCHEN_KAFKA_STATE_DIR": os.path.join(self.folder, "kafka-state")}
        self.background = []  # (command, Popen, log path)
        self.background_stopped = []
        self.outputs = []  # (command, standard output)

    def log_of(self, program):
        for command, _, log in self.background + self.background_stopped:
            if command.startswith(program):
                with open(log, errors="replace") as f:
                    return f.read()
        return ""

    def run(self):
        for command in self.commands:
            words = shlex.split(command, comments=True)
            if words[:2] == ["bazel", "build"]:
                continue
            if words[:2] == ["tools/kafka", "down"]:
                # A person stops the services in the other terminals (Ctrl-C) first.
                self.stop_services()
            if words[0] in SERVICES and "report" not in words:
                self.start(command, words)
            else:
                self.finish(command)

    def start(self, command, words):
        log = os.path.join(self.folder, f"{len(self.background)}-{os.path.basename(words[0])}.log")
        process = subprocess.Popen(["bash", "-c", command], cwd=self.folder, env=self.environment,
                                   stdin=subprocess.DEVNULL, stdout=open(log, "w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.background.append((command, process, log))
        if words[0].endswith("devbroker"):
            ready = wait_for(lambda: serves(9092), 30)
        else:
            ready = wait_for(lambda: "partitions assigned" in open(log).read(), 60)
        check(ready, f"{self.name}: `{command}` did not come up; its log:\n{open(log).read()[-2000:]}")
        if not ready:
            raise CommandFailed(command)

    def finish(self, command):
        done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.environment,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=180)  # Values are binary.
        self.outputs.append((command, done.stdout))
        check(done.returncode == 0,
              f"{self.name}: `{command}` exited {done.returncode}:\n{done.stdout[-1500:]}"
              f"{done.stderr[-1500:]}")
        if done.returncode != 0:
            raise CommandFailed(command)

    def output_of(self, prefix):
        return "".join(out for command, out in self.outputs if command.startswith(prefix))

    def stop_services(self):
        for command, process, _ in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for command, process, log in self.background:
            try:
                status = process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                status = process.wait()
            check(status == 0, f"{self.name}: `{command}` did not stop cleanly ({status}):\n"
                               f"{open(log).read()[-1500:]}")
        self.background_stopped += self.background
        self.background = []

    def stop(self):
        self.stop_services()
        if os.path.exists(os.path.join(self.folder, "kafka-state", "cluster.json")):
            subprocess.run([os.path.join(self.folder, "tools", "kafka"), "down"],
                           env=self.environment, capture_output=True, timeout=120)


def ready_lines(log, pizza, table):
    return len(re.findall(rf" ready: {pizza} for table {table} ", log))


def check_dev(scenario):
    cook = scenario.log_of("bazel-bin/cook/cook")
    ledger = os.path.join(scenario.folder, "ledger.jsonl")
    # Three orders: two from the waiter, one encoded by protoc and sent by kcat.
    check(wait_for(lambda: ready_lines(scenario.log_of("bazel-bin/cook/cook"), "margherita", 17) == 2
                   and ready_lines(scenario.log_of("bazel-bin/cook/cook"), "diavola", 17) == 1, 60),
          f"dev: not every order cooked:\n{scenario.log_of('bazel-bin/cook/cook')[-3000:]}")
    check(wait_for(lambda: os.path.exists(ledger) and
                   len(open(ledger).read().splitlines()) == 3, 60), "dev: the ledger has not 3 orders")
    cook = scenario.log_of("bazel-bin/cook/cook")
    check("bad record" not in cook, f"dev: a README command made a poison record:\n{cook[-3000:]}")
    listed = scenario.output_of("kcat -b localhost:9092 -C").splitlines()
    check(len(listed) == 3 and all(line.startswith("17 ") for line in listed),
          f"dev: kcat -C listed {listed}")
    check("margherita" in scenario.output_of("bazel-bin/waiter/waiter --menu"), "dev: no menu")


def check_kafka(scenario):
    cook = scenario.log_of("bazel-bin/cook/cook")
    ledger = os.path.join(scenario.folder, "ledger.jsonl")
    check(ready_lines(cook, "margherita", 17) == 1 or
          wait_for(lambda: ready_lines(scenario.log_of("bazel-bin/cook/cook"), "margherita", 17) == 1, 60),
          f"kafka: the order was not cooked:\n{scenario.log_of('bazel-bin/cook/cook')[-3000:]}")
    check(os.path.exists(ledger) and len(open(ledger).read().splitlines()) == 1,
          "kafka: the ledger has not the one order")
    status = scenario.output_of("tools/kafka status")
    check(status.count(": running") == 3, f"kafka: status did not show 3 nodes running:\n{status}")
    check("order-id:" in scenario.output_of("tools/kafka tool kafka-console-consumer"),
          "kafka: the console consumer showed no order-id header")
    check(re.search(r"^cook\s+pizza-order\s+\d", scenario.output_of(
        "tools/kafka tool kafka-consumer-groups"), re.M) is not None,
          "kafka: kafka-consumer-groups showed no offsets of group cook")


def main():
    if os.environ.get("README_COMMANDS_TEST_NETNS") != "1":
        # Again, in a network namespace of its own (root: no user namespace needed).
        os.execvpe("unshare", ["unshare", "--net", sys.executable, os.path.abspath(__file__)],
                   {**os.environ, "README_COMMANDS_TEST_NETNS": "1"})
    loopback_up()
    with open(README) as f:
        scenarios = commands_by_scenario(f.read())
    check(set(scenarios) == {"dev", "kafka"}, f"README's scenarios: {sorted(scenarios)}")
    for name, checks in [("dev", check_dev), ("kafka", check_kafka)]:
        scenario = Scenario(name, scenarios.get(name, []))
        print(f"== {name}: {len(scenario.commands)} commands", flush=True)
        try:
            scenario.run()
        except CommandFailed:
            pass  # Said already; what it did is still checked below.
        finally:
            # The kafka scenario's last command is `tools/kafka down`: check what the
            # services did before stopping them.
            if name == "dev":
                checks(scenario)
            scenario.stop()
        if name == "kafka":
            checks(scenario)
    print(f"readme_commands_test: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
