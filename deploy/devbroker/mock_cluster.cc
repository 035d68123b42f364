// File: deploy/devbroker/mock_cluster.cc

#include "deploy/devbroker/mock_cluster.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kitchen::devbroker {

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(
    const MockClusterOptions& options) {
  if (options.broker_count < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "broker count must be at least 1, not ", options.broker_count));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port must be 0 to 65535, not ", options.port));
  }
  std::unique_ptr<MockCluster> broker(new MockCluster());

  // The mock cluster needs a librdkafka handle to live in; it is never used as
  // a client.
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", nullptr, 0);
  rd_kafka_t* handle =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(
        absl::StrCat("cannot start librdkafka: ", error));
  }
  broker->host_handle_.reset(handle);

  broker->cluster_.reset(
      rd_kafka_mock_cluster_new(handle, options.broker_count));
  if (broker->cluster_ == nullptr) {
    return absl::InternalError("cannot start librdkafka's mock cluster");
  }
  int replication = std::min(options.broker_count, 3);
  for (const TopicSpec& topic : options.topics) {
    rd_kafka_resp_err_t created =
        rd_kafka_mock_topic_create(broker->cluster_.get(), topic.name.c_str(),
                                   topic.partitions, replication);
    if (created != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(absl::StrCat(
          "cannot create topic ", topic.name, ": ", rd_kafka_err2str(created)));
    }
  }

  std::vector<std::string> targets =
      absl::StrSplit(broker->broker_addresses(), ',', absl::SkipEmpty());
  absl::StatusOr<std::unique_ptr<TcpForwarder>> forwarder =
      TcpForwarder::Start(options.port, std::move(targets));
  if (!forwarder.ok()) {
    return absl::Status(
        forwarder.status().code(),
        absl::StrCat(forwarder.status().message(),
                     options.port != 0
                         ? " (is another broker running? --port 0 "
                           "picks a free port)"
                         : ""));
  }
  broker->forwarder_ = *std::move(forwarder);
  return broker;
}

MockCluster::~MockCluster() {
  forwarder_.reset();
  cluster_.reset();
  host_handle_.reset();
}

std::string MockCluster::bootstrap_servers() const {
  return absl::StrCat("localhost:", forwarder_->port());
}

std::string MockCluster::broker_addresses() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_.get());
}

}  // namespace kitchen::devbroker
