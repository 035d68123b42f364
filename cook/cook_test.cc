// File: cook/cook_test.cc
//
// The cook against an in-process dev broker (real producers and consumer):
// what it logs and publishes on order-status for one order (COOKING at once,
// READY in the transaction, ABANDONED when stopped), and in the consumer loop
// with its offsets in transactions: every order cooked and READY, the group's
// offsets moving (committed plainly after each transaction on the dev
// broker), and a cook of the same group later cooking exactly what it missed.

#include "cook/cook.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "orders/order_event.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"
#include "service/handler.h"
#include "service/loop_harness.h"
#include "service/transaction.h"

namespace kitchen::cook {
namespace {

using kitchen::v1::OrderEvent;
using service::LoopHarness;
using service::WaitUntil;

kitchen::v1::Order Margherita(absl::Time placed) {
  kitchen::v1::Order order = orders::NewOrder("margherita", 17, placed);
  order.set_order_id("3f2a");
  return order;
}

class CookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto harness = LoopHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    auto transaction = service::TransactionalProducer::Create(
        harness_->config(), {"cook-cook-1"});
    ASSERT_TRUE(transaction.ok()) << transaction.status();
    transaction_ = *std::move(transaction);
  }

  std::unique_ptr<Cook> MakeCook(absl::Duration prep_time) {
    CookOptions options;
    options.prep_time = prep_time;
    options.cook_id = "cook-1";
    auto cook = Cook::Create(options, harness_->config(), transaction_.get());
    EXPECT_TRUE(cook.ok()) << cook.status();
    return cook.ok() ? *std::move(cook) : nullptr;
  }

  std::vector<OrderEvent> Events(size_t count) {
    std::vector<OrderEvent> events;
    for (const service::ReadRecord& record :
         harness_->ReadTopic(orders::kStatusTopic, count, absl::Seconds(20))) {
      absl::StatusOr<OrderEvent> event = orders::DecodeEvent(record.value);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) events.push_back(*event);
    }
    return events;
  }

  std::unique_ptr<LoopHarness> harness_;
  std::unique_ptr<service::TransactionalProducer> transaction_;
};

TEST_F(CookTest, CookingIsPublishedAtOnceAndReadyInTheTransaction) {
  std::unique_ptr<Cook> cook = MakeCook(absl::ZeroDuration());
  ASSERT_NE(cook, nullptr);
  EXPECT_EQ(cook->progress(), service::Progress::kOffsetsInTransaction);
  absl::Notification stop;
  // The cook's span of the order's trace, as the loop gives it.
  const orders::TraceContext trace = orders::TraceContext::Continue(
      std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  ::testing::internal::CaptureStderr();
  absl::Status cooked = cook->Handle(Margherita(absl::Now() - absl::Seconds(3)),
                                     {"pizza-order", 2, 12, &trace}, stop);
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(cooked.ok()) << cooked;
  EXPECT_TRUE(absl::StrContains(
      log,
      "cooking margherita for table 17 (order 3f2a, pizza-order/2@12, trace "
      "4bf92f3577b34da6a3ce929d0e0e4736, placed 3."))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log,
      "ready: margherita for table 17 (order 3f2a, pizza-order/2@12, trace "
      "4bf92f3577b34da6a3ce929d0e0e4736)\n"))
      << log;
  // READY waits in the open transaction; the loop commits it.
  EXPECT_TRUE(transaction_->open());
  ASSERT_TRUE(cook->Flush().ok());
  absl::StatusOr<service::TransactionOutcome> outcome =
      transaction_->Commit({}, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status();

  // Each event carries the cook's span of the trace.
  std::vector<service::ReadRecord> records =
      harness_->ReadTopic(orders::kStatusTopic, 2, absl::Seconds(20));
  ASSERT_EQ(records.size(), 2u);
  for (const service::ReadRecord& record : records) {
    EXPECT_EQ(record.header(orders::kTraceparentHeader), trace.header());
  }
  std::vector<OrderEvent> events = Events(2);
  ASSERT_EQ(events.size(), 2u);
  std::map<int, OrderEvent> by_state;
  for (const OrderEvent& event : events) by_state[event.state()] = event;
  ASSERT_EQ(by_state.count(OrderEvent::COOKING), 1u);
  ASSERT_EQ(by_state.count(OrderEvent::READY), 1u);
  const OrderEvent& ready = by_state[OrderEvent::READY];
  EXPECT_EQ(ready.order_id(), "3f2a");
  EXPECT_EQ(ready.table(), 17);
  EXPECT_EQ(ready.pizza(), "margherita");
  EXPECT_EQ(ready.cook(), "cook-1");
  EXPECT_EQ(ready.order_partition(), 2);
  EXPECT_EQ(ready.order_offset(), 12);
  EXPECT_TRUE(orders::EventPlacedAt(ready).has_value());
  EXPECT_EQ(cook->Summary(), "1 cooked, 1 transactions committed, 0 aborted");
}

TEST_F(CookTest, AStopAbandonsTheOrderOnTheStoveAndSaysSo) {
  std::unique_ptr<Cook> cook = MakeCook(absl::Seconds(60));
  ASSERT_NE(cook, nullptr);
  absl::Notification stop;
  stop.Notify();
  absl::Time start = absl::Now();
  absl::Status cooked =
      cook->Handle(Margherita(start), {"pizza-order", 1, 7}, stop);
  EXPECT_TRUE(absl::IsCancelled(cooked)) << cooked;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(cook->cooked(), 0);
  EXPECT_FALSE(transaction_->open());  // No READY.
  std::vector<OrderEvent> events = Events(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].state(), OrderEvent::COOKING);
  EXPECT_EQ(events[1].state(), OrderEvent::ABANDONED);
}

TEST_F(CookTest, InTheLoopEveryOrderIsReadyAndAStoppedCookCatchesUp) {
  ASSERT_EQ(harness_->PlaceOrders(12).size(), 12u);
  ASSERT_TRUE(harness_->ProduceRaw("5", "not an order").ok());
  service::LoopOptions options;
  options.transaction = transaction_.get();
  options.batch_max_records = 1000;
  options.batch_max_delay = absl::Milliseconds(100);

  std::unique_ptr<Cook> first = MakeCook(absl::ZeroDuration());
  ASSERT_NE(first, nullptr);
  auto running = harness_->Run(*first, "cook", options);
  ASSERT_TRUE(running.ok()) << running.status();
  // The dev broker keeps no offsets of a transaction: these are the plain
  // commits after each.
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("cook") == 13; },
                        absl::Seconds(30)))
      << harness_->Committed("cook");
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(first->cooked(), 12);
  EXPECT_EQ(harness_->DeadLetters(1, absl::Seconds(20)).size(), 1u);

  ASSERT_EQ(harness_->PlaceOrders(5).size(), 5u);
  std::unique_ptr<Cook> second = MakeCook(absl::ZeroDuration());
  ASSERT_NE(second, nullptr);
  running = harness_->Run(*second, "cook", options);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("cook") == 18; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(second->cooked(), 5);

  int ready = 0;
  for (const OrderEvent& event : Events(34)) {
    ready += event.state() == OrderEvent::READY;
  }
  EXPECT_EQ(ready, 17);
}

TEST_F(CookTest, SaysWhereItsOffsetIsNotInTheLog) {
  std::unique_ptr<Cook> cook = MakeCook(absl::ZeroDuration());
  ASSERT_NE(cook, nullptr);
  ::testing::internal::CaptureStderr();
  cook->OnLag({
      {"pizza-order", 0, 0, /*from=*/1000, /*low=*/0, /*high=*/20},
      {"pizza-order", 1, 5, /*from=*/3, /*low=*/10, /*high=*/15},
      {"pizza-order", 2, 4, /*from=*/6, /*low=*/0, /*high=*/10},  // Fine.
      {"pizza-order", 3, -1},                                     // Unknown.
  });
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(
      log, "pizza-order/0: committed offset 1000 is beyond the log's end (20)"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "cooked from its start (offset 0")) << log;
  EXPECT_TRUE(absl::StrContains(
      log,
      "pizza-order/1: offsets 3 to 9 (7 orders) were removed from the log "
      "(retention) before this group cooked them; going on from 10"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "pizza-order/2")) << log;
  EXPECT_FALSE(absl::StrContains(log, "pizza-order/3")) << log;
}

}  // namespace
}  // namespace kitchen::cook
