// File: service/loop_test.cc
//
// The consumer loop against an in-process dev broker, with a handler that
// only notes what it is given: each way of keeping progress (stored offsets,
// own positions, none; a transaction refused), the poison-record path, an
// abandoned record, a failing handler, and the hooks.

#include "service/loop.h"

#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "orders/dead_letter.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"
#include "service/handler.h"
#include "service/loop_harness.h"
#include "service/transaction.h"

namespace kitchen::service {
namespace {

// Notes every call; safe to read while its loop runs.
class NotingHandler : public Handler {
 public:
  explicit NotingHandler(Progress progress) : progress_(progress) {}

  Progress progress() const override { return progress_; }

  absl::Status Handle(const kitchen::v1::Order& order, const Position& at,
                      absl::Notification& stop) override {
    absl::MutexLock lock(&mutex_);
    if (order.order_id() == abandon_) {
      abandon_.clear();  // Once.
      return absl::CancelledError("abandoned");
    }
    if (!fail_with_.ok()) return fail_with_;
    handled_.push_back(order.order_id());
    if (at.trace != nullptr) traces_[order.order_id()] = at.trace->header();
    handled_at_[at.partition] = std::max(handled_at_[at.partition], at.offset);
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    // Slow, as a disk is: a loop that kept offsets before the flush ended
    // would be seen committing them.
    absl::SleepFor(flush_time_);
    absl::MutexLock lock(&mutex_);
    ++flushes_;
    flushed_ = handled_at_;
    return fail_flush_ ? absl::DataLossError("the disk is full")
                       : absl::OkStatus();
  }

  absl::optional<int64_t> NextOffset(const std::string& topic,
                                     int32_t partition) const override {
    absl::MutexLock lock(&mutex_);
    auto found = start_at_.find(partition);
    if (found == start_at_.end()) return absl::nullopt;
    return found->second;
  }

  void OnAssigned(
      const std::vector<kafka::TopicPartition>& partitions) override {
    absl::MutexLock lock(&mutex_);
    for (const kafka::TopicPartition& p : partitions) {
      assigned_[p.partition] = p.offset;
    }
  }
  void OnRevoked(const std::vector<kafka::TopicPartition>& partitions,
                 bool lost) override {
    absl::MutexLock lock(&mutex_);
    revoked_ += static_cast<int>(partitions.size());
  }
  void OnIdle() override {
    absl::MutexLock lock(&mutex_);
    ++idle_;
  }
  void OnLag(const std::vector<kafka::PartitionLag>& lags) override {
    absl::MutexLock lock(&mutex_);
    lag_reports_.push_back(lags);
  }

  std::string Summary() const override { return "noted"; }

  // What the test sets up, before the loop runs.
  void Abandon(const std::string& order_id) { abandon_ = order_id; }
  void StartAt(int32_t partition, int64_t offset) {
    start_at_[partition] = offset;
  }
  void FailFlushes(absl::Duration flush_time) {
    fail_flush_ = true;
    flush_time_ = flush_time;
  }
  void SlowFlushes(absl::Duration flush_time) { flush_time_ = flush_time; }
  void FailHandling(absl::Status status) { fail_with_ = std::move(status); }

  std::vector<std::string> handled() const {
    absl::MutexLock lock(&mutex_);
    return handled_;
  }
  // The trace context each order was handled in, by order id.
  std::map<std::string, std::string> traces() const {
    absl::MutexLock lock(&mutex_);
    return traces_;
  }
  // Per partition, the last offset handled / made durable.
  std::map<int32_t, int64_t> flushed() const {
    absl::MutexLock lock(&mutex_);
    return flushed_;
  }
  int flushes() const {
    absl::MutexLock lock(&mutex_);
    return flushes_;
  }
  bool abandoned() const {
    absl::MutexLock lock(&mutex_);
    return abandon_.empty();
  }
  std::map<int32_t, int64_t> assigned() const {
    absl::MutexLock lock(&mutex_);
    return assigned_;
  }
  int revoked() const {
    absl::MutexLock lock(&mutex_);
    return revoked_;
  }
  int idle() const {
    absl::MutexLock lock(&mutex_);
    return idle_;
  }
  std::vector<std::vector<kafka::PartitionLag>> lag_reports() const {
    absl::MutexLock lock(&mutex_);
    return lag_reports_;
  }

 private:
  const Progress progress_;
  mutable absl::Mutex mutex_;
  std::string abandon_;
  absl::Status fail_with_;
  bool fail_flush_ = false;
  absl::Duration flush_time_ = absl::ZeroDuration();
  std::map<int32_t, int64_t> start_at_;
  std::vector<std::string> handled_;
  std::map<std::string, std::string> traces_;  // order id -> its traceparent
  std::map<int32_t, int64_t> handled_at_;
  std::map<int32_t, int64_t> flushed_;
  int flushes_ = 0;
  std::map<int32_t, int64_t> assigned_;
  int revoked_ = 0;
  int idle_ = 0;
  std::vector<std::vector<kafka::PartitionLag>> lag_reports_;
};

std::vector<std::string> Ids(const std::vector<PlacedOrder>& placed) {
  std::vector<std::string> ids;
  for (const PlacedOrder& p : placed) ids.push_back(p.order.order_id());
  return ids;
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto harness = LoopHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  std::unique_ptr<RunningLoop> Run(Handler& handler, const std::string& group,
                                   LoopOptions options = LoopOptions()) {
    auto running = harness_->Run(handler, group, std::move(options));
    EXPECT_TRUE(running.ok()) << running.status();
    return running.ok() ? *std::move(running) : nullptr;
  }

  std::unique_ptr<LoopHarness> harness_;
};

TEST_F(LoopTest, StoredOffsetsAreKeptForWhatWasHandledAndPoisonIsParked) {
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(6);
  ASSERT_EQ(placed.size(), 6u);
  absl::StatusOr<Position> garbage = harness_->ProduceRaw("2", "\xff garbage");
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  kitchen::v1::Order no_table;
  no_table.set_pizza("margherita");
  ASSERT_TRUE(harness_->ProduceRaw("0", no_table.SerializeAsString()).ok());

  NotingHandler handler(Progress::kStoredOffsets);
  auto running = Run(handler, "stored");
  // Every record is kept, the two poison records once parked.
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("stored") == 8; },
                        absl::Seconds(30)))
      << harness_->Committed("stored");
  std::vector<ReadRecord> parked = harness_->DeadLetters(2, absl::Seconds(20));
  EXPECT_TRUE(running->Stop().ok());

  EXPECT_EQ(Sorted(handler.handled()), Sorted(Ids(placed)))
      << "each order handled once, no poison record handed over";
  ASSERT_EQ(parked.size(), 2u);
  for (const ReadRecord& letter : parked) {
    EXPECT_EQ(letter.header(orders::kDeadLetterTopicHeader), "pizza-order");
    EXPECT_EQ(letter.header(orders::kDeadLetterGroupHeader), "stored");
    EXPECT_EQ(letter.header("origin"), "loop-harness")
        << "its own headers kept";
    EXPECT_TRUE(letter.header(orders::kDeadLetterOffsetHeader).has_value());
    EXPECT_TRUE(letter.header(orders::kDeadLetterTimestampHeader).has_value());
    if (letter.key == "2") {
      EXPECT_EQ(letter.value, "\xff garbage");
      EXPECT_EQ(letter.header(orders::kDeadLetterPartitionHeader),
                absl::StrCat(garbage->partition));
      EXPECT_TRUE(absl::StrContains(
          letter.header(orders::kDeadLetterReasonHeader).value_or(""),
          "not a kitchen.v1.Order"));
    } else {
      EXPECT_EQ(letter.header(orders::kDeadLetterReasonHeader),
                "order has table 0, not a positive number");
    }
  }
  // Partitions came at the committed offset (none yet: the group's reset)
  // and went at close.
  EXPECT_EQ(handler.assigned().size(),
            static_cast<size_t>(LoopHarness::kPartitions));
  for (const auto& [partition, offset] : handler.assigned()) {
    EXPECT_EQ(offset, kafka::kCommittedOffset) << partition;
  }
  EXPECT_EQ(handler.revoked(), LoopHarness::kPartitions);
  EXPECT_GT(handler.idle(), 0);
  EXPECT_TRUE(handler.lag_reports().empty()) << "log_lag is off";
}

TEST_F(LoopTest, EachRecordIsHandledInItsTraceWithASpanOfTheServicesOwn) {
  const std::string waiter_span =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto produce = [&](const std::string& id,
                     const kafka::Headers& headers) -> bool {
    kitchen::v1::Order order = orders::NewOrder("margherita", 3, absl::Now());
    order.set_order_id(id);
    return harness_->ProduceRaw("3", order.SerializeAsString(), headers).ok();
  };
  ASSERT_TRUE(produce("traced", {{"traceparent", waiter_span}}));
  ASSERT_TRUE(produce("untraced", {}));
  ASSERT_TRUE(produce("invalid", {{"traceparent", "00-\xff\n-01"}}));
  // Upper-case hex: not a valid version-00 traceparent.
  ASSERT_TRUE(produce(
      "upper", {{"traceparent",
                 "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}}));
  const std::string poison_span =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ASSERT_TRUE(
      harness_->ProduceRaw("3", "\xff poison", {{"traceparent", poison_span}})
          .ok());

  NotingHandler handler(Progress::kStoredOffsets);
  auto running = Run(handler, "traced");
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("traced") == 5; },
                        absl::Seconds(30)))
      << harness_->Committed("traced");
  std::vector<ReadRecord> parked = harness_->DeadLetters(1, absl::Seconds(20));
  EXPECT_TRUE(running->Stop().ok());

  std::map<std::string, std::string> traces = handler.traces();
  ASSERT_EQ(traces.size(), 4u);
  absl::optional<orders::TraceContext> traced =
      orders::TraceContext::Parse(traces["traced"]);
  ASSERT_TRUE(traced.has_value()) << traces["traced"];
  EXPECT_EQ(traced->trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(traced->span_id(), "00f067aa0ba902b7") << "a span of its own";
  // No traceparent, or one that is not valid: a new trace each.
  std::set<std::string> new_traces;
  for (const char* id : {"untraced", "invalid", "upper"}) {
    absl::optional<orders::TraceContext> trace =
        orders::TraceContext::Parse(traces[id]);
    ASSERT_TRUE(trace.has_value()) << id << ": " << traces[id];
    EXPECT_NE(trace->trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736") << id;
    EXPECT_TRUE(trace->sampled()) << id;
    new_traces.insert(std::string(trace->trace_id()));
  }
  EXPECT_EQ(new_traces.size(), 3u);

  // The dead-letter copy: one traceparent, the poison record's trace with
  // the parking service's span.
  ASSERT_EQ(parked.size(), 1u);
  int traceparents = 0;
  for (const kafka::Header& header : parked[0].headers) {
    if (header.name == "traceparent") ++traceparents;
  }
  EXPECT_EQ(traceparents, 1);
  absl::optional<orders::TraceContext> copy =
      orders::TraceContext::Parse(parked[0].header("traceparent").value_or(""));
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(copy->span_id(), "b7ad6b7169203331");
  EXPECT_EQ(parked[0].header("origin"), "loop-harness");
}

TEST_F(LoopTest, AnAbandonedRecordIsNotKeptAndComesAgain) {
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(9);
  ASSERT_EQ(placed.size(), 9u);
  NotingHandler first(Progress::kStoredOffsets);
  first.Abandon(placed[4].order.order_id());
  auto running = Run(first, "abandon");
  // The loop stops by itself once the handler abandons a record.
  ASSERT_TRUE(running->WaitForEnd(absl::Seconds(30)));
  EXPECT_TRUE(first.abandoned());
  EXPECT_TRUE(running->Stop().ok());
  std::vector<std::string> done_first = first.handled();
  EXPECT_LT(done_first.size(), placed.size());
  EXPECT_EQ(std::count(done_first.begin(), done_first.end(),
                       placed[4].order.order_id()),
            0);
  EXPECT_EQ(harness_->Committed("abandon"),
            static_cast<int64_t>(done_first.size()))
      << "what was done is kept, the abandoned record not";

  // The next member of the group handles exactly the rest, the abandoned
  // record included.
  NotingHandler second(Progress::kStoredOffsets);
  running = Run(second, "abandon");
  ASSERT_TRUE(WaitUntil([&] { return harness_->Committed("abandon") == 9; },
                        absl::Seconds(30)));
  EXPECT_TRUE(running->Stop().ok());
  std::vector<std::string> all = done_first;
  for (const std::string& id : second.handled()) all.push_back(id);
  EXPECT_EQ(Sorted(all), Sorted(Ids(placed)));
}

TEST_F(LoopTest, OwnPositionsStartWhereTheHandlerSaysAndKeepOnlyWhatIsFlushed) {
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(30);
  ASSERT_EQ(placed.size(), 30u);
  NotingHandler handler(Progress::kOwnPositions);
  // The handler's store holds partition 0 up to offset 2, and partition 1
  // entirely; it has never seen partition 2.
  std::map<int32_t, int64_t> ends;
  for (const PlacedOrder& p : placed) {
    ends[p.at.partition] = std::max(ends[p.at.partition], p.at.offset + 1);
  }
  ASSERT_EQ(ends.size(), 3u) << "tables 1 to 10 reach every partition";
  handler.StartAt(0, 3);
  handler.StartAt(1, ends[1]);
  handler.SlowFlushes(absl::Milliseconds(300));
  std::vector<std::string> expected;
  for (const PlacedOrder& p : placed) {
    if (p.at.partition == 2 || (p.at.partition == 0 && p.at.offset >= 3)) {
      expected.push_back(p.order.order_id());
    }
  }

  LoopOptions options;
  options.batch_max_records = 1000;
  options.batch_max_delay = absl::Seconds(10);
  auto running = Run(handler, "own", options);
  // Committed offsets never pass what the handler has made durable.
  bool overtaken = false;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::vector<absl::optional<int64_t>> committed =
            harness_->CommittedOffsets("own");
        std::map<int32_t, int64_t> flushed = handler.flushed();
        for (int32_t p : {0, 2}) {
          if (committed[p].has_value() &&
              (flushed.count(p) == 0 || *committed[p] > flushed[p] + 1)) {
            overtaken = true;
          }
        }
        return overtaken ||
               (committed[0] == ends[0] && committed[2] == ends[2]);
      },
      absl::Seconds(30)));
  EXPECT_FALSE(overtaken) << "an offset was committed before its flush";
  EXPECT_TRUE(running->Stop().ok());

  EXPECT_EQ(Sorted(handler.handled()), Sorted(expected));
  std::map<int32_t, int64_t> assigned = handler.assigned();
  // One record before the handler's next offset: its last, read again to
  // check the log is the one the store was written from.
  EXPECT_EQ(assigned[0], 2);
  EXPECT_EQ(assigned[1], ends[1] - 1);
  EXPECT_EQ(assigned[2], kafka::kEarliestOffset);
  EXPECT_LT(handler.flushes(), static_cast<int>(expected.size()))
      << "orders waiting together are flushed together";
}

TEST_F(LoopTest, ABatchEndsAtItsBytesBound) {
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(30);
  ASSERT_EQ(placed.size(), 30u);
  size_t smallest = SIZE_MAX;
  for (const PlacedOrder& p : placed) {
    orders::EncodedOrder record = orders::EncodeOrder(p.order);
    smallest = std::min(smallest, record.key.size() + record.value.size());
  }
  NotingHandler handler(Progress::kOwnPositions);
  LoopOptions options;
  options.batch_max_records = 1000;
  options.batch_max_delay = absl::Seconds(10);
  // Two records at most, whatever waits.
  options.batch_max_bytes = static_cast<int64_t>(2 * smallest);
  auto running = Run(handler, "bytes", options);
  ASSERT_TRUE(WaitUntil([&] { return harness_->Committed("bytes") == 30; },
                        absl::Seconds(30)));
  EXPECT_TRUE(running->Stop().ok());
  EXPECT_EQ(handler.handled().size(), 30u);
  EXPECT_GE(handler.flushes(), 15) << "a batch held more than its bytes";
}

TEST_F(LoopTest, NoneKeepsNothing) {
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(5);
  ASSERT_TRUE(harness_->ProduceRaw("1", "not an order").ok());
  NotingHandler handler(Progress::kNone);
  LoopOptions options;
  options.log_lag = true;
  auto running = Run(handler, "watcher", options);
  ASSERT_TRUE(WaitUntil([&] { return handler.handled().size() == 5; },
                        absl::Seconds(30)));
  EXPECT_EQ(harness_->DeadLetters(1, absl::Seconds(20)).size(), 1u);
  EXPECT_TRUE(running->Stop().ok());
  for (const absl::optional<int64_t>& offset :
       harness_->CommittedOffsets("watcher")) {
    EXPECT_FALSE(offset.has_value()) << *offset;
  }
  // Lag said at assignment and at shutdown, for every partition.
  std::vector<std::vector<kafka::PartitionLag>> lags = handler.lag_reports();
  ASSERT_GE(lags.size(), 2u);
  EXPECT_EQ(lags.front().size(), static_cast<size_t>(LoopHarness::kPartitions));
  int64_t behind = 0;
  for (const kafka::PartitionLag& lag : lags.back()) behind += lag.lag;
  EXPECT_EQ(behind, 0) << "everything read by shutdown";
}

TEST_F(LoopTest, AFailingHandlerStopsTheLoopWithNothingKeptPastItsFlush) {
  ASSERT_EQ(harness_->PlaceOrders(4).size(), 4u);
  NotingHandler handler(Progress::kOwnPositions);
  handler.FailFlushes(absl::ZeroDuration());
  LoopOptions options;
  options.batch_max_records = 100;
  auto running = Run(handler, "failing", options);
  ASSERT_TRUE(running->WaitForEnd(absl::Seconds(30)));
  absl::Status result = running->Stop();
  EXPECT_EQ(result.code(), absl::StatusCode::kDataLoss) << result;
  EXPECT_TRUE(running->handler_failed());
  EXPECT_EQ(handler.flushes(), 1) << "nothing more after the failure";
  EXPECT_EQ(harness_->Committed("failing"), 0);

  NotingHandler refusing(Progress::kStoredOffsets);
  refusing.FailHandling(absl::InternalError("cannot cook"));
  running = Run(refusing, "refusing");
  ASSERT_TRUE(running->WaitForEnd(absl::Seconds(30)));
  result = running->Stop();
  EXPECT_EQ(result.code(), absl::StatusCode::kInternal) << result;
  EXPECT_TRUE(running->handler_failed());
  EXPECT_EQ(harness_->Committed("refusing"), 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The dead-letter topic's only broker is down for longer than a copy's
// delivery timeout: the loop goes on with the other partitions meanwhile, its
// health file says what it waits for, and once the broker is back the record
// is parked once, not once per attempt.
TEST_F(LoopTest, ADeadLetterTopicAwayStallsOnlyItsRecordsPartition) {
  // Broker 3 leads every partition of the dead-letter topic and nothing else.
  for (int32_t partition = 0; partition < LoopHarness::kPartitions;
       ++partition) {
    ASSERT_EQ(rd_kafka_mock_partition_set_leader(harness_->mock(),
                                                 orders::kOrderTopic, partition,
                                                 1 + partition % 2),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_mock_partition_set_leader(
                  harness_->mock(), orders::kDeadLetterTopic, partition, 3),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_mock_coordinator_set(harness_->mock(), "group", "away", 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  NotingHandler handler(Progress::kStoredOffsets);
  LoopOptions options;
  options.health_file = absl::StrCat(::testing::TempDir(), "/health-away");
  auto running = Run(handler, "away", options);
  ASSERT_TRUE(WaitUntil([&] { return !handler.assigned().empty(); },
                        absl::Seconds(30)));
  ASSERT_EQ(rd_kafka_mock_broker_set_down(harness_->mock(), 3),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  const absl::Time down = absl::Now();

  absl::StatusOr<Position> poison = harness_->ProduceRaw("1", "\xff poison");
  ASSERT_TRUE(poison.ok()) << poison.status();
  std::vector<PlacedOrder> placed = harness_->PlaceOrders(30);
  ASSERT_EQ(placed.size(), 30u);
  std::vector<std::string> elsewhere;  // Not behind the poison record.
  for (const PlacedOrder& p : placed) {
    if (p.at.partition != poison->partition) {
      elsewhere.push_back(p.order.order_id());
    }
  }
  ASSERT_FALSE(elsewhere.empty());
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<std::string> handled = handler.handled();
        return std::all_of(
            elsewhere.begin(), elsewhere.end(), [&](const std::string& id) {
              return std::count(handled.begin(), handled.end(), id) == 1;
            });
      },
      absl::Seconds(15)))
      << handler.handled().size() << " handled of the " << elsewhere.size()
      << " on other partitions";
  EXPECT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(
            ReadFile(options.health_file),
            absl::StrCat("waiting: dead-letter copy of pizza-order/",
                         poison->partition, "@", poison->offset));
      },
      absl::Seconds(10)))
      << ReadFile(options.health_file);

  // Longer than a copy's delivery timeout (30 s): a copy that timed out must
  // not stay queued beside its retry.
  absl::SleepFor(absl::Seconds(36) - (absl::Now() - down));
  ASSERT_EQ(rd_kafka_mock_broker_set_up(harness_->mock(), 3),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("away") == 31; },
                        absl::Seconds(60)))
      << harness_->Committed("away");
  std::vector<ReadRecord> parked = harness_->DeadLetters(2, absl::Seconds(15));
  EXPECT_TRUE(running->Stop().ok());
  EXPECT_EQ(parked.size(), 1u) << "one copy, not one per attempt";
  EXPECT_EQ(Sorted(handler.handled()), Sorted(Ids(placed)));
  EXPECT_EQ(ReadFile(options.health_file).find("waiting"), std::string::npos)
      << ReadFile(options.health_file);
}

TEST_F(LoopTest, ACopyThatCanNeverBeWrittenStopsTheLoopSayingWhy) {
  absl::StatusOr<Position> poison = harness_->ProduceRaw("4", "\xff poison");
  ASSERT_TRUE(poison.ok()) << poison.status();
  // The next produce request, the dead-letter copy's, is refused for good.
  rd_kafka_mock_push_request_errors(
      harness_->mock(), /*Produce*/ 0, 1,
      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  NotingHandler handler(Progress::kStoredOffsets);
  auto running = Run(handler, "refused");
  ASSERT_TRUE(running->WaitForEnd(absl::Seconds(30)));
  absl::Status result = running->Stop();
  EXPECT_EQ(result.code(), absl::StatusCode::kFailedPrecondition) << result;
  EXPECT_TRUE(absl::StrContains(
      result.message(),
      absl::StrCat("bad record at pizza-order/", poison->partition, "@",
                   poison->offset,
                   " cannot be dead-lettered to pizza-order.dlq")))
      << result;
  EXPECT_TRUE(absl::StrContains(result.message(), "TOPIC_AUTHORIZATION_FAILED"))
      << result;
  EXPECT_FALSE(running->handler_failed());
  EXPECT_EQ(harness_->CommittedOffsets("refused")[poison->partition],
            absl::nullopt)
      << "the record is not done";
}

TEST_F(LoopTest, ATransactionalHandlerNeedsATransactionalProducer) {
  NotingHandler handler(Progress::kOffsetsInTransaction);
  auto running = Run(handler, "transactional");
  absl::Status result = running->Stop();
  EXPECT_EQ(result.code(), absl::StatusCode::kFailedPrecondition) << result;
  EXPECT_FALSE(running->handler_failed());
}

TEST_F(LoopTest, AnAbortedTransactionRewindsAndTheRecordsComeAgain) {
  ASSERT_EQ(harness_->PlaceOrders(6).size(), 6u);
  auto transaction =
      TransactionalProducer::Create(harness_->config(), {"loop-test"});
  ASSERT_TRUE(transaction.ok()) << transaction.status();
  // The first transaction's offsets are refused as a stale generation's.
  rd_kafka_mock_push_request_errors(harness_->mock(), /*TxnOffsetCommit*/ 28, 1,
                                    RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  NotingHandler handler(Progress::kOffsetsInTransaction);
  LoopOptions options;
  options.transaction = transaction->get();
  options.batch_max_records = 1000;
  options.batch_max_delay = absl::Seconds(1);
  auto running = Run(handler, "transactional", options);
  EXPECT_TRUE(
      WaitUntil([&] { return harness_->Committed("transactional") == 6; },
                absl::Seconds(30)))
      << harness_->Committed("transactional");
  EXPECT_TRUE(running->Stop().ok());
  EXPECT_EQ((*transaction)->aborted(), 1);
  EXPECT_GE((*transaction)->committed(), 1);
  // What the aborted transaction held was handled again after the rewind.
  EXPECT_GT(handler.handled().size(), 6u);
}

}  // namespace
}  // namespace kitchen::service
