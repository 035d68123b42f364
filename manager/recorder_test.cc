// File: manager/recorder_test.cc
//
// The recorder on plain inputs (an order is in the ledger only once flushed,
// with its position; where each partition starts), and in the consumer loop
// against an in-process dev broker: every order in the ledger once, poison
// kept out, offsets following the ledger, and positions taken from the
// ledger, not from the group's committed offsets.

#include "manager/recorder.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "manager/ledger.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"
#include "service/handler.h"
#include "service/loop_harness.h"

namespace kitchen::manager {
namespace {

using service::LoopHarness;
using service::WaitUntil;

std::string TempPath(absl::string_view name) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  ::unlink(path.c_str());
  return path;
}

std::vector<std::string> LedgerLines(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
}

// The lines of the ledger that are orders (not dead-lettered positions).
std::vector<std::string> OrderLines(const std::string& path) {
  std::vector<std::string> orders;
  for (const std::string& line : LedgerLines(path)) {
    if (!absl::StrContains(line, "\"dead_lettered\"")) orders.push_back(line);
  }
  return orders;
}

TEST(RecorderTest, AnOrderIsInTheLedgerOnlyOnceFlushedWithItsPosition) {
  std::string path = TempPath("plain.jsonl");
  auto recorder = Recorder::Open(path);
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  EXPECT_EQ((*recorder)->progress(), service::Progress::kOwnPositions);
  absl::Notification stop;
  kitchen::v1::Order order = orders::NewOrder("diavola", 12, absl::Now());
  ASSERT_TRUE((*recorder)->Handle(order, {"pizza-order", 2, 40}, stop).ok());
  const orders::TraceContext trace = orders::TraceContext::New();
  ASSERT_TRUE(
      (*recorder)->Handle(order, {"pizza-order", 2, 41, &trace}, stop).ok());
  ASSERT_TRUE((*recorder)->Handle(order, {"pizza-order", 0, 7}, stop).ok());
  EXPECT_TRUE(LedgerLines(path).empty()) << "not before the flush";
  EXPECT_EQ((*recorder)->recorded(), 0);
  EXPECT_EQ((*recorder)->NextOffset("pizza-order", 2), absl::nullopt);

  ASSERT_TRUE((*recorder)->Flush().ok());
  std::vector<std::string> lines = LedgerLines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(absl::StrContains(lines[0], "\"pizza\":\"diavola\",\"table\":12"))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(
      lines[1], "\"topic\":\"pizza-order\",\"partition\":2,\"offset\":41"))
      << lines[1];
  EXPECT_TRUE(absl::StrContains(
      lines[1], absl::StrCat("\"trace_id\":\"", trace.trace_id(), "\"}")))
      << lines[1];
  EXPECT_FALSE(absl::StrContains(lines[0], "trace_id")) << "none given";
  EXPECT_EQ((*recorder)->recorded(), 3);
  EXPECT_EQ((*recorder)->Summary(), "3 orders recorded");
  EXPECT_EQ((*recorder)->NextOffset("pizza-order", 2), 42);
  EXPECT_EQ((*recorder)->NextOffset("pizza-order", 0), 8);
  EXPECT_EQ((*recorder)->NextOffset("pizza-order", 1), absl::nullopt);
  ASSERT_TRUE((*recorder)->Flush().ok());
  EXPECT_EQ(LedgerLines(path).size(), 3u) << "an empty flush writes nothing";

  // A new recorder on the same ledger goes on from its positions.
  recorder->reset();
  auto reopened = Recorder::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->NextOffset("pizza-order", 2), 42);
}

TEST(RecorderTest, SaysWhereEachPartitionStarts) {
  auto recorder = Recorder::Open(TempPath("positions.jsonl"));
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  ::testing::internal::CaptureStderr();
  (*recorder)->OnAssigned(
      {{"pizza-order", 0, kafka::kEarliestOffset}, {"pizza-order", 1, 7}});
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(log,
                                "reading from the ledger's positions: "
                                "pizza-order/0@earliest pizza-order/1@7\n"))
      << log;
}

TEST(RecorderTest, ASecondRecorderOnTheLedgerIsRefused) {
  std::string path = TempPath("locked.jsonl");
  auto first = Recorder::Open(path);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::Status second = Recorder::Open(path).status();
  EXPECT_TRUE(absl::StrContains(second.message(), "in use by another manager"))
      << second;
}

// The ledger's positions as "partition@offset", each line's.
std::multiset<std::string> Positions(const std::vector<std::string>& lines) {
  std::multiset<std::string> positions;
  for (const std::string& line : lines) {
    size_t at = line.find("\"partition\":");
    positions.insert(line.substr(at, line.find(",\"recorded_at\"") - at));
  }
  return positions;
}

std::multiset<std::string> Positions(
    const std::vector<service::PlacedOrder>& placed) {
  std::multiset<std::string> positions;
  for (const service::PlacedOrder& p : placed) {
    positions.insert(absl::StrCat("\"partition\":", p.at.partition,
                                  ",\"offset\":", p.at.offset));
  }
  return positions;
}

TEST(RecorderLoopTest, EveryOrderOnceWithPositionsFromTheLedgerNotKafka) {
  auto harness = LoopHarness::Start();
  ASSERT_TRUE(harness.ok()) << harness.status();
  std::vector<service::PlacedOrder> placed = (*harness)->PlaceOrders(20);
  ASSERT_EQ(placed.size(), 20u);
  ASSERT_TRUE((*harness)->ProduceRaw("3", "garbage").ok());
  service::LoopOptions options;  // The manager's group commit.
  options.batch_max_records = 10000;
  options.batch_max_delay = absl::Milliseconds(100);

  std::string path = TempPath("loop.jsonl");
  auto recorder = Recorder::Open(path);
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  auto running = (*harness)->Run(**recorder, "manager", options);
  ASSERT_TRUE(running.ok()) << running.status();
  // The offsets follow the ledger: all 21 records kept, the poison record
  // parked and never in the ledger.
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("manager") == 21; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ((*recorder)->recorded(), 20);
  EXPECT_EQ(Positions(OrderLines(path)), Positions(placed));
  EXPECT_FALSE(
      absl::StrContains(absl::StrJoin(LedgerLines(path), "\n"), "garbage"));
  EXPECT_EQ((*harness)->DeadLetters(1, absl::Seconds(20)).size(), 1u);
  recorder->reset();  // Unlocks the ledger.

  // Kafka says the group is done; an empty ledger says otherwise, and wins.
  std::string rebuilt = TempPath("rebuilt.jsonl");
  auto empty = Recorder::Open(rebuilt);
  ASSERT_TRUE(empty.ok()) << empty.status();
  running = (*harness)->Run(**empty, "manager", options);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(WaitUntil([&] { return OrderLines(rebuilt).size() >= 20; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(Positions(OrderLines(rebuilt)), Positions(placed));
  empty->reset();

  // And a full ledger: only what came since.
  std::vector<service::PlacedOrder> later = (*harness)->PlaceOrders(5);
  ASSERT_EQ(later.size(), 5u);
  auto again = Recorder::Open(rebuilt);
  ASSERT_TRUE(again.ok()) << again.status();
  running = (*harness)->Run(**again, "manager", options);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("manager") == 26; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ((*again)->recorded(), 5);
  placed.insert(placed.end(), later.begin(), later.end());
  EXPECT_EQ(Positions(OrderLines(rebuilt)), Positions(placed));
}

TEST(RecorderLoopTest, APoisonRecordIsParkedOnceThroughARebalance) {
  auto harness = LoopHarness::Start();
  ASSERT_TRUE(harness.ok()) << harness.status();
  ASSERT_EQ((*harness)->PlaceOrders(6).size(), 6u);
  // The last record of its partition: no order after it tells the ledger it
  // was passed.
  absl::StatusOr<service::Position> poison =
      (*harness)->ProduceRaw("3", "garbage");
  ASSERT_TRUE(poison.ok()) << poison.status();
  std::string path = TempPath("parked.jsonl");
  auto recorder = Recorder::Open(path);
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  auto running = (*harness)->Run(**recorder, "manager");
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("manager") == 7; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(OrderLines(path).size(), 6u);
  EXPECT_EQ((*recorder)->NextOffset("pizza-order", poison->partition),
            poison->offset + 1);

  // A new member of the group (what every rebalance and restart makes): the
  // partition goes on after the poison record, so only the next one is parked.
  running = (*harness)->Run(**recorder, "manager");
  ASSERT_TRUE(running.ok()) << running.status();
  ASSERT_TRUE((*harness)->ProduceRaw("3", "next").ok());
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("manager") == 8; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  std::vector<service::ReadRecord> parked =
      (*harness)->DeadLetters(3, absl::Seconds(3));
  ASSERT_EQ(parked.size(), 2u);
  EXPECT_EQ(parked[0].value, "garbage");
  EXPECT_EQ(parked[1].value, "next");
  EXPECT_EQ(OrderLines(path).size(), 6u) << "dead letters are not orders";
  EXPECT_EQ((*recorder)->Summary(), "6 orders recorded");
  recorder->reset();
  // And the ledger says so across a restart.
  auto reopened = Recorder::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->NextOffset("pizza-order", poison->partition),
            poison->offset + 2);
}

}  // namespace
}  // namespace kitchen::manager
