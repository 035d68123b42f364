// File: deploy/devbroker/dev_broker.cc

#include "deploy/devbroker/dev_broker.h"

#include <utility>

namespace kitchen::devbroker {

absl::StatusOr<std::unique_ptr<MockCluster>> StartDevBroker(
    std::vector<TopicSpec> topics) {
  MockClusterOptions options;
  options.port = 0;  // Tests never need a fixed port, and may run in parallel.
  options.topics = std::move(topics);
  return MockCluster::Start(options);
}

}  // namespace kitchen::devbroker
