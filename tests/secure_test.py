#!/usr/bin/python3
# File: tests/secure_test.py
#
# The kitchen on the secure cluster (tools/kafka up --secure: TLS and SASL/SCRAM-SHA-512
# only, a user per service, ACLs), end to end with the real binaries, real Kafka only:
#  - each service with its own credentials does its job: an order placed and waited
#    for by the waiter, cooked by the cook, recorded by the manager, the board serving;
#  - a wrong password, an unknown user, a certificate the client does not trust,
#    plaintext spoken to the TLS port: each service stops at start within 30 s with
#    exit 2 and an error naming the cause;
#  - a service lacking an ACL is refused by the broker, said clearly, nothing written;
#  - no secret in any output, log, health file, or any process's command line (every
#    process on the machine sampled while the cluster is set up and the services run).
#
# Run by Bazel (//tests:secure_test) or by hand: python3 tests/secure_test.py

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

RUNFILES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(RUNFILES, "tests"))
from command_lines import CommandLines  # noqa: E402
KAFKA = os.path.join(RUNFILES, "tools", "kafka")
WORK = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="secure_test.")


def binary(name):
    return os.path.join(RUNFILES, name, name)




def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def properties(path):
    return dict(line.split("=", 1) for line in read(path).splitlines()
                if "=" in line and not line.startswith("#"))


class SecureKitchenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.state = os.path.join(WORK, "kafka")
        cls.command_lines = CommandLines()
        cls.outputs = []  # (what, text): every output to search for secrets
        cls.cluster = subprocess.Popen(
            [KAFKA, "--state_dir", cls.state, "up", "--foreground", "--secure",
             "--stop_timeout", "5"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        cls.bootstrap = cls.cluster.stdout.readline().strip()
        if not cls.bootstrap:
            cls.cluster.wait()
            raise AssertionError("tools/kafka up --secure failed:\n" + cls.cluster.stderr.read())
        # What up said while starting (it says no more once the cluster serves).
        cls.up_said = ""
        while "user board's client properties" not in cls.up_said:
            cls.up_said += cls.cluster.stderr.readline()
        cls.outputs.append(("tools/kafka up", cls.up_said))
        cls.secure_dir = os.path.join(cls.state, "secure")
        cls.users = {user: os.path.join(cls.secure_dir, f"{user}.properties")
                     for user in ["waiter", "cook", "manager", "board", "admin"]}
        cls.secrets = set()
        for path in glob.glob(os.path.join(cls.secure_dir, "*.properties")):
            for name, value in properties(path).items():
                if name == "sasl.password":
                    cls.secrets.add(value)
                if name == "sasl.jaas.config":
                    cls.secrets.update(re.findall(r'password="([^"]+)"', value))
        for path in glob.glob(os.path.join(cls.state, "node-*", "server.properties")):
            for name, value in properties(path).items():
                if "password" in name:
                    cls.secrets.add(value)
                cls.secrets.update(re.findall(r'password="([^"]+)"', value))
        cls.processes = []

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        cls.cluster.terminate()
        try:
            cls.cluster.wait(60)
        except subprocess.TimeoutExpired:
            cls.cluster.kill()
            cls.cluster.wait()
        cls.command_lines.stop()

    # --- helpers

    def run_service(self, argv, timeout=60):
        """Runs a service to its end: (status, stdout, stderr, seconds)."""
        began = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        self.outputs.append((" ".join(argv), done.stdout + done.stderr))
        return done.returncode, done.stdout, done.stderr, time.monotonic() - began

    def start_service(self, name, argv):
        with open(os.path.join(WORK, f"{name}.log"), "w") as log:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def variant(self, user, name, change):
        """A copy of USER's properties file with `change` (a dict; None removes)."""
        settings = properties(self.users[user])
        for key, value in change.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        path = os.path.join(WORK, f"{name}.properties")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write("".join(f"{k}={v}\n" for k, v in settings.items()))
        return path

    def records(self, topic):
        """How many records `topic` holds, read as the admin."""
        done = subprocess.run(["kcat", "-F", self.users["admin"], "-C", "-t", topic,
                               "-o", "beginning", "-e", "-q", "-f", "x\n"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.count("x")

    def waiter(self, config, *more, pizza="margherita", table="7"):
        return self.run_service([binary("waiter"), "--kafka_config_file", config,
                                 "--pizza", pizza, "--table", table, *more])

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        self.fail(f"not within {timeout} s: {what}")

    # --- the cases (run in name order: the order's whole job first)

    def test_1_the_cluster_and_its_files(self):
        self.assertRegex(self.bootstrap, r"^127\.0\.0\.1:\d+$")
        for user in ["waiter", "cook", "manager", "board"]:
            self.assertIn(f"user {user}'s client properties in {self.users[user]}",
                          self.up_said)
        self.assertEqual(os.stat(self.secure_dir).st_mode & 0o777, 0o700)
        for path in os.listdir(self.secure_dir):
            mode = os.stat(os.path.join(self.secure_dir, path)).st_mode & 0o777
            self.assertEqual(mode, 0o600, path)
        self.assertFalse(glob.glob(os.path.join(self.secure_dir, "*.key")),
                         "the CA's key is gone once it signed")
        self.assertEqual(len(self.secrets), 7, "admin, controller, 4 users, the keystore")
        # No plaintext client listener: every listener a client may reach asks for TLS.
        status = subprocess.run([KAFKA, "--state_dir", self.state, "status"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("secure: TLS and SASL/SCRAM-SHA-512 only", status.stdout)
        self.outputs.append(("tools/kafka status", status.stdout + status.stderr))
        for path in glob.glob(os.path.join(self.state, "node-*", "server.properties")):
            listeners = properties(path)["listeners"]
            self.assertNotIn("PLAINTEXT://", listeners.replace("SASL_PLAINTEXT", ""))
        leader = subprocess.run([KAFKA, "--state_dir", self.state, "leader", "pizza-order", "0"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual((leader.returncode, leader.stdout.strip()), (0, "1"), leader.stderr)

    def test_2_each_service_with_its_own_credentials_does_its_job(self):
        health = {name: os.path.join(WORK, f"{name}.health") for name in ["cook", "manager"]}
        ledger = os.path.join(WORK, "ledger.jsonl")
        self.start_service("cook", [binary("cook"), "--kafka_config_file", self.users["cook"],
                                    "--cook_id", "secure-1", "--prep_time", "0",
                                    "--health_file", health["cook"]])
        self.start_service("manager", [binary("manager"), "--kafka_config_file",
                                       self.users["manager"], "--ledger", ledger,
                                       "--health_file", health["manager"]])
        board = self.start_service("board", [binary("board"), "--kafka_config_file",
                                             self.users["board"], "--port", "0"])
        for name, path in health.items():
            self.wait_for(lambda: os.path.exists(path) and read(path).startswith("ready"),
                          90, f"the {name} ready")
        status, out, err, _ = self.waiter(self.users["waiter"], "--wait", "--wait_timeout",
                                          "90s", table="11")
        self.assertEqual(status, 0, out + err)
        ready = re.search(r"ready: margherita for table 11 \(order ([^)]+)\)", out)
        self.assertTrue(ready, out + err)
        self.assertIn("cooked by secure-1", out)
        order = ready.group(1)
        self.wait_for(lambda: os.path.exists(ledger) and order in read(ledger), 60,
                      f"order {order} in the manager's ledger")
        board_log = os.path.join(WORK, "board.log")
        self.wait_for(lambda: "http://" in read(board_log), 60, "the board serving")
        self.assertIsNone(board.poll(), read(board_log))
        for name, path in health.items():
            self.outputs.append((f"{name} health file", read(path)))
        # Nothing refused on the way: each user has all the ACLs it needs.
        for name in ["cook", "manager", "board"]:
            self.assertNotIn("authorization failed", read(os.path.join(WORK, f"{name}.log")))
        self.assertNotIn("authorization failed", err)

    def test_3_refused_credentials_and_tls_stop_every_service_at_start(self):
        other_ca = os.path.join(WORK, "other-ca")
        os.makedirs(other_ca, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "1", "-keyout", "ca.key", "-out", "ca.pem", "-subj",
                        "/CN=not the kitchen's CA"], cwd=other_ca, check=True,
                       capture_output=True, timeout=60)
        cases = [
            ("wrong password", {"sasl.password": "not-the-password"},
             "the user is unknown or the password is wrong"),
            ("unknown user", {"sasl.username": "nobody"},
             "the user is unknown or the password is wrong"),
            ("untrusted certificate", {"ssl.ca.location": os.path.join(other_ca, "ca.pem")},
             "we do not trust the broker's certificate"),
            ("plaintext to the TLS port", {"security.protocol": None, "sasl.mechanisms": None,
                                           "sasl.username": None, "sasl.password": None,
                                           "ssl.ca.location": None},
             "check security.protocol"),
        ]
        for case, change, message in cases:
            for service in ["waiter", "cook", "manager", "board"]:
                with self.subTest(case=case, service=service):
                    config = self.variant(service, f"{service}-{case.replace(' ', '-')}",
                                          change)
                    argv = {"waiter": [binary("waiter"), "--kafka_config_file", config,
                                       "--pizza", "margherita", "--table", "3"],
                            "cook": [binary("cook"), "--kafka_config_file", config,
                                     "--cook_id", "refused", "--prep_time", "0"],
                            "manager": [binary("manager"), "--kafka_config_file", config,
                                        "--ledger", os.path.join(WORK, "refused.jsonl")],
                            "board": [binary("board"), "--kafka_config_file", config,
                                      "--port", "0"]}[service]
                    status, out, err, seconds = self.run_service(argv, timeout=45)
                    self.assertEqual(status, 2, out + err)
                    self.assertIn(message, err)
                    self.assertLess(seconds, 30)
                    # Said once, not a retry loop's worth of lines.
                    self.assertEqual(err.count(message), 1, err)

    def test_4_a_service_lacking_an_acl_is_refused_and_writes_nothing(self):
        before = self.records("pizza-order")
        # The cook's credentials may not write pizza-order.
        status, out, err, seconds = self.waiter(self.users["cook"])
        self.assertEqual(status, 2, out + err)
        self.assertIn("Topic authorization failed", err)
        self.assertLess(seconds, 60)
        self.assertEqual(self.records("pizza-order"), before, "nothing written")
        # The waiter's may not read it (nor join group cook).
        status, out, err, seconds = self.run_service(
            [binary("cook"), "--kafka_config_file", self.users["waiter"], "--cook_id",
             "not-a-cook", "--prep_time", "0"], timeout=90)
        self.assertNotEqual(status, 0, out + err)
        self.assertIn("authorization failed", err)
        # A manager in a group it may not join.
        status, out, err, seconds = self.run_service(
            [binary("manager"), "--kafka_config_file", self.users["manager"], "--ledger",
             os.path.join(WORK, "elsewhere.jsonl"), "--group", "not-manager"], timeout=90)
        self.assertEqual(status, 2, out + err)
        self.assertIn("Group authorization failed", err)
        # A cook in another group: its transactional id (GROUP-COOK_ID) is not its own.
        status, out, err, seconds = self.run_service(
            [binary("cook"), "--kafka_config_file", self.users["cook"], "--cook_id",
             "elsewhere", "--group", "not-cook", "--prep_time", "0"], timeout=90)
        self.assertEqual(status, 2, out + err)
        self.assertIn("Transactional Id authorization failed", err)
        self.assertEqual(self.records("pizza-order"), before, "nothing written")

    def test_5_no_secret_anywhere(self):
        # Everything said so far, the services' logs, the nodes' logs, cluster.json,
        # and every command line seen on the machine since the cluster started.
        texts = list(self.outputs)
        texts += [(path, read(path)) for path in glob.glob(os.path.join(WORK, "*.log"))]
        texts += [(path, read(path)) for path in glob.glob(os.path.join(self.state, "node-*",
                                                                       "kafka.log"))]
        texts.append(("cluster.json", read(os.path.join(self.state, "cluster.json"))))
        for name in ["waiter", "cook", "manager", "board"]:
            done = subprocess.run([binary(name), "--help"], capture_output=True, text=True,
                                  timeout=30)
            texts.append((f"{name} --help", done.stdout + done.stderr))
        texts += [("a command line", line) for line in self.command_lines.seen]
        self.assertGreater(len(self.command_lines.seen), 10)
        self.assertTrue(any("kafka.Kafka" in line for line in self.command_lines.seen))
        # assertFalse, not assertNotIn: a failure names where, never the value (the
        # latter would print the secret and the text around it into the test log).
        for what, text in texts:
            for number, secret in enumerate(sorted(self.secrets), 1):
                self.assertFalse(secret in text, f"secret #{number} of "
                                 f"{len(self.secrets)} appears in {what}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
