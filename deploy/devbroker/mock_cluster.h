// File: deploy/devbroker/mock_cluster.h
//
// The engine of the devbroker binary: librdkafka's mock cluster (the Kafka
// protocol served by librdkafka itself, in memory) with the kitchen's topics
// created, behind a fixed bootstrap port. Real Kafka clients in other processes
// (the services, kcat) connect to it as to any cluster.
//
// Private to deploy/devbroker: the devbroker binary runs one, and unit tests
// get one in their own process through the testonly dev_broker.h. It depends
// on no kitchen library but the forwarder, so that kafka/'s tests can use it
// without a package cycle.
//
// Usage:
//   MockClusterOptions options;  // 3 brokers, localhost:9092, kitchen topics
//   options.port = 0;            // let the system pick a free port
//   auto cluster = MockCluster::Start(options);
//   std::cout << (*cluster)->bootstrap_servers();  // "localhost:41234"

#ifndef KITCHEN_DEPLOY_DEVBROKER_MOCK_CLUSTER_H_
#define KITCHEN_DEPLOY_DEVBROKER_MOCK_CLUSTER_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deploy/devbroker/tcp_forwarder.h"

namespace kitchen::devbroker {

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

struct MockClusterOptions {
  int broker_count = 3;
  int port = 9092;  // 0: pick a free port.
  std::vector<TopicSpec> topics = {{"pizza-order", 6},
                                   {"pizza-order.dlq", 6},
                                   {"order-status", 6},
                                   {"kitchen-members", 1}};
};

class MockCluster {
 public:
  static absl::StatusOr<std::unique_ptr<MockCluster>> Start(
      const MockClusterOptions& options);

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
  // Stops the forwarder, then the cluster; everything it held is gone.
  ~MockCluster();

  // What clients bootstrap from: "localhost:PORT".
  std::string bootstrap_servers() const;
  // The mock brokers' own addresses, as metadata names them.
  std::string broker_addresses() const;
  // For fault injection (rd_kafka_mock_broker_set_down and friends).
  rd_kafka_mock_cluster_t* cluster() { return cluster_.get(); }

 private:
  // kafka/handle.h's HandlePtr, not shared: kafka/ must not be a dependency.
  struct HandleDeleter {
    void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
  };
  struct ClusterDeleter {
    void operator()(rd_kafka_mock_cluster_t* cluster) const {
      rd_kafka_mock_cluster_destroy(cluster);
    }
  };

  MockCluster() = default;

  // The mock cluster lives inside a librdkafka handle: declared first,
  // destroyed last.
  std::unique_ptr<rd_kafka_t, HandleDeleter> host_handle_;
  std::unique_ptr<rd_kafka_mock_cluster_t, ClusterDeleter> cluster_;
  std::unique_ptr<TcpForwarder> forwarder_;
};

}  // namespace kitchen::devbroker

#endif  // KITCHEN_DEPLOY_DEVBROKER_MOCK_CLUSTER_H_
