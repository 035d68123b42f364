"""e2e_test: one end-to-end test source, built and run against each broker.

    e2e_test(name = "cook_test", srcs = ["cook_test.cc"], deps = [...])

defines

  cook_test_dev    against a devbroker process per test case (librdkafka's mock
                   cluster): about a second per case, faults the mock can inject;
  cook_test_kafka  against one real Apache Kafka cluster (tools/kafka) per test
                   binary or shard, each case on topics and groups of its own;
  cook_test        a test_suite of both.

The two cc_test targets differ only in $KITCHEN_TEST_BROKER (the `env`
attribute), which tests/harness.h reads, and in what each broker needs at run
time. Tags `dev` and `kafka` select one broker:
`bazel test //tests:all --test_tag_filters=-kafka` runs no JVM.
"""

BROKERS = ["dev", "kafka"]

# What the real cluster needs besides the harness's binaries: the script, and
# the pinned Kafka version (pom.xml), so that a new version runs the tests again.
_BROKER_DATA = {
    "dev": [],
    "kafka": ["//tools:local_kafka"],
}

def e2e_test(
        name,
        srcs,
        deps = [],
        size = "medium",
        shard_count = None,
        tags = [],
        data = [],
        brokers = BROKERS,
        kafka_nodes = 1):
    """An end-to-end test of //tests:harness, once per broker (see above).

    `brokers`: ["kafka"] for what only a real cluster can show.
    `kafka_nodes`: 1, or 3 for a cluster that survives losing a node
    (replication 3, min.insync.replicas 2); $KITCHEN_TEST_KAFKA_NODES.
    """
    for broker in brokers:
        native.cc_test(
            name = "%s_%s" % (name, broker),
            size = size,
            srcs = srcs,
            data = data + _BROKER_DATA[broker],
            env = {
                "KITCHEN_TEST_BROKER": broker,
                "KITCHEN_TEST_KAFKA_NODES": str(kafka_nodes),
            },
            shard_count = shard_count,
            tags = tags + [broker],
            deps = deps + ["//tests:harness"],
        )
    native.test_suite(
        name = name,
        tests = [":%s_%s" % (name, broker) for broker in brokers],
    )
