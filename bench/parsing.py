"""File: bench/parsing.py

What the benchmark reads out of the kitchen's outputs: percentiles of measured
values, an order's placed_at from its protobuf bytes, the order events of order-status
(kitchen.v1.OrderEvent, by the wire format, as kcat prints them framed by their size),
absl durations and log times from the services' logs, name=value lines
(--print_kafka_config) and the summary line of Kafka's ProducerPerformance.
"""

import datetime
import math
import re


def percentile(sorted_values, fraction):
    """Nearest rank: the smallest value with at least `fraction` of the values <= it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _varint(data, at):
    """A protobuf varint at `at`: (value, where the next field starts)."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _fields(data):
    """(field number, value) of a protobuf message: an int for a varint, bytes for a
    length-delimited field; fixed-width fields are skipped."""
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, at = _varint(data, at)
        elif wire_type == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("a length-delimited field runs past the message's end")
            value, at = data[at:at + length], at + length
        elif wire_type in (1, 5):
            at += 8 if wire_type == 1 else 4
            continue
        else:
            raise ValueError(f"unexpected wire type {wire_type}")
        yield number, value


def _timestamp(data):
    """A google.protobuf.Timestamp's bytes as Unix seconds (seconds 1, nanos 2)."""
    parts = dict(_fields(data))
    return parts.get(1, 0) + parts.get(2, 0) / 1e9


# kitchen.v1.OrderEvent.State (proto/order_event.proto).
COOKING, READY, ABANDONED = 1, 2, 3


def decode_order_event(value):
    """What the benchmark reads of a kitchen.v1.OrderEvent: its state, cook, where the
    order was read (order_partition, order_offset), `at` and `placed_at` as Unix
    seconds (None when the event has no placed_at)."""
    event = {"state": 0, "cook": "", "order_partition": 0, "order_offset": 0,
             "at": None, "placed_at": None}
    for number, field in _fields(value):
        if number == 4:
            event["state"] = field
        elif number == 5:
            event["cook"] = field.decode("utf-8", errors="replace")
        elif number == 7:
            event["order_partition"] = field
        elif number == 8:
            event["order_offset"] = field
        elif number == 6:
            event["at"] = _timestamp(field)
        elif number == 9:
            event["placed_at"] = _timestamp(field)
    return event


def split_sized_records(data):
    """Records as `kcat -f '%S %s\n'` prints them (the value's size, a space, the value,
    a newline): (the complete values, how many bytes of `data` they took). A record cut
    off at the end of `data` is left for the next call."""
    values, at = [], 0
    while True:
        space = data.find(b" ", at)
        if space < 0:
            break
        size = int(data[at:space])
        if size < 0:
            raise ValueError(f"a record without a value at byte {at}")
        end = space + 1 + size
        if end + 1 > len(data):
            break
        if data[end:end + 1] != b"\n":
            raise ValueError(f"a record of {size} bytes not followed by a newline at byte {at}")
        values.append(data[space + 1:end])
        at = end + 1
    return values, at


_PERF_SUMMARY = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
                           r"([\d.]+) ms avg latency, ([\d.]+) ms max latency"
                           r"(?:, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th)?")


def parse_producer_performance(text):
    """The last summary line of Kafka's ProducerPerformance (kafka-producer-perf-test):
    {"records", "records_per_s", "mb_per_s", "avg_ms", "max_ms", and "p50_ms".."p999_ms"
    when printed}; None when there is no such line."""
    found = None
    for line in text.splitlines():
        match = _PERF_SUMMARY.match(line.strip())
        if match:
            found = match
    if found is None:
        return None
    result = {"records": int(found.group(1)), "records_per_s": float(found.group(2)),
              "mb_per_s": float(found.group(3)), "avg_ms": float(found.group(4)),
              "max_ms": float(found.group(5))}
    if found.group(6) is not None:
        for key, group in (("p50_ms", 6), ("p95_ms", 7), ("p99_ms", 8), ("p999_ms", 9)):
            result[key] = float(found.group(group))
    return result


def placed_at(value):
    """(seconds, nanos) of a kitchen.v1.Order's placed_at (field 4), read from its
    protobuf bytes; (0, 0) when it has none. Just enough of the wire format to put the
    waiter's records back in the order it placed them."""
    at, seconds, nanos = 0, 0, 0
    while at < len(value):
        tag, at = _varint(value, at)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            _, at = _varint(value, at)
        elif wire_type == 2:
            length, at = _varint(value, at)
            end = at + length
            if field == 4:
                inner = at
                while inner < end:
                    inner_tag, inner = _varint(value, inner)
                    number, inner = _varint(value, inner)
                    if inner_tag >> 3 == 1:
                        seconds = number
                    elif inner_tag >> 3 == 2:
                        nanos = number
            at = end
        else:
            raise ValueError(f"unexpected wire type {wire_type} in an order")
    return seconds, nanos


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(h|ms|us|ns|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def parse_absl_duration(text):
    """absl::FormatDuration's output ("812us", "1.234ms", "2.5s", "1m2.5s", "0") in s."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("-")
    if body == "0":
        return 0.0
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            raise ValueError(f"not a duration: {text!r}")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body) or position == 0:
        raise ValueError(f"not a duration: {text!r}")
    return sign * total


def parse_log_time(text):
    """The services' log time, 2026-11-24T06:30:26.899Z, as Unix seconds."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def parse_properties(text):
    """{name: value} of `name=value` lines (what --print_kafka_config prints)."""
    properties = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and name.strip():
            properties[name.strip()] = value.strip()
    return properties
