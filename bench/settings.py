"""File: bench/settings.py

The Kafka settings of the services, read from their binaries (--print_kafka_config,
which prints what a service would run with, secrets redacted, without connecting),
so that kcat always runs with the same ones and bench.md and bench.json say which
they were:
  - the waiter's producer settings, all of them, go to kcat -P;
  - the consumers' (the cook's; the manager shares kafka::ConsumerDefaults) fetch
    settings go to kcat -C.

The consumers print their settings without asking the brokers, so with librdkafka's
fetch wait; against the dev broker a running consumer takes a shorter one and logs
it (README, "The consumers' fetch wait"). That value is read from the log of a cook
started for a moment against a devbroker.

    kafka = service_settings(runner)
    kafka["kcat_producer"]  # {"acks": "-1", "linger.ms": "1", ...}
"""

import re

from parsing import parse_properties
from processes import progress, read_text, wait_for

REDACTED = "[redacted]"  # kafka::kRedacted: a secret the binary would not show.

# What of a consumer's settings applies to a reader without a group (kcat -C): how it
# fetches. The values are the consumers' own.
KCAT_CONSUMER_SETTINGS = ("fetch.wait.max.ms", "queued.max.messages.kbytes",
                          "fetch.max.bytes")

# The cook's log line when its brokers are the dev broker (kafka::ConsumerDefaultsFor).
_DEV_BROKER_FETCH_WAIT = re.compile(r"dev broker.*fetch\.wait\.max\.ms=(\d+)")


def printed_config(runner, binary, args=()):
    """{name: value} of `binary --print_kafka_config`, without the bootstrap servers
    (the benchmark gives its own) and the group (each run names its own)."""
    name = binary.rsplit("/", 1)[-1]
    proc = runner.run(f"{name}-kafka-config",
                      [runner.binary(binary), *args, "--print_kafka_config"], timeout=30)
    properties = parse_properties(read_text(proc.out_path))
    if not properties:
        raise RuntimeError(f"{binary} --print_kafka_config printed no settings")
    for own in ("bootstrap.servers", "group.id"):
        properties.pop(own, None)
    return properties


def dev_broker_fetch_wait(runner):
    """The fetch.wait.max.ms a cook takes against a devbroker, from its log; None if it
    does not say."""
    broker = runner.start_broker()
    try:
        cook = runner.start("cook-settings", [runner.binary("cook/cook"), "--brokers",
                                              broker.address, "--group", "bench-settings",
                                              "--prep_time=0", "--lag_interval=0"])
        try:
            wait_for(lambda: " started in group " in read_text(cook.err_path), 30,
                     "the cook to start", cook)
        finally:
            cook.stop()
    finally:
        broker.stop()
    match = _DEV_BROKER_FETCH_WAIT.search(read_text(cook.err_path))
    return match.group(1) if match else None


def service_settings(runner):
    producer = printed_config(runner, "waiter/waiter")
    consumer = printed_config(runner, "cook/cook", ["--group", "bench-settings"])
    printed_wait = consumer.get("fetch.wait.max.ms")
    dev_wait = dev_broker_fetch_wait(runner)
    if dev_wait is None:
        progress("   warning: the cook did not log a fetch wait for the dev broker; kcat -C "
                 f"runs with the printed fetch.wait.max.ms={consumer.get('fetch.wait.max.ms')}")
    else:
        consumer["fetch.wait.max.ms"] = dev_wait
    return {
        "source": "the binaries' --print_kafka_config; fetch.wait.max.ms from a cook's log "
                  "against the dev broker",
        "waiter_producer": producer,
        "consumer": consumer,
        "kcat_producer": {k: v for k, v in producer.items() if v != REDACTED},
        "kcat_consumer": {k: consumer[k] for k in KCAT_CONSUMER_SETTINGS if k in consumer},
        # What the consumers run with against real Kafka (README, "The consumers' fetch
        # wait"): kcat -C gets it there.
        "consumer_printed_fetch_wait": printed_wait,
    }


def as_x(properties):
    """kcat's -X arguments for `properties`."""
    return [arg for name, value in properties.items() for arg in ("-X", f"{name}={value}")]
