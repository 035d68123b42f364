#!/usr/bin/python3
# File: tests/compose_secure_test.py
#
# The secure Compose variant (docker-compose.secure.yaml) run for real, with no Docker:
# its scripts on this machine, against the Kafka 3.9.1 jars tools/install_kafka.sh
# installs, with the settings the Compose files give, changed only where one machine
# differs from the Compose network (OS-chosen ports on 127.0.0.1 instead of kafka-N,
# one node instead of three, the secrets' directory instead of /run/secrets, the Kafka
# tools by class instead of /opt/kafka/bin scripts):
#  - deploy/compose/make-secrets makes the secrets;
#  - deploy/compose/kafka-broker, given kafka-1's merged environment, formats the
#    storage with the SCRAM users and starts a broker whose server.properties holds
#    every setting tools/kafka_secure.py gives the local secure cluster;
#  - the brokers' healthcheck, docker-compose.yaml's kafka-setup script (topics, as
#    admin) and deploy/compose/kafka-acls (the ACLs) succeed as Compose runs them;
#  - a cook (on the INTERNAL listener) and a waiter (on EXTERNAL, as from the host),
#    each with only its own properties file as Compose mounts it, get an order cooked;
#    the waiter with the cook's credentials is refused by the ACLs, and plaintext by
#    the listener;
#  - no password on any process's command line (sampled all along) or in any output.
#
# Run by Bazel (//tests:compose_secure_test) or by hand: python3 tests/compose_secure_test.py

import ctypes
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

RUNFILES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(RUNFILES, "tests"))
sys.path.insert(0, os.path.join(RUNFILES, "tools"))
import compose_files  # noqa: E402
from command_lines import CommandLines  # noqa: E402
import kafka_secure  # noqa: E402

WORK = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="compose_secure_test.")
JAVA_HOME = os.path.dirname(os.path.dirname(
    os.environ.get("KITCHEN_JAVA", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java")))
CACHE_DIR = os.environ.get("KITCHEN_CACHE_DIR", "/var/cache/kitchen")
KAFKA_39 = os.path.join(RUNFILES, "third_party", "kafka-3.9")
COMPOSE_DIR = os.path.join(RUNFILES, "deploy", "compose")
MOUNT = "/run/secrets/"


def binary(name):
    return os.path.join(RUNFILES, name, name)


def die_with_parent():
    """preexec_fn: the kernel kills the child (the broker's JVM, which bash execs) if
    this test dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def read(path):
    with open(path, errors="replace") as f:
        return f.read()




class ComposeSecureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.command_lines = CommandLines()
        cls.outputs = []  # (what, text): every output, searched for secrets
        cls.processes = []
        cls.broker = None
        version = re.search(r"<kafka\.version>([^<]+)<", read(os.path.join(KAFKA_39, "pom.xml")))
        cls.kafka_home = os.path.join(CACHE_DIR, f"kafka-{version.group(1)}")
        if not os.path.isfile(os.path.join(cls.kafka_home, ".complete")):
            raise AssertionError(f"no Kafka in {cls.kafka_home}: run tools/install_deps.sh")
        base, override, cls.compose = compose_files.secure_configuration(RUNFILES)
        cls.services = cls.compose["services"]

        # The secrets, made as the README says.
        cls.secrets = os.path.join(WORK, "secrets")
        made = cls.run_logged("make-secrets", [os.path.join(COMPOSE_DIR, "make-secrets"),
                                               cls.secrets])
        assert made.returncode == 0, made.stderr
        cls.passwords = set()
        for name in os.listdir(cls.secrets):
            if name.endswith(".password"):
                cls.passwords.add(read(os.path.join(cls.secrets, name)).strip())
            if name.endswith((".properties", ".jaas")):
                text = read(os.path.join(cls.secrets, name))
                cls.passwords.update(re.findall(r"^sasl\.password=(.+)$", text, re.M))
                cls.passwords.update(re.findall(r'password="([^"]+)"', text))
        assert len(cls.passwords) == 7, "admin, controller, 4 users, the keystore"
        # Kafka's Java tools read admin-java.properties, which names the CA by its
        # mount point: a copy naming it here.
        cls.admin_java = cls.localized_copy("admin-java.properties")

        # Kafka's tools as /opt/kafka/bin has them, by class, with this machine's jars.
        cls.bin = os.path.join(WORK, "bin")
        os.makedirs(cls.bin)
        for script, main_class in [("kafka-topics.sh", "org.apache.kafka.tools.TopicCommand"),
                                   ("kafka-broker-api-versions.sh",
                                    "kafka.admin.BrokerApiVersionsCommand")]:
            path = os.path.join(cls.bin, script)
            with open(path, "w") as f:
                f.write("#!/bin/bash\n"
                        f"exec {JAVA_HOME}/bin/java -Xmx256m -XX:+UseSerialGC "
                        "-XX:TieredStopAtLevel=1 "
                        f"-Dlog4j.configuration=file:{KAFKA_39}/tools-log4j.properties "
                        f"-cp '{cls.kafka_home}/libs/*' {main_class} \"$@\"\n")
            os.chmod(path, 0o755)

        # kafka-1 as Compose configures it, on one machine: one node on free ports.
        cls.internal, controller, cls.external = free_ports(3)
        env = {k: str(v) for k, v in cls.services["kafka-1"]["environment"].items()}
        cls.broker_env = env
        listeners = compose_files.listener_ports(env["KAFKA_LISTENERS"])
        assert set(listeners) == {"INTERNAL", "CONTROLLER", "EXTERNAL"}, listeners
        ports = {"INTERNAL": cls.internal, "CONTROLLER": controller, "EXTERNAL": cls.external}
        env["KAFKA_LISTENERS"] = ",".join(f"{l}://127.0.0.1:{ports[l]}" for l in listeners)
        # INTERNAL by IP, EXTERNAL by name, as Compose advertises it to the host: the
        # certificate must be valid for both.
        env["KAFKA_ADVERTISED_LISTENERS"] = (f"INTERNAL://127.0.0.1:{cls.internal},"
                                             f"EXTERNAL://localhost:{cls.external}")
        env["KAFKA_CONTROLLER_QUORUM_VOTERS"] = f"1@127.0.0.1:{controller}"
        for name in ("KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS",
                     "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                     "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                     "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
            env[name] = "1"
        env["KAFKA_LOG_DIRS"] = os.path.join(WORK, "data")
        env["KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS"] = "6"  # A first join need not wait for 50.
        env["KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS"] = "6"
        env["KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE"] = "2097152"
        env = {k: v.replace(MOUNT, cls.secrets + "/") for k, v in env.items()}
        cls.run_dir = os.path.join(WORK, "run")
        env.update({
            "PATH": "/usr/bin:/bin", "KAFKA_HOME": cls.kafka_home, "JAVA_HOME": JAVA_HOME,
            "KAFKA_HEAP_OPTS": "-Xmx512m -Xms512m",
            "KAFKA_LOG4J_OPTS": f"-Dlog4j.configuration=file:{KAFKA_39}/log4j.properties",
            "KITCHEN_TOOLS_LOG4J_OPTS":
                f"-Dlog4j.configuration=file:{KAFKA_39}/tools-log4j.properties",
            "LOG_DIR": os.path.join(WORK, "logs"), "SECRETS_DIR": cls.secrets,
            "KITCHEN_RUN_DIR": cls.run_dir})
        entrypoint = cls.services["kafka-1"]["entrypoint"]
        assert entrypoint == ["/bin/bash", "/kitchen/kafka-broker"], entrypoint
        cls.broker_log = os.path.join(WORK, "broker.log")
        with open(cls.broker_log, "w") as log:
            cls.broker = subprocess.Popen(
                ["bash", os.path.join(COMPOSE_DIR, "kafka-broker")], env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent)
        deadline = time.monotonic() + 240
        while "Kafka Server started" not in read(cls.broker_log):
            if cls.broker.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the broker did not start:\n" + read(cls.broker_log)[-3000:])
            time.sleep(0.2)

        # The healthcheck, docker-compose.yaml's topic setup and the ACLs, as Compose
        # runs them.
        test = cls.services["kafka-1"]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL", test
        cls.healthcheck = cls.run_logged("healthcheck", ["bash", "-c", cls.localized(test[1])])
        setup = cls.services["kafka-setup"]
        assert setup["entrypoint"] == ["/bin/bash", "-c"], setup["entrypoint"]
        setup_env = {k: str(v) for k, v in setup["environment"].items()}
        setup_env.update({"PATH": "/usr/bin:/bin", "BOOTSTRAP": f"127.0.0.1:{cls.internal}",
                          "REPLICATION_FACTOR": "1", "MIN_INSYNC_REPLICAS": "1",
                          "COMMAND_CONFIG": cls.admin_java})
        cls.topics = cls.run_logged(
            "kafka-setup", ["bash", "-c", cls.localized(setup["command"][0])],
            env=setup_env, timeout=600)
        acls = cls.services["kafka-acls"]
        acl_env = {k: str(v) for k, v in acls["environment"].items()}
        acl_env.update({"PATH": "/usr/bin:/bin", "BOOTSTRAP": f"127.0.0.1:{cls.internal}",
                        "COMMAND_CONFIG": cls.admin_java, "KAFKA_HOME": cls.kafka_home,
                        "JAVA_HOME": JAVA_HOME,
                        "ACL_TABLE": os.path.join(COMPOSE_DIR, "acls"),
                        "KITCHEN_TOOLS_LOG4J_OPTS":
                            f"-Dlog4j.configuration=file:{KAFKA_39}/tools-log4j.properties"})
        cls.acls = cls.run_logged("kafka-acls", ["bash", os.path.join(COMPOSE_DIR, "kafka-acls")],
                                  env=acl_env, timeout=900)

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes + ([cls.broker] if cls.broker else []):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        cls.command_lines.stop()

    # --- helpers

    @classmethod
    def run_logged(cls, what, argv, env=None, timeout=120):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        cls.outputs.append((what, done.stdout + done.stderr))
        return done

    @classmethod
    def localized(cls, command):
        """A command of the Compose files as it runs here: Compose's $$ is $, Kafka's
        scripts are the wrappers, the INTERNAL listener's port is this broker's."""
        return (command.replace("$$", "$").replace("/opt/kafka/bin/", cls.bin + "/")
                .replace("localhost:19092", f"127.0.0.1:{cls.internal}")
                .replace("/run/kafka/", cls.run_dir + "/"))

    @classmethod
    def localized_copy(cls, secret):
        path = os.path.join(WORK, secret)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(read(os.path.join(cls.secrets, secret)).replace(MOUNT, cls.secrets + "/"))
        return path

    def service_env(self, service, brokers):
        """A kitchen service's environment as Compose gives it, on this machine: its
        own properties file where Compose mounts it, no fixed ports."""
        env = {k: str(v) for k, v in self.services[service]["environment"].items()}
        env.pop("METRICS_PORT", None)
        env.pop("METRICS_LISTEN", None)
        if "HEALTH_FILE" in env:
            env["HEALTH_FILE"] = os.path.join(WORK, f"{service}.health")
        self.assertEqual(env["KAFKA_CONFIG_FILE"], f"{MOUNT}{service}.properties")
        env["KAFKA_CONFIG_FILE"] = os.path.join(self.secrets, f"{service}.properties")
        env["KAFKA_BOOTSTRAP_SERVERS"] = brokers
        env["PATH"] = "/usr/bin:/bin"
        return env

    def ca_flag(self):
        # The properties files name the CA where Compose mounts it; -X is the one
        # thing changed here (not a secret).
        return ["-X", f"ssl.ca.location={self.secrets}/ca.crt"]

    # --- the cases (in name order)

    def test_1_the_setup_as_compose_runs_it(self):
        self.assertEqual(self.healthcheck.returncode, 0, self.healthcheck.stderr[-2000:])
        self.assertEqual(self.topics.returncode, 0, self.topics.stdout[-2000:] + self.topics.stderr[-2000:])
        for topic in self.services["kafka-setup"]["environment"]["TOPICS"].split():
            self.assertIn(f"Topic: {topic}\t", self.topics.stdout)
        self.assertEqual(self.acls.returncode, 0, self.acls.stderr[-2000:])
        self.assertIn(f"{len(kafka_secure.ACLS)} ACL rows", self.acls.stderr)

    def test_2_the_broker_is_tools_kafka_secure(self):
        """server.properties holds tools/kafka_secure.py's settings, with the secrets'
        passwords, for each SASL_SSL listener; nothing else listens in plaintext."""
        path = os.path.join(self.run_dir, "server.properties")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.run_dir, "client.properties")).st_mode), 0o600)
        settings = compose_files.read_properties(path)
        passwords = {"controller": read(os.path.join(self.secrets, "controller.password")).strip()}
        for user in [kafka_secure.ADMIN, *kafka_secure.USERS]:
            passwords[user] = compose_files.read_properties(
                os.path.join(self.secrets, f"{user}.properties"))["sasl.password"]
        store = read(os.path.join(self.secrets, "keystore.password")).strip()
        expected = kafka_secure.broker_settings(self.secrets, store, passwords)
        protocols = compose_files.listener_protocols(self.broker_env)
        self.assertEqual(protocols, {"INTERNAL": "SASL_SSL", "CONTROLLER": "SASL_PLAINTEXT",
                                     "EXTERNAL": "SASL_SSL"})
        for key, value in expected.items():
            if key == "inter.broker.listener.name":
                self.assertEqual(protocols[settings[key]], value)
            elif key == "ssl.truststore.location":
                self.assertEqual(settings[key], os.path.join(self.secrets, "ca.crt"))
            elif key == "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
                # The inter-broker listener logs in as admin; EXTERNAL only checks.
                self.assertEqual(settings[key.replace("sasl_ssl", "internal")], value)
                self.assertEqual(settings[key.replace("sasl_ssl", "external")],
                                 "org.apache.kafka.common.security.scram.ScramLoginModule required;")
            elif key.startswith("listener.name.sasl_ssl."):
                for listener in ("internal", "external"):
                    self.assertEqual(settings[key.replace("sasl_ssl", listener)], value, key)
            else:
                self.assertEqual(settings.get(key), value, key)
        self.assertIn("Formatting", read(self.broker_log).splitlines()[0])

    def test_3_an_order_cooked_with_each_service_s_own_file(self):
        cook_log = os.path.join(WORK, "cook.log")
        with open(cook_log, "w") as log:
            cook = subprocess.Popen(
                [binary("cook"), *self.ca_flag()],
                env=self.service_env("cook", f"127.0.0.1:{self.internal}"),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(cook)
        health = os.path.join(WORK, "cook.health")
        deadline = time.monotonic() + 120
        while not (os.path.exists(health) and read(health).strip() == "ready"):
            self.assertIsNone(cook.poll(), read(cook_log)[-2000:])
            self.assertLess(time.monotonic(), deadline, "the cook is not ready:\n" + read(cook_log)[-2000:])
            time.sleep(0.2)
        waiter = self.run_logged(
            "waiter", [binary("waiter"), *self.ca_flag(), "--pizza", "margherita",
                       "--table", "17", "--wait"],
            env=self.service_env("waiter", f"localhost:{self.external}"), timeout=180)
        self.assertEqual(waiter.returncode, 0, waiter.stdout + waiter.stderr)
        cook.terminate()
        self.assertEqual(cook.wait(60), 0, read(cook_log)[-2000:])
        self.outputs.append(("cook", read(cook_log)))

    def test_4_refused_by_the_acls_and_the_listeners(self):
        env = self.service_env("waiter", f"localhost:{self.external}")
        env["KAFKA_CONFIG_FILE"] = os.path.join(self.secrets, "cook.properties")
        as_cook = self.run_logged("waiter as cook", [binary("waiter"), *self.ca_flag(),
                                                     "--pizza", "margherita", "--table", "3"],
                                  env=env, timeout=120)
        self.assertEqual(as_cook.returncode, 2, as_cook.stderr)
        self.assertIn("Topic authorization failed", as_cook.stderr)
        env.pop("KAFKA_CONFIG_FILE")
        plaintext = self.run_logged("waiter in plaintext", [binary("waiter"), "--pizza",
                                                            "margherita", "--table", "3"],
                                    env=env, timeout=120)
        self.assertEqual(plaintext.returncode, 2, plaintext.stderr)
        self.assertIn("they expect TLS or SASL", plaintext.stderr)

    def test_5_no_password_on_a_command_line_or_in_an_output(self):
        self.outputs.append(("broker", read(self.broker_log)))
        # The failures name where, never the password (the test's log is no place for it).
        def redacted(text):
            for password in self.passwords:
                text = text.replace(password, "[a password]")
            return text.replace("\0", " ")

        for line in self.command_lines.seen:
            if any(password in line for password in self.passwords):
                self.fail("a password on a command line: " + redacted(line)[:600])
        for what, text in self.outputs:
            if any(password in text for password in self.passwords):
                self.fail(f"a password in the output of {what}")
        self.assertGreater(len(self.command_lines.seen), 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
