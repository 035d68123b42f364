// File: service/loop_harness.cc

#include "service/loop_harness.h"

#include <librdkafka/rdkafka.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "kafka/handle.h"
#include "kafka/producer.h"
#include "orders/order_event.h"
#include "orders/order_record.h"

namespace kitchen::service {
namespace {

using kafka::PartitionListPtr;

// Every partition of `topic`, starting at `offset`.
PartitionListPtr AllPartitions(const char* topic, int64_t offset) {
  PartitionListPtr list(
      rd_kafka_topic_partition_list_new(LoopHarness::kPartitions));
  for (int32_t partition = 0; partition < LoopHarness::kPartitions;
       ++partition) {
    rd_kafka_topic_partition_list_add(list.get(), topic, partition)->offset =
        offset;
  }
  return list;
}

// A plain consumer handle in `group` that joins nothing: for asking what the
// group committed and for reading partitions it assigns itself.
absl::StatusOr<kafka::HandlePtr> Client(const kafka::ClientConfig& config,
                                        const std::string& group) {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      config, {{"group.id", group}, {"enable.auto.commit", "false"}});
  if (!conf.ok()) return conf.status();
  char error[512];
  kafka::HandlePtr client(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof(error)));
  if (client == nullptr) return absl::InternalError(error);
  (void)conf->release();  // rd_kafka_new took it.
  return client;
}

// Sends each record to pizza-order and waits until every one is acknowledged;
// where each was written, in order.
absl::StatusOr<std::vector<Position>> Produce(
    const kafka::ClientConfig& config,
    const std::vector<orders::EncodedOrder>& records) {
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(kafka::ForProducer(config), {});
  if (!conf.ok()) return conf.status();
  std::vector<Position> written(records.size());
  absl::Status failed;
  auto producer = kafka::Producer::Create(
      *std::move(conf), [&](const kafka::Delivery& delivery) {
        if (!delivery.status.ok() && failed.ok()) failed = delivery.status;
        written[delivery.token] = {orders::kOrderTopic, delivery.partition,
                                   delivery.offset};
      });
  if (!producer.ok()) return producer.status();
  for (size_t i = 0; i < records.size(); ++i) {
    const orders::EncodedOrder& record = records[i];
    absl::Status sent = (*producer)->Send(
        {orders::kOrderTopic, record.key, record.value, &record.headers}, i);
    if (!sent.ok()) return sent;
  }
  if (absl::Status flushed = (*producer)->Flush(absl::Seconds(30));
      !flushed.ok()) {
    return flushed;
  }
  if (!failed.ok()) return failed;
  return written;
}

}  // namespace

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

absl::optional<std::string> ReadRecord::header(absl::string_view name) const {
  absl::optional<std::string> value;
  for (const kafka::Header& header : headers) {
    if (header.name == name) value = header.value;
  }
  return value;
}

RunningLoop::~RunningLoop() { (void)Stop(); }

absl::Status RunningLoop::Stop() {
  if (thread_.joinable()) {
    stop_.Notify();
    thread_.join();
    (void)consumer_->Close();
  }
  return result_;
}

absl::StatusOr<std::unique_ptr<LoopHarness>> LoopHarness::Start() {
  auto broker =
      devbroker::StartDevBroker({{orders::kOrderTopic, kPartitions},
                                 {orders::kDeadLetterTopic, kPartitions},
                                 {orders::kStatusTopic, kPartitions}});
  if (!broker.ok()) return broker.status();
  std::unique_ptr<LoopHarness> harness(new LoopHarness());
  harness->broker_ = *std::move(broker);
  return harness;
}

kafka::ClientConfig LoopHarness::config() const {
  // The session timeout of the end-to-end tests: every member of a group on
  // the mock must have the same one (see README, Known limits).
  return {broker_->bootstrap_servers(), {{"session.timeout.ms", "6000"}}};
}

std::vector<PlacedOrder> LoopHarness::PlaceOrders(int count) {
  static const char* const kPizzas[] = {"margherita", "diavola", "marinara"};
  std::vector<PlacedOrder> placed;
  std::vector<orders::EncodedOrder> records;
  for (int i = 0; i < count; ++i) {
    placed.push_back(
        {orders::NewOrder(kPizzas[i % 3], 1 + i % 10, absl::Now()), {}});
    records.push_back(orders::EncodeOrder(placed.back().order));
  }
  absl::StatusOr<std::vector<Position>> written = Produce(config(), records);
  if (!written.ok()) return {};
  for (int i = 0; i < count; ++i) placed[i].at = (*written)[i];
  return placed;
}

absl::StatusOr<Position> LoopHarness::ProduceRaw(
    absl::string_view key, absl::string_view value,
    const kafka::Headers& headers) {
  kafka::Headers all = {{"origin", "loop-harness"}};
  all.insert(all.end(), headers.begin(), headers.end());
  absl::StatusOr<std::vector<Position>> written =
      Produce(config(), {{std::string(key), std::string(value), all}});
  if (!written.ok()) return written.status();
  return written->front();
}

absl::StatusOr<std::unique_ptr<RunningLoop>> LoopHarness::Run(
    Handler& handler, const std::string& group, LoopOptions options) {
  std::unique_ptr<RunningLoop> running(new RunningLoop());
  auto dead_letters = orders::DeadLetterQueue::Create(
      config(), orders::kDeadLetterTopic, group);
  if (!dead_letters.ok()) return dead_letters.status();
  running->dead_letters_ = *std::move(dead_letters);
  kafka::Properties defaults = kafka::ConsumerDefaultsFor(config(), group);
  if (options.transaction != nullptr) {
    // As the service runs it on the dev broker (service/consumer_service.h).
    defaults.push_back({"enable.auto.commit", "false"});
    options.commit_after_transaction = true;
  }
  running->loop_ = std::make_unique<Loop>(std::move(options), handler,
                                          *running->dead_letters_);
  auto conf = kafka::BuildConf(config(), defaults);
  if (!conf.ok()) return conf.status();
  auto consumer = kafka::Consumer::Create(
      *std::move(conf), {orders::kOrderTopic}, running->loop_.get());
  if (!consumer.ok()) return consumer.status();
  running->consumer_ = *std::move(consumer);
  RunningLoop* loop = running.get();
  running->thread_ = std::thread([loop] {
    loop->result_ = loop->loop_->Run(*loop->consumer_, loop->stop_);
    loop->ended_.Notify();
  });
  return running;
}

std::vector<absl::optional<int64_t>> LoopHarness::CommittedOffsets(
    const std::string& group) {
  std::vector<absl::optional<int64_t>> offsets(kPartitions);
  absl::StatusOr<kafka::HandlePtr> client = Client(config(), group);
  if (!client.ok()) return offsets;
  PartitionListPtr list =
      AllPartitions(orders::kOrderTopic, RD_KAFKA_OFFSET_INVALID);
  if (rd_kafka_committed(client->get(), list.get(), 5000) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return offsets;
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[i].offset >= 0) {
      offsets[list->elems[i].partition] = list->elems[i].offset;
    }
  }
  (void)rd_kafka_consumer_close(client->get());
  return offsets;
}

int64_t LoopHarness::Committed(const std::string& group) {
  int64_t sum = 0;
  for (const absl::optional<int64_t>& offset : CommittedOffsets(group)) {
    sum += offset.value_or(0);
  }
  return sum;
}

std::vector<ReadRecord> LoopHarness::DeadLetters(size_t count,
                                                 absl::Duration timeout) {
  return ReadTopic(orders::kDeadLetterTopic, count, timeout);
}

std::vector<ReadRecord> LoopHarness::ReadTopic(const std::string& topic,
                                               size_t count,
                                               absl::Duration timeout) {
  std::vector<ReadRecord> records;
  absl::StatusOr<kafka::HandlePtr> client = Client(config(), "loop-harness");
  if (!client.ok()) return records;
  rd_kafka_poll_set_consumer(client->get());
  PartitionListPtr list =
      AllPartitions(topic.c_str(), RD_KAFKA_OFFSET_BEGINNING);
  if (rd_kafka_assign(client->get(), list.get()) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return records;
  }
  absl::Time deadline = absl::Now() + timeout;
  while (records.size() < count && absl::Now() < deadline) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(client->get(), 100);
    if (raw == nullptr) continue;
    kafka::Message message(raw);
    if (raw->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    records.push_back({std::string(message.key()), std::string(message.value()),
                       message.headers()});
  }
  (void)rd_kafka_consumer_close(client->get());
  return records;
}

}  // namespace kitchen::service
