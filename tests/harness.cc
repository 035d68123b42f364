// File: tests/harness.cc

#include "tests/harness.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kitchen::testing {

absl::StatusOr<std::unique_ptr<DevBrokerProcess>> DevBrokerProcess::Start(
    std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {Binary("deploy/devbroker/devbroker"), "--port=0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto process = Process::Start("devbroker", argv);
  if (!process.ok()) return process.status();
  auto broker = std::make_unique<DevBrokerProcess>();
  broker->process_ = *std::move(process);
  absl::StatusOr<std::string> line =
      broker->process_->WaitForStdoutLine(absl::Seconds(20));
  if (!line.ok()) return line.status();
  broker->bootstrap_ = *line;
  return broker;
}

absl::StatusOr<std::unique_ptr<Process>> StartService(absl::string_view service,
                                                      std::vector<std::string> flags,
                                                      const std::string& bootstrap) {
  std::vector<std::string> argv = {Binary(absl::StrCat(service, "/", service)),
                                   absl::StrCat("--brokers=", bootstrap)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return Process::Start(service, argv);
}

RunResult RunWaiter(const std::string& bootstrap, std::vector<std::string> args,
                    const std::string& input) {
  std::vector<std::string> argv = {Binary("waiter/waiter"),
                                   absl::StrCat("--brokers=", bootstrap)};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, absl::Seconds(60), input);
}

absl::StatusOr<int64_t> CountRecords(const std::string& bootstrap,
                                     const std::string& topic) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), nullptr, 0);
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(error);
  }
  int64_t total = 0;
  absl::Status status;
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* topic_handle = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  rd_kafka_resp_err_t got =
      rd_kafka_metadata(handle, 0, topic_handle, &metadata, 10000);
  if (got != RD_KAFKA_RESP_ERR_NO_ERROR || metadata->topic_cnt != 1) {
    status = absl::UnavailableError(absl::StrCat("no metadata for ", topic));
  } else {
    for (int i = 0; i < metadata->topics[0].partition_cnt && status.ok(); ++i) {
      int64_t low = 0;
      int64_t high = 0;
      got = rd_kafka_query_watermark_offsets(handle, topic.c_str(),
                                             metadata->topics[0].partitions[i].id,
                                             &low, &high, 10000);
      if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = absl::UnavailableError(rd_kafka_err2str(got));
      }
      total += high;
    }
  }
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(topic_handle);
  rd_kafka_destroy(handle);
  if (!status.ok()) return status;
  return total;
}

bool WaitUntil(const std::function<bool()>& predicate, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (predicate()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return predicate();
}

}  // namespace kitchen::testing
