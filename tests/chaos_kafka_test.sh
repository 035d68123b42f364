#!/usr/bin/env bash
# The chaos run on a real one-node Kafka cluster (tools/kafka, started and stopped by
# tools/chaos.py --kafka): the kitchen's processes killed and paused while orders flow,
# then checked like the dev-broker run (tests/chaos_test.sh), and stricter: on a real
# broker an acknowledged order missing from the topic fails too. One node, because two
# cores are shared with other tests; broker faults need three (tools/chaos --kafka).
# A slower rate than the dev run's: on a real group a killed member's partitions wait
# for its session to expire, and faults a few seconds apart let cooks work between them.
set -euo pipefail
root="${TEST_SRCDIR}/kitchen"
exec python3 "$root/tools/chaos.py" --bin_dir "$root" --kafka --kafka_nodes 1 \
  --orders 1200 --rate 30 --faults 12 --seed "${CHAOS_SEED:-20261124}" \
  --work_dir "${TEST_TMPDIR}/chaos" --drain_timeout 120
