#!/usr/bin/env bash
# Runs tests/bench_parsing_test.py (Python's unittest) under Bazel.
set -euo pipefail
exec python3 "${TEST_SRCDIR}/kitchen/tests/bench_parsing_test.py"
