#!/usr/bin/python3
# File: tests/kafka_tool_test.py
#
# tools/kafka as a person uses it, on a real one-node Kafka cluster: up, status, the
# faults (kill, start, pause, resume), leader and coordinator, logs, down; and every
# bad situation it promises a clear error for, with nothing left running: Java or the
# jars missing, a port taken, a node that does not come up in time, `up` while a cluster
# runs, `down` when none does, a damaged data directory, the leftovers of a cluster
# whose supervisor was killed. The secure cluster (up --secure) is tests/secure_test's.
#
# Run by Bazel (//tests:kafka_tool_test) or by hand: python3 tests/kafka_tool_test.py

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA = os.path.join(os.path.dirname(HERE), "tools", "kafka")
WORK = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="kafka_tool_test.")


def run(*args, env=None, timeout=180):
    """tools/kafka ARGS to its end: (exit status, stdout, stderr)."""
    done = subprocess.run([KAFKA, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return done.returncode, done.stdout, done.stderr


def kafka_processes(state_dir):
    """Pids of the JVMs whose command line names `state_dir`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                line = f.read().decode(errors="replace")
        except OSError:
            continue
        if "kafka.Kafka" in line and state_dir in line:
            pids.append(int(entry))
    return pids


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class KafkaToolTest(unittest.TestCase):
    def state(self, name):
        return os.path.join(WORK, name)

    def tearDown(self):
        # Whatever a case left running is stopped, even when it failed.
        for name in os.listdir(WORK):
            path = os.path.join(WORK, name)
            if os.path.isdir(path) and os.path.exists(os.path.join(path, "cluster.json")):
                run("--state_dir", path, "down")
            for pid in kafka_processes(path):
                os.kill(pid, signal.SIGKILL)

    def assert_nothing_runs(self, state_dir):
        self.assertTrue(wait_until(lambda: not kafka_processes(state_dir), 20),
                        f"Kafka processes left running for {state_dir}")

    def test_a_cluster_and_its_faults(self):
        state = self.state("main")
        status, out, err = run("--state_dir", state, "up")
        self.assertEqual(status, 0, err)
        bootstrap = out.strip().splitlines()[-1]
        self.assertRegex(bootstrap, r"^127\.0\.0\.1:\d+$")
        self.assertIn("pizza-order (6 partitions, replication 1)", err)

        # A second cluster in the same state directory is refused; the first goes on.
        status, _, err = run("--state_dir", state, "up")
        self.assertEqual(status, 1)
        self.assertIn("a cluster already runs", err)

        status, out, err = run("--state_dir", state, "status")
        self.assertEqual(status, 0, err)
        self.assertIn("node 1: running", out)
        self.assertIn(bootstrap, out)
        status, out, _ = run("--state_dir", state, "leader", "pizza-order", "0")
        self.assertEqual((status, out.strip()), (0, "1"))
        status, _, err = run("--state_dir", state, "leader", "pizza-order", "6")
        self.assertEqual(status, 1)
        self.assertIn("no partition pizza-order/6", err)

        # A consumer group's coordinator, once the group exists.
        subprocess.run(["kcat", "-b", bootstrap, "-G", "tool-test", "pizza-order", "-e",
                        "-X", "auto.offset.reset=earliest"], capture_output=True, timeout=60)
        status, out, err = run("--state_dir", state, "coordinator", "tool-test")
        self.assertEqual((status, out.strip()), (0, "1"), err)

        pid = kafka_processes(state)[0]
        status, _, err = run("--state_dir", state, "pause", "1")
        self.assertEqual(status, 0, err)
        self.assertIn("node 1: paused", run("--state_dir", state, "status")[1])
        self.assertEqual(run("--state_dir", state, "resume", "1")[0], 0)
        status, _, err = run("--state_dir", state, "kill", "1")
        self.assertEqual(status, 0, err)
        self.assertFalse(os.path.exists(f"/proc/{pid}/cmdline") and pid in kafka_processes(state))
        self.assertIn("node 1: down", run("--state_dir", state, "status")[1])
        status, _, err = run("--state_dir", state, "kill", "1")
        self.assertEqual(status, 1)
        self.assertIn("node 1 is not running", err)
        status, _, err = run("--state_dir", state, "start", "1")
        self.assertEqual(status, 0, err)
        self.assertIn("node 1 serves", err)
        status, _, err = run("--state_dir", state, "start", "7")
        self.assertEqual(status, 1)
        self.assertIn("no node 7", err)
        # The restarted node kept its data: the topics are still there.
        self.assertEqual(run("--state_dir", state, "leader", "pizza-order", "5")[1].strip(), "1")
        status, out, _ = run("--state_dir", state, "logs", "1")
        self.assertEqual(out.count("Kafka Server started"), 2)

        status, _, err = run("--state_dir", state, "down")
        self.assertEqual(status, 0, err)
        self.assert_nothing_runs(state)
        self.assertFalse(os.path.exists(state), "down leaves the state behind")
        status, _, err = run("--state_dir", state, "down")
        self.assertEqual(status, 1)
        self.assertIn("no cluster runs", err)

    def test_a_damaged_data_directory_is_a_clear_error(self):
        state = self.state("damaged")
        status, _, err = run("--state_dir", state, "up")
        self.assertEqual(status, 0, err)
        self.assertEqual(run("--state_dir", state, "kill", "1")[0], 0)
        os.unlink(os.path.join(state, "node-1", "data", "meta.properties"))
        status, _, err = run("--state_dir", state, "start", "1")
        self.assertEqual(status, 1)
        self.assertIn("node 1 exited with status", err)
        self.assertIn("meta.properties", err)  # The node's own words, from its log.
        self.assertEqual(run("--state_dir", state, "down")[0], 0)
        self.assert_nothing_runs(state)

    def test_the_leftovers_of_a_killed_supervisor(self):
        state = self.state("orphan")
        supervisor = subprocess.Popen([KAFKA, "--state_dir", state, "up", "--foreground"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      stdin=subprocess.DEVNULL, text=True)
        try:
            line = supervisor.stdout.readline()
            self.assertRegex(line, r"^127\.0\.0\.1:\d+$")
            self.assertTrue(kafka_processes(state))
            supervisor.kill()
            supervisor.wait()
            # Its nodes die with it (PR_SET_PDEATHSIG): a killed test leaks no JVM.
            self.assert_nothing_runs(state)
        finally:
            if supervisor.poll() is None:
                supervisor.kill()
            supervisor.stdout.close()
        status, _, err = run("--state_dir", state, "status")
        self.assertEqual(status, 1)
        self.assertIn("supervisor", err)
        status, out, err = run("--state_dir", state, "up")
        self.assertEqual(status, 0, err)
        self.assertIn("removing the leftovers", err)
        self.assertEqual(run("--state_dir", state, "down")[0], 0)

    def test_a_taken_port_is_refused_and_nothing_is_left(self):
        state = self.state("port")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            status, _, err = run("--state_dir", state, "up", "--port", str(port))
        self.assertEqual(status, 1)
        self.assertIn(f"port {port} on 127.0.0.1 is taken", err)
        self.assert_nothing_runs(state)
        self.assertFalse(os.path.exists(os.path.join(state, "cluster.json")))

    def test_a_node_that_does_not_come_up_in_time(self):
        state = self.state("slow")
        status, _, err = run("--state_dir", state, "up", "--timeout", "0.5")
        self.assertEqual(status, 1)
        self.assertIn("did not serve within", err)
        self.assertIn("node-1/kafka.log", err)
        self.assert_nothing_runs(state)

    def test_java_or_the_jars_missing(self):
        status, _, err = run("--state_dir", self.state("nojava"), "up",
                             env={"KITCHEN_JAVA": "/nonexistent/java"})
        self.assertEqual(status, 1)
        self.assertIn("no Java at /nonexistent/java", err)
        status, _, err = run("--state_dir", self.state("nojars"), "up",
                             env={"KITCHEN_CACHE_DIR": "/nonexistent"})
        self.assertEqual(status, 1)
        self.assertIn("jars are not in /nonexistent/kafka-", err)
        self.assertIn("tools/install_deps.sh", err)
        # The secure cluster's Kafka (3.9) is looked for too.
        status, _, err = run("--state_dir", self.state("nojars-secure"), "up", "--secure",
                             env={"KITCHEN_CACHE_DIR": "/nonexistent"})
        self.assertEqual(status, 1)
        self.assertIn("Kafka 3.9.1's jars are not in /nonexistent/kafka-3.9.1", err)

    def test_bad_arguments(self):
        status, _, err = run("--state_dir", self.state("args"), "up", "--nodes", "2")
        self.assertEqual(status, 1)
        self.assertIn("1 or 3 nodes", err)
        status, _, err = run("--state_dir", self.state("args"), "up", "--secure", "--sasl")
        self.assertEqual(status, 1)
        self.assertIn("--secure and --sasl", err)
        self.assertFalse(os.path.exists(os.path.join(self.state("args"), "cluster.json")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
