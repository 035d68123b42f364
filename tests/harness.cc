// File: tests/harness.cc

#include "tests/harness.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace kitchen::testing {

absl::StatusOr<std::unique_ptr<DevBrokerProcess>> DevBrokerProcess::Start(
    std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {Binary("deploy/devbroker/devbroker"),
                                   "--port=0"};
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

void DevBrokerTest::SetUp() {
  auto broker = DevBrokerProcess::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  broker_ = *std::move(broker);
}

void DevBrokerTest::PlaceOrders(int count) {
  RunResult waiter = RunWaiter(bootstrap(), {absl::StrCat("--count=", count)});
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
}

absl::StatusOr<std::unique_ptr<Process>> StartService(
    absl::string_view service, std::vector<std::string> flags,
    const std::string& bootstrap) {
  std::vector<std::string> argv = {Binary(absl::StrCat(service, "/", service)),
                                   absl::StrCat("--brokers=", bootstrap)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return Process::Start(service, argv);
}

RunResult RunService(absl::string_view service, const std::string& bootstrap,
                     std::vector<std::string> args, const std::string& input) {
  std::vector<std::string> argv = {Binary(absl::StrCat(service, "/", service)),
                                   absl::StrCat("--brokers=", bootstrap)};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunToEnd(argv, absl::Seconds(60), input);
}

RunResult RunWaiter(const std::string& bootstrap, std::vector<std::string> args,
                    const std::string& input) {
  return RunService("waiter", bootstrap, std::move(args), input);
}

absl::StatusOr<int64_t> CountRecords(const std::string& bootstrap,
                                     const std::string& topic) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), nullptr, 0);
  rd_kafka_t* handle =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(error);
  }
  int64_t total = 0;
  absl::Status status;
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* topic_handle =
      rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  rd_kafka_resp_err_t got =
      rd_kafka_metadata(handle, 0, topic_handle, &metadata, 10000);
  if (got != RD_KAFKA_RESP_ERR_NO_ERROR || metadata->topic_cnt != 1) {
    status = absl::UnavailableError(absl::StrCat("no metadata for ", topic));
  } else {
    for (int i = 0; i < metadata->topics[0].partition_cnt && status.ok(); ++i) {
      int64_t low = 0;
      int64_t high = 0;
      got = rd_kafka_query_watermark_offsets(
          handle, topic.c_str(), metadata->topics[0].partitions[i].id, &low,
          &high, 10000);
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

absl::Status ProduceRaw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value) {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf({bootstrap, {}}, {});
  if (!conf.ok()) return conf.status();
  absl::Status delivered = absl::UnknownError("no delivery report");
  auto producer = kafka::Producer::Create(
      *std::move(conf),
      [&](const kafka::Delivery& d) { delivered = d.status; });
  if (!producer.ok()) return producer.status();
  absl::Status sent = (*producer)->Send({topic, key, value, nullptr}, 0);
  if (!sent.ok()) return sent;
  if (absl::Status flushed = (*producer)->Flush(absl::Seconds(10));
      !flushed.ok()) {
    return flushed;
  }
  return delivered;
}

absl::optional<std::string> Record::header(absl::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name == name) return it->value;
  }
  return absl::nullopt;
}

std::vector<Record> ReadRecords(const std::string& bootstrap,
                                const std::string& topic, size_t count,
                                absl::Duration timeout) {
  std::vector<Record> records;
  static int reader = 0;
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      {bootstrap, {}}, kafka::ConsumerDefaults(absl::StrCat(
                           "test-reader-", ::getpid(), "-", reader++)));
  if (!conf.ok()) return records;
  auto consumer = kafka::Consumer::Create(*std::move(conf), {topic}, nullptr);
  if (!consumer.ok()) return records;
  absl::Time deadline = absl::Now() + timeout;
  while (records.size() < count && absl::Now() < deadline) {
    auto polled = (*consumer)->Poll(100);
    if (polled.ok() && polled->has_value()) {
      const kafka::Message& message = **polled;
      records.push_back({std::string(message.key()),
                         std::string(message.value()), message.headers()});
    }
  }
  return records;
}

std::vector<std::string> LinesWith(const std::string& text,
                                   absl::string_view needle) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) lines.emplace_back(line);
  }
  return lines;
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
