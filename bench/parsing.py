"""File: bench/parsing.py

What the benchmark reads out of the kitchen's outputs: percentiles of measured
values, an order's placed_at from its protobuf bytes, absl durations and log times
from the services' logs, and name=value lines (--print_kafka_config).
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
