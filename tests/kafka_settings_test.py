#!/usr/bin/python3
# File: tests/kafka_settings_test.py
#
# The local real cluster (tools/kafka) and docker-compose.yaml's brokers must be the
# same Kafka: the same version, the same topics, and the same values for the broker
# settings that change what the kitchen sees (auto-creation, replication, in-sync
# replicas, the group rebalance delay). This compares exactly those, as
# `tools/kafka config` reports them, with what docker-compose.yaml gives its brokers
# and its kafka-setup job, and fails naming each difference. The settings only the
# local cluster has (`local` in that report: fewer internal partitions, shorter
# session timeouts, ...) stay outside the comparison, and must each be listed in the
# README, where they are explained.
#
# Run by Bazel (//tests:kafka_settings_test) or by hand: python3 tests/kafka_settings_test.py

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isfile(os.path.join(ROOT, "docker-compose.yaml")):
    ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def local_config(nodes):
    done = subprocess.run([os.path.join(ROOT, "tools", "kafka"), "config", "--nodes", str(nodes)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main():
    with open(os.path.join(ROOT, "docker-compose.yaml")) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    brokers = {name: s for name, s in services.items() if name.startswith("kafka-")
               and "KAFKA_NODE_ID" in (s.get("environment") or {})}
    check(len(brokers) == 3, f"docker-compose.yaml has {len(brokers)} brokers, not 3")
    three = local_config(3)

    # The same Kafka everywhere.
    for name in [*brokers, "kafka-setup"]:
        image = services[name]["image"]
        check(image == f"apache/kafka:{three['kafka_version']}",
              f"{name} runs {image}, the local cluster Kafka {three['kafka_version']} "
              "(third_party/kafka/pom.xml)")

    # Each shared setting, as KAFKA_NAME_IN_CAPITALS in every broker's environment.
    for name, service in brokers.items():
        environment = {str(k): str(v) for k, v in service["environment"].items()}
        for key, value in three["shared"].items():
            variable = "KAFKA_" + key.upper().replace(".", "_")
            check(environment.get(variable) == value,
                  f"{key}: tools/kafka up --nodes 3 sets {value!r}, docker-compose.yaml's "
                  f"{name} {variable}={environment.get(variable)!r}")

    # The topics kafka-setup creates.
    setup = {str(k): str(v) for k, v in services["kafka-setup"]["environment"].items()}
    check(setup.get("TOPICS", "").split() == [t["name"] for t in three["topics"]],
          f"kafka-setup creates {setup.get('TOPICS')!r}, tools/kafka "
          f"{[t['name'] for t in three['topics']]}")
    # TOPIC_PARTITIONS: "TOPIC=N ..." for the topics whose count is not PARTITIONS.
    own_partitions = dict(item.split("=", 1)
                          for item in setup.get("TOPIC_PARTITIONS", "").split())
    for topic in three["topics"]:
        for variable, field in [("PARTITIONS", "partitions"),
                                ("REPLICATION_FACTOR", "replication_factor"),
                                ("MIN_INSYNC_REPLICAS", "min_insync_replicas")]:
            given = setup.get(variable)
            if variable == "PARTITIONS" and topic["name"] in own_partitions:
                variable, given = "TOPIC_PARTITIONS", own_partitions[topic["name"]]
            check(given == str(topic[field]),
                  f"{topic['name']} {field}: tools/kafka {topic[field]}, kafka-setup "
                  f"{variable}={given!r}")

    # One node: the same settings but one copy of everything.
    one = local_config(1)
    for key in ["default.replication.factor", "min.insync.replicas",
                "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "transaction.state.log.min.isr"]:
        check(one["shared"][key] == "1", f"{key} on one node is {one['shared'][key]}, not 1")
    for key in set(three["shared"]) - {"default.replication.factor", "min.insync.replicas",
                                       "offsets.topic.replication.factor",
                                       "transaction.state.log.replication.factor",
                                       "transaction.state.log.min.isr"}:
        check(one["shared"][key] == three["shared"][key], f"{key} differs between 1 and 3 nodes")

    # What only the local cluster sets is explained in the README.
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for key in three["local"]:
        check(key in readme, f"local-only setting {key} is not listed in README.md")
        check(key not in three["shared"], f"{key} is both shared and local")

    for failure in failures:
        print("FAIL:", failure)
    print(f"kafka_settings_test: {len(failures)} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
