#!/usr/bin/env python3
"""File: tests/bench_parsing_test.py

The benchmark reads what it measures out of the kitchen's outputs (bench/parsing.py):
order events as protobuf lays out a kitchen.v1.OrderEvent, framed by kcat's '%S %s\\n',
and the summary line of Kafka's ProducerPerformance. These tests hold that reading to
bytes built by the wire format's rules and to lines as Kafka 4.3 prints them; a wrong
field number, a record cut at a read boundary or a changed summary fails here, not as
a wrong figure in results/bench.md."""

import importlib.util
import os
import unittest

_path = os.path.join(os.environ.get("TEST_SRCDIR", "."), "kitchen", "bench", "parsing.py")
if not os.path.exists(_path):
    _path = os.path.join(os.path.dirname(__file__), "..", "bench", "parsing.py")
_spec = importlib.util.spec_from_file_location("parsing", _path)
parsing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parsing)


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def timestamp(seconds, nanos):
    return field(1, seconds) + field(2, nanos)


def event(state, at=(1764590000, 250000000), placed=(1764590000, 123000000)):
    out = (field(1, b"0b7e0a1c-0000-4000-8000-000000000001") + field(2, 17) +
           field(3, b"margherita") + field(4, state) + field(5, b"bench-cook") +
           field(6, timestamp(*at)) + field(7, 5) + field(8, 300000))
    if placed is not None:
        out += field(9, timestamp(*placed))
    return out


class OrderEventTest(unittest.TestCase):
    def test_reads_state_cook_position_and_both_times(self):
        decoded = parsing.decode_order_event(event(parsing.READY))
        self.assertEqual(decoded["state"], parsing.READY)
        self.assertEqual(decoded["cook"], "bench-cook")
        self.assertEqual((decoded["order_partition"], decoded["order_offset"]), (5, 300000))
        self.assertAlmostEqual(decoded["at"], 1764590000.25, places=6)
        self.assertAlmostEqual(decoded["placed_at"], 1764590000.123, places=6)

    def test_an_event_without_placed_at_says_none(self):
        decoded = parsing.decode_order_event(event(parsing.COOKING, placed=None))
        self.assertEqual(decoded["state"], parsing.COOKING)
        self.assertIsNone(decoded["placed_at"])

    def test_a_truncated_event_is_an_error(self):
        with self.assertRaises((ValueError, IndexError)):
            parsing.decode_order_event(event(parsing.READY)[:-3])


class SizedRecordsTest(unittest.TestCase):
    def test_values_with_spaces_and_newlines_inside_are_whole(self):
        values = [event(parsing.COOKING), b"a b\nc", event(parsing.READY)]
        data = b"".join(b"%d %s\n" % (len(v), v) for v in values)
        self.assertEqual(parsing.split_sized_records(data), (values, len(data)))

    def test_a_record_cut_off_is_left_for_the_next_read(self):
        first, second = event(parsing.COOKING), event(parsing.READY)
        data = b"%d %s\n%d %s\n" % (len(first), first, len(second), second)
        for cut in range(len(data)):
            values, used = parsing.split_sized_records(data[:cut])
            rest, more = parsing.split_sized_records(data[used:])
            self.assertEqual(values + rest, [first, second], f"cut at {cut}")
            self.assertEqual(used + more, len(data))

    def test_a_missing_newline_is_an_error(self):
        with self.assertRaises(ValueError):
            parsing.split_sized_records(b"3 abcX4 defg\n")


class ProducerPerformanceTest(unittest.TestCase):
    def test_the_last_summary_line(self):
        text = ("49981 records sent, 9996.2 records/sec (0.65 MB/sec), 3.1 ms avg latency, "
                "180.0 ms max latency.\n"
                "100000 records sent, 48804.294778 records/sec (3.17 MB/sec), 2.42 ms avg "
                "latency, 180.00 ms max latency, 1 ms 50th, 5 ms 95th, 14 ms 99th, 170 ms "
                "99.9th.\n")
        summary = parsing.parse_producer_performance(text)
        self.assertEqual(summary["records"], 100000)
        self.assertAlmostEqual(summary["records_per_s"], 48804.294778)
        self.assertEqual((summary["p50_ms"], summary["p99_ms"], summary["p999_ms"]),
                         (1.0, 14.0, 170.0))

    def test_no_summary_is_none(self):
        self.assertIsNone(parsing.parse_producer_performance("ERROR Connection refused\n"))


if __name__ == "__main__":
    unittest.main()
