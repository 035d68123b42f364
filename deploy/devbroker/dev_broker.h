// File: deploy/devbroker/dev_broker.h
//
// The kitchen's embedded dev broker: librdkafka's mock cluster (the Kafka
// protocol served by librdkafka itself, in memory) with the kitchen's topics
// created, behind a fixed bootstrap port. Real Kafka clients in other processes
// (the services, kcat) connect to it as to any cluster.
//
// Usage:
//   DevBrokerOptions options;  // 3 brokers, localhost:9092, kitchen topics
//   options.port = 0;          // let the system pick a free port
//   auto broker = DevBroker::Start(options);
//   std::cout << (*broker)->bootstrap_servers();  // "localhost:41234"

#ifndef KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_
#define KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deploy/devbroker/tcp_forwarder.h"
#include "kafka/handle.h"

namespace kitchen::devbroker {

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

struct DevBrokerOptions {
  int broker_count = 3;
  int port = 9092;  // 0: pick a free port.
  std::vector<TopicSpec> topics = {{"pizza-order", 6}, {"pizza-order.dlq", 6}};
};

class DevBroker {
 public:
  static absl::StatusOr<std::unique_ptr<DevBroker>> Start(
      const DevBrokerOptions& options);

  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;
  // Stops the forwarder, then the cluster; everything it held is gone.
  ~DevBroker();

  // What clients bootstrap from: "localhost:PORT".
  std::string bootstrap_servers() const;
  int port() const { return forwarder_->port(); }
  // The mock brokers' own addresses, as metadata names them.
  std::string broker_addresses() const;
  // For fault injection (rd_kafka_mock_broker_set_down and friends).
  rd_kafka_mock_cluster_t* cluster() { return cluster_.get(); }

 private:
  struct ClusterDeleter {
    void operator()(rd_kafka_mock_cluster_t* cluster) const {
      rd_kafka_mock_cluster_destroy(cluster);
    }
  };

  DevBroker() = default;

  // The mock cluster lives inside a librdkafka handle: declared first,
  // destroyed last.
  kafka::HandlePtr host_handle_;
  std::unique_ptr<rd_kafka_mock_cluster_t, ClusterDeleter> cluster_;
  std::unique_ptr<TcpForwarder> forwarder_;
};

}  // namespace kitchen::devbroker

#endif  // KITCHEN_DEPLOY_DEVBROKER_DEV_BROKER_H_
