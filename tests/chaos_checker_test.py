#!/usr/bin/env python3
"""The chaos checker must see what it is there to see: lost, duplicated, uncooked,
unready, twice-ready and out-of-order orders and READYs the group has not committed in a
made-up history (tools/chaos.py check()), and read order events as the cook writes them
(decode_event, against bytes laid out as protobuf encodes a kitchen.v1.OrderEvent)."""

import importlib.util
import os
import sys
import unittest

_path = os.path.join(os.environ.get("TEST_SRCDIR", "."), "kitchen", "tools", "chaos.py")
if not os.path.exists(_path):
    _path = os.path.join(os.path.dirname(__file__), "..", "tools", "chaos.py")
_spec = importlib.util.spec_from_file_location("chaos", _path)
chaos = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chaos)


def ledger_line(order, table, offset):
    return {"order_id": order, "table": table, "partition": 0, "offset": offset}


def cooking(time, order, table, offset, log="cook-1.1.log", line=0):
    return (time, log, line, table, order, offset)


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.acks = {o: {"table": 1, "partition": 0, "offset": i}
                     for i, o in enumerate(["a", "b", "c"])}

    def test_a_clean_history_passes(self):
        result = chaos.check(
            self.acks, [ledger_line("a", 1, 0), ledger_line("b", 1, 1), ledger_line("c", 1, 2)],
            [cooking("t1", "a", 1, 0), cooking("t2", "b", 1, 1), cooking("t3", "c", 1, 2)], 0)
        self.assertEqual(result["lost"], [])
        self.assertEqual(result["duplicated"], [])
        self.assertEqual(result["not_cooked"], [])
        self.assertEqual(result["out_of_order"], [])
        self.assertEqual(result["recooked"], 0)

    def test_lost_duplicated_uncooked_and_recooked_are_counted(self):
        result = chaos.check(
            self.acks, [ledger_line("a", 1, 0), ledger_line("a", 1, 0), ledger_line("c", 1, 2)],
            [cooking("t1", "a", 1, 0), cooking("t2", "a", 1, 0), cooking("t3", "c", 1, 2)], 2)
        self.assertEqual(result["lost"], ["b"])
        self.assertEqual(result["duplicated"], ["a"])
        self.assertEqual(result["not_cooked"], ["b"])
        self.assertEqual(result["recooked"], 1)
        self.assertEqual(result["dead_letters"], 2)

    def test_an_order_the_broker_never_held_is_told_apart_from_a_lost_one(self):
        result = chaos.check(
            self.acks, [ledger_line("a", 1, 0)],
            [cooking("t1", "a", 1, 0)], 0, on_topic={"a", "b"})
        self.assertEqual(result["not_on_topic"], ["c"])
        self.assertEqual(result["lost"], ["b"])
        self.assertEqual(result["not_cooked"], ["b"])

    def test_unready_twice_ready_and_uncommitted_readies_are_found(self):
        ledger = [ledger_line("a", 1, 0), ledger_line("b", 1, 1), ledger_line("c", 1, 2)]
        cookings = [cooking("t1", "a", 1, 0), cooking("t2", "b", 1, 1),
                    cooking("t3", "c", 1, 2)]
        clean = chaos.check(self.acks, ledger, cookings, 0,
                            readies={(0, 0): 1, (0, 1): 1, (0, 2): 1}, committed={0: 3})
        self.assertEqual(clean["not_ready"], [])
        self.assertEqual(clean["ready_twice"], [])
        self.assertEqual(clean["ready_not_committed"], [])
        result = chaos.check(self.acks, ledger, cookings, 0,
                             readies={(0, 0): 2, (0, 2): 1}, committed={0: 2})
        self.assertEqual(result["not_ready"], ["b"])
        self.assertEqual(result["ready_twice"], ["a"])
        self.assertEqual(result["ready_not_committed"], ["0@2"])
        result.update({"graceful_exit": {}, "broker_problems": []})
        self.assertEqual(chaos.failures(result, trusted_broker=False), ["not_ready"])
        # A waiter that gave up (a fatal error of its producer) fails the run.
        result["waiter_exit"] = 2
        self.assertEqual(chaos.failures(result, trusted_broker=False),
                         ["not_ready", "the waiter stopped (exit 2)"])
        del result["waiter_exit"]
        self.assertEqual(chaos.failures(result, trusted_broker=True),
                         ["not_ready", "ready_twice", "ready_not_committed"])

    def test_out_of_order_in_the_ledger_and_the_cooks_is_found(self):
        result = chaos.check(
            self.acks, [ledger_line("b", 1, 1), ledger_line("a", 1, 0), ledger_line("c", 1, 2)],
            [cooking("t1", "b", 1, 1), cooking("t2", "a", 1, 0), cooking("t3", "c", 1, 2)], 0)
        self.assertEqual(len(result["out_of_order"]), 2, result["out_of_order"])


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


class EventTest(unittest.TestCase):
    def test_an_order_event_is_decoded_field_by_field(self):
        at = field(1, 1764590000) + field(2, 250000000)
        value = (field(1, b"3f2a") + field(2, 17) + field(3, b"margherita")
                 + field(4, chaos.READY_STATE) + field(5, b"cook-1") + field(6, at)
                 + field(7, 2) + field(8, 12345678901) + field(9, at))
        event = chaos.decode_event(value)
        self.assertEqual(event["order_id"], "3f2a")
        self.assertEqual(event["table"], 17)
        self.assertEqual(event["pizza"], "margherita")
        self.assertEqual(event["state"], chaos.READY_STATE)
        self.assertEqual(event["cook"], "cook-1")
        self.assertAlmostEqual(event["at"], 1764590000.25)
        self.assertEqual(event["order_partition"], 2)
        self.assertEqual(event["order_offset"], 12345678901)

    def test_events_become_cookings_and_readies(self):
        events = [
            {"state": chaos.COOKING_STATE, "at": 2.0, "cook": "cook-2", "table": 1,
             "order_id": "a", "order_partition": 0, "order_offset": 0},
            {"state": chaos.COOKING_STATE, "at": 1.0, "cook": "cook-1", "table": 1,
             "order_id": "a", "order_partition": 0, "order_offset": 0},
            {"state": chaos.READY_STATE, "at": 3.0, "cook": "cook-2", "table": 1,
             "order_id": "a", "order_partition": 0, "order_offset": 0},
        ]
        cookings = chaos.cookings_of(events)
        self.assertEqual([c[1] for c in cookings], ["cook-1", "cook-2"])  # By time.
        self.assertEqual(chaos.readies_of(events), {(0, 0): 1})

    def test_the_waiters_acknowledgements_are_read_with_their_trace(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".acks", delete=False) as f:
            f.write("order 89efb13a-6250-4bcb-b950-44cf8ee55002: diavola for table 64 -> "
                    "pizza-order partition 3 offset 7 trace "
                    "17dbf43537acab16456a1a2c57b6beab\n")
        acks = chaos.read_acks(f.name)
        self.assertEqual(acks["89efb13a-6250-4bcb-b950-44cf8ee55002"]["partition"], 3)
        self.assertEqual(acks["89efb13a-6250-4bcb-b950-44cf8ee55002"]["offset"], "7")
        with open(f.name, "w") as out:
            out.write("order x: diavola for table 64 -> pizza-order partition 3 offset 7 "
                      "trace NOT-HEX\n")
        with self.assertRaises(RuntimeError):
            chaos.read_acks(f.name)
        os.unlink(f.name)


if __name__ == "__main__":
    sys.argv[1:] = []
    unittest.main()
