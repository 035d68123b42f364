#!/usr/bin/env python3
"""The chaos checker must see what it is there to see: lost, duplicated, uncooked and
out-of-order orders in a made-up history (tools/chaos.py check())."""

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

    def test_out_of_order_in_the_ledger_and_the_cooks_is_found(self):
        result = chaos.check(
            self.acks, [ledger_line("b", 1, 1), ledger_line("a", 1, 0), ledger_line("c", 1, 2)],
            [cooking("t1", "b", 1, 1), cooking("t2", "a", 1, 0), cooking("t3", "c", 1, 2)], 0)
        self.assertEqual(len(result["out_of_order"]), 2, result["out_of_order"])


if __name__ == "__main__":
    sys.argv[1:] = []
    unittest.main()
