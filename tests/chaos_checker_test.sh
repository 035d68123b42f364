#!/usr/bin/env bash
# Runs tests/chaos_checker_test.py (Python's unittest) under Bazel.
set -euo pipefail
exec python3 "${TEST_SRCDIR}/kitchen/tests/chaos_checker_test.py"
