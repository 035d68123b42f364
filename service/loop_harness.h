// File: service/loop_harness.h
//
// Testonly: a handler run in the consumer loop (service/loop.h) inside the
// test's own process, against an in-process dev broker holding pizza-order,
// pizza-order.dlq and order-status, so a handler's tests see it consume,
// dead-letter and keep progress over the real Kafka protocol without starting a
// service. What a test waits on is what another client can see from outside,
// never the handler's own state while its loop runs: committed offsets, the
// dead-letter topic, the handler's files.
//
// Usage:
//   auto harness = LoopHarness::Start();
//   std::vector<PlacedOrder> placed = (*harness)->PlaceOrders(10);
//   Cook cook(absl::ZeroDuration());
//   auto running = (*harness)->Run(cook, "cook");
//   EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("cook") == 10; },
//                         absl::Seconds(30)));
//   EXPECT_TRUE((*running)->Stop().ok());
//   EXPECT_EQ(cook.cooked(), 10);

#ifndef KITCHEN_SERVICE_LOOP_HARNESS_H_
#define KITCHEN_SERVICE_LOOP_HARNESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "deploy/devbroker/mock_cluster.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/message.h"
#include "orders/dead_letter.h"
#include "proto/order.pb.h"
#include "service/handler.h"
#include "service/loop.h"

namespace kitchen::service {

// Waits until `condition` holds, checking every 20 ms; false if `timeout`
// passes first.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout);

// A record read back, copied out of its consumer.
struct ReadRecord {
  std::string key;
  std::string value;
  kafka::Headers headers;
  absl::optional<std::string> header(absl::string_view name) const;
};

// An order placed, and where the broker wrote it (`at.topic` is pizza-order,
// a literal).
struct PlacedOrder {
  kitchen::v1::Order order;
  Position at;
};

// A loop running on a thread of its own until Stop().
class RunningLoop {
 public:
  RunningLoop(const RunningLoop&) = delete;
  RunningLoop& operator=(const RunningLoop&) = delete;
  ~RunningLoop();  // Stops it, if the test has not.

  // Waits for the loop to end by itself (a handler that abandoned a record or
  // failed); false if `timeout` passes first.
  bool WaitForEnd(absl::Duration timeout) {
    return ended_.WaitForNotificationWithTimeout(timeout);
  }
  // Notifies the loop's stop, waits for it and closes its consumer (leaving
  // the group); what Run() returned.
  absl::Status Stop();
  // After Stop(): Loop::handler_failed().
  bool handler_failed() const { return loop_->handler_failed(); }

 private:
  friend class LoopHarness;
  RunningLoop() = default;

  absl::Notification stop_;
  absl::Notification ended_;
  std::unique_ptr<orders::DeadLetterQueue> dead_letters_;
  std::unique_ptr<Loop> loop_;
  std::unique_ptr<kafka::Consumer> consumer_;
  absl::Status result_;
  std::thread thread_;
};

class LoopHarness {
 public:
  static constexpr int kPartitions = 3;

  static absl::StatusOr<std::unique_ptr<LoopHarness>> Start();

  // The dev broker's client configuration.
  kafka::ClientConfig config() const;
  // Its mock cluster, for faults (rd_kafka_mock_broker_set_down and friends):
  // brokers 1 to 3.
  rd_kafka_mock_cluster_t* mock() { return broker_->cluster(); }

  // Places `count` orders on pizza-order (tables 1 to 10 in turn, each with an
  // id and the time placed), waiting for the broker's acknowledgement; none
  // if one failed.
  std::vector<PlacedOrder> PlaceOrders(int count);
  // Produces one record as it is, with a header `origin: loop-harness` and
  // then `headers` (a poison record, say), and waits for the broker's
  // acknowledgement.
  absl::StatusOr<Position> ProduceRaw(absl::string_view key,
                                      absl::string_view value,
                                      const kafka::Headers& headers = {});

  // Runs `handler` in a Loop whose consumer is in `group` on pizza-order,
  // dead-lettering to pizza-order.dlq, until Stop(). With
  // options.transaction, as a transactional service runs on the dev broker.
  // `handler` must outlive the running loop.
  absl::StatusOr<std::unique_ptr<RunningLoop>> Run(
      Handler& handler, const std::string& group,
      LoopOptions options = LoopOptions());

  // What `group` has committed on pizza-order: per partition the offset it
  // goes on from, nullopt for none.
  std::vector<absl::optional<int64_t>> CommittedOffsets(
      const std::string& group);
  // Their sum, counting none as 0: the records whose progress the group kept.
  int64_t Committed(const std::string& group);

  // Reads pizza-order.dlq from the start until `count` records arrived or
  // `timeout` passed.
  std::vector<ReadRecord> DeadLetters(size_t count, absl::Duration timeout);
  // The same for any topic of the harness (order-status, say).
  std::vector<ReadRecord> ReadTopic(const std::string& topic, size_t count,
                                    absl::Duration timeout);

 private:
  LoopHarness() = default;

  std::unique_ptr<devbroker::MockCluster> broker_;
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_LOOP_HARNESS_H_
