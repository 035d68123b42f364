// File: deploy/devbroker/dev_broker.h
//
// A dev broker inside a unit test's own process (testonly): the devbroker's
// mock cluster on a port the system picks, with the topics the test names, so
// that Kafka clients can be tested against the real protocol without a broker
// process. Faults are injected through librdkafka's mock API on cluster().
// End-to-end tests run the devbroker binary instead (tests/harness.h).
//
// Usage:
//   auto broker = StartDevBroker({{"pizza-order", 6}});
//   ClientConfig config{(*broker)->bootstrap_servers(), {}};
//   rd_kafka_mock_broker_set_down((*broker)->cluster(), 1);

#ifndef KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_
#define KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "deploy/devbroker/mock_cluster.h"

namespace kitchen::devbroker {

// Three brokers on a free localhost port, holding `topics` (by default the
// kitchen's own, as the devbroker binary creates them).
absl::StatusOr<std::unique_ptr<MockCluster>> StartDevBroker(
    std::vector<TopicSpec> topics = MockClusterOptions().topics);

}  // namespace kitchen::devbroker

#endif  // KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_
