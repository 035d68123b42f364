// File: tests/harness.h
//
// What every end-to-end test needs: a broker, the kitchen's binaries started
// against it, and a way to look at a topic from outside.
//
// Each test source is built once per broker (tests/e2e.bzl) and learns which
// from $KITCHEN_TEST_BROKER:
//  - dev:   a devbroker process (librdkafka's mock cluster) per test case,
//           with its topics pizza-order and pizza-order.dlq;
//  - kafka: one real Apache Kafka cluster (tools/kafka) per test binary or
//           shard, shared by its cases, each case on topics and consumer groups
//           of its own.
// A BrokerTest hides the difference: its helpers give the services the case's
// topics and groups, and assertions name topic() and group("cook").
//
// Usage:
//   class CookTest : public BrokerTest {};
//   TEST_F(CookTest, CooksAnOrder) {
//     auto cook = StartService("cook", {"--prep_time=0"});
//     PlaceOrders(1);
//     EXPECT_TRUE((*cook)->WaitForStderr(absl::StrCat(" ", topic(), "/"),
//                                        absl::Seconds(30)));
//   }

#ifndef KITCHEN_TESTS_HARNESS_H_
#define KITCHEN_TESTS_HARNESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"
#include "kafka/message.h"
#include "kafka/topic_reader.h"
#include "proto/order_event.pb.h"
#include "tests/process.h"

namespace kitchen::testing {

enum class BrokerKind { kDev, kKafka };

class EventReader;

// The broker this test binary runs against: $KITCHEN_TEST_BROKER, "dev" or
// "kafka" (set by tests/e2e.bzl); dev when unset, for a binary run by hand.
absl::StatusOr<BrokerKind> TestBroker();

class DevBrokerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<DevBrokerProcess>> Start(
      std::vector<std::string> extra_flags = {});

  const std::string& bootstrap() const { return bootstrap_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
};

// A real Kafka cluster: `tools/kafka up --foreground` as a child process, its
// nodes the script's children (so all die with the test process).
class KafkaCluster {
 public:
  // The test binary's one cluster: started on first use (JVMs take seconds
  // to start, so the cases share it), stopped when the binary exits. A cluster
  // that could not start is the same error for every case that asks.
  static absl::StatusOr<KafkaCluster*> Shared();

  KafkaCluster(const KafkaCluster&) = delete;
  KafkaCluster& operator=(const KafkaCluster&) = delete;
  // SIGTERM: the script stops its nodes (SIGKILL after its own bound).
  ~KafkaCluster();

  const std::string& bootstrap() const { return bootstrap_; }
  int nodes() const { return nodes_; }
  // Runs `tools/kafka --state_dir <this cluster's> <args>` to its end, e.g.
  // {"pause", "1"}; an error with its standard error unless it exits 0.
  absl::Status Control(std::vector<std::string> args) const;
  // The same, for what it prints: {"leader", topic, "0"} → "2\n".
  absl::StatusOr<std::string> Query(std::vector<std::string> args) const;

 private:
  KafkaCluster() = default;
  static absl::StatusOr<std::unique_ptr<KafkaCluster>> Start(int nodes);

  std::unique_ptr<Process> process_;
  std::string bootstrap_;
  int nodes_ = 0;
  std::string state_dir_;
};

// A test case with a broker of its own kind (see the top of this file): a
// fresh devbroker, or fresh topics and groups on the shared Kafka cluster.
class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Resumes a broker the case left paused, so that the cluster's next case
  // finds it serving.
  void TearDown() override;

  BrokerKind broker() const { return broker_; }
  // The shared cluster, on kafka only (for faults aimed at one node).
  const KafkaCluster& kafka() const { return *kafka_; }
  const std::string& bootstrap() const { return bootstrap_; }
  // The case's order topic and dead-letter topic (6 partitions each).
  const std::string& topic() const { return topic_; }
  const std::string& dead_letter_topic() const { return dead_letter_topic_; }
  // The case's order-status topic (the cooks' events, 6 partitions).
  const std::string& status_topic() const { return status_topic_; }
  // The case's kitchen-members topic (who is working, for the board).
  const std::string& members_topic() const { return members_topic_; }
  // The case's name for consumer group `base`: `base` itself on dev (a fresh
  // broker per case), a name of this case on kafka (so a member an earlier case
  // killed cannot delay this case's joins).
  std::string group(absl::string_view base) const;

  // `flags` for waiter/cook/manager, and before them the flags that put the
  // service on this case's topics and group: on kafka the case's --topic, and
  // for cook and manager --dead_letter_topic and --group=group(service), for
  // the cook and the waiter --status_topic, for cook and manager
  // --members_topic, for the board all its topics and
  // --cook_group/--manager_group, unless `flags` set them. On dev none: the
  // services run on their defaults, as a user runs them, so the dev variant
  // keeps proving what they are.
  std::vector<std::string> CaseFlags(absl::string_view service,
                                     std::vector<std::string> flags) const;
  // The command line of a service ("cook" → //cook:cook): --brokers and
  // CaseFlags(service, flags).
  std::vector<std::string> ServiceCommand(absl::string_view service,
                                          std::vector<std::string> flags) const;
  absl::StatusOr<std::unique_ptr<Process>> StartService(
      absl::string_view service, std::vector<std::string> flags);
  // Runs a service to its end (killed after a minute).
  RunResult RunService(absl::string_view service, std::vector<std::string> args,
                       const std::string& input = "");
  RunResult RunWaiter(std::vector<std::string> args,
                      const std::string& input = "");
  // Places `count` random orders with the waiter's load mode.
  void PlaceOrders(int count);
  // A reader of this case's status topic (EventReader), or a failed test.
  std::unique_ptr<EventReader> ReadEvents(kafka::Isolation isolation);

  // Every broker of the cluster stops answering (SIGSTOP: the devbroker
  // process, or each Kafka node); connections stay open. Until ResumeBroker(),
  // or the end of the case.
  void PauseBroker();
  // Every broker answers again, with everything it had.
  void ResumeBroker();
  // No broker serves for the rest of the case. The devbroker process ends
  // (connections are refused); Kafka's nodes are paused (connections hang
  // unanswered) and resumed after the case, because a killed node takes
  // 12 s and more to recover and the binary's next case needs the cluster.
  void TakeBrokerDown();

 private:
  // SIGSTOP (pause) or SIGCONT every broker: the devbroker, or each node.
  void SignalBroker(bool pause);

  BrokerKind broker_ = BrokerKind::kDev;
  std::unique_ptr<DevBrokerProcess> dev_broker_;  // dev only.
  KafkaCluster* kafka_ = nullptr;                 // kafka only: shared.
  std::string bootstrap_;
  std::string topic_;
  std::string dead_letter_topic_;
  std::string status_topic_;
  std::string members_topic_;
  std::string suffix_;  // kafka: "-<case>-<pid>", what makes names unique.
  bool paused_ = false;
};

// Creates `topics` with `partitions` each and `replication_factor` copies
// (Kafka's admin API), then waits until the cluster's metadata shows every
// partition of them with a leader, and each leader answers for its offsets.
absl::Status CreateTopics(const std::string& bootstrap,
                          const std::vector<std::string>& topics,
                          int partitions, int replication_factor,
                          absl::Duration timeout);

// The number of records on `topic` (sum of high watermarks over its
// partitions).
absl::StatusOr<int64_t> CountRecords(const std::string& bootstrap,
                                     const std::string& topic);

// The offsets `group` has committed on `topic`, summed over its partitions (0
// for one without): equal to CountRecords once the group is done with every
// record, which a consumer commits only after handling it.
absl::StatusOr<int64_t> CountCommitted(const std::string& bootstrap,
                                       const std::string& group,
                                       const std::string& topic);

// Produces one raw record (a poison record, say) and waits for the broker's
// answer.
absl::Status ProduceRaw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value);

// A copy of a record read (a kafka::Message cannot outlive its consumer).
struct Record {
  std::string key;
  std::string value;
  kafka::Headers headers;
  absl::optional<std::string> header(absl::string_view name) const;
};

// Reads records of `topic` from the start until `count` arrived or `timeout`
// passed.
std::vector<Record> ReadRecords(const std::string& bootstrap,
                                const std::string& topic, size_t count,
                                absl::Duration timeout);

// Per partition, an offset: the next one to read, or to commit.
using PartitionOffsets = std::map<int32_t, int64_t>;

// Each partition's high watermark on `topic` (the offset its next record gets;
// a topic written without transactions holds records at 0 up to it).
absl::StatusOr<PartitionOffsets> HighWatermarks(const std::string& bootstrap,
                                                const std::string& topic);

// The offsets `group` has committed on `topic`, per partition (0 for one
// without).
absl::StatusOr<PartitionOffsets> CommittedOffsets(const std::string& bootstrap,
                                                  const std::string& group,
                                                  const std::string& topic);

// An order's identity on the order topic (README, "Order events"): its
// partition and offset.
using OrderPosition = std::pair<int32_t, int64_t>;

// An event read from the status topic, and where it was read there.
struct StatusEvent {
  kitchen::v1::OrderEvent event;
  int32_t partition = 0;
  int64_t offset = 0;
  OrderPosition order() const {
    return {event.order_partition(), event.order_offset()};
  }
};

// A reader of a status topic from its earliest record, with the isolation
// level a test chooses (read_committed: what committed transactions hold and
// what was written outside any; read_uncommitted: also the records of open
// and aborted transactions). Each record is decoded (orders::DecodeEvent);
// one that is not an event is counted, and fails the test that asserts
// undecodable() == 0.
//
//   auto committed = EventReader::Start(bootstrap(), status_topic(),
//                                       kafka::Isolation::kReadCommitted);
//   ASSERT_TRUE((*committed)->WaitFor(
//       [&](const auto& events) { return Count(events, READY) == 3; },
//       absl::Seconds(30)));
class EventReader {
 public:
  static absl::StatusOr<std::unique_ptr<EventReader>> Start(
      const std::string& bootstrap, const std::string& topic,
      kafka::Isolation isolation);

  // Reads until `condition` holds for the events read so far (it is asked
  // after each poll), or `timeout` passes: false then.
  bool WaitFor(
      const std::function<bool(const std::vector<StatusEvent>&)>& condition,
      absl::Duration timeout);
  // Reads everything the topic holds now (read_committed: up to each
  // partition's last stable offset, so an open transaction is waited for):
  // then events() is complete as of this call. False if `timeout` passes.
  bool CatchUp(absl::Duration timeout);

  const std::vector<StatusEvent>& events() const { return events_; }
  int undecodable() const { return undecodable_; }

 private:
  explicit EventReader(std::unique_ptr<kafka::TopicReader> reader)
      : reader_(std::move(reader)) {}
  // One poll of up to `timeout_ms`; false when the reader failed.
  bool ReadSome(int timeout_ms);

  std::unique_ptr<kafka::TopicReader> reader_;
  std::vector<StatusEvent> events_;
  int undecodable_ = 0;
};

// How many of `events` are in `state`, per order; orders with none absent.
std::map<OrderPosition, int> CountByOrder(
    const std::vector<StatusEvent>& events,
    kitchen::v1::OrderEvent::State state);

// Every order on a topic written without transactions: offsets 0 up to each
// partition's high watermark.
std::vector<OrderPosition> AllOrders(const PartitionOffsets& high_watermarks);

// The lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text,
                                   absl::string_view needle);

// Waits until `predicate` holds, checking every 50 ms; false if `timeout`
// passes.
bool WaitUntil(const std::function<bool()>& predicate, absl::Duration timeout);

}  // namespace kitchen::testing

#endif  // KITCHEN_TESTS_HARNESS_H_
