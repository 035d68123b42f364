#!/usr/bin/env bash
# The chaos run in a small, fast configuration: a few hundred orders through a dozen
# faults, checked for lost, duplicated and uncooked orders (tools/chaos.py).
set -euo pipefail
root="${TEST_SRCDIR}/kitchen"
exec python3 "$root/tools/chaos.py" --bin_dir "$root" --orders 1200 --rate 120 \
  --faults 12 --seed "${CHAOS_SEED:-20261124}" --work_dir "${TEST_TMPDIR}/chaos" \
  --drain_timeout 120
