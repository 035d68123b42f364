// File: cook/cook_test.cc
//
// The cook on plain inputs (what it logs, how long it takes, what a stop does
// to the order on the stove), and in the consumer loop against an in-process
// dev broker: every order cooked once, its offset kept only once cooked, and a
// cook of the same group later cooking exactly what it missed.

#include "cook/cook.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "orders/order_record.h"
#include "service/handler.h"
#include "service/loop_harness.h"

namespace kitchen::cook {
namespace {

using service::LoopHarness;
using service::WaitUntil;

kitchen::v1::Order Margherita(absl::Time placed) {
  kitchen::v1::Order order = orders::NewOrder("margherita", 17, placed);
  order.set_order_id("3f2a");
  return order;
}

TEST(CookTest, SaysWhereItsOffsetIsNotInTheLog) {
  Cook cook(absl::ZeroDuration());
  ::testing::internal::CaptureStderr();
  cook.OnLag({
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

TEST(CookTest, CooksAnOrderAndSaysWhereItCameFrom) {
  Cook cook(absl::ZeroDuration());
  absl::Notification stop;
  ::testing::internal::CaptureStderr();
  absl::Status cooked = cook.Handle(Margherita(absl::Now() - absl::Seconds(3)),
                                    {"pizza-order", 3, 12}, stop);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(cooked.ok()) << cooked;
  EXPECT_EQ(cook.cooked(), 1);
  EXPECT_EQ(cook.Summary(), "1 cooked");
  EXPECT_EQ(cook.progress(), service::Progress::kStoredOffsets);
  EXPECT_TRUE(absl::StrContains(
      log,
      "cooking margherita for table 17 (order 3f2a, pizza-order/3@12, placed "
      "3."))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log, "ready: margherita for table 17 (order 3f2a, pizza-order/3@12)\n"))
      << log;
}

TEST(CookTest, AnOrderWithoutIdOrTimeIsCookedAndSaidSo) {
  Cook cook(absl::ZeroDuration());
  absl::Notification stop;
  kitchen::v1::Order order;
  order.set_pizza("marinara");
  order.set_table(4);
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(cook.Handle(order, {"pizza-order", 0, 5}, stop).ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(
      log,
      "cooking marinara for table 4 (order (no id), pizza-order/0@5, placed "
      "at an unknown time)"))
      << log;
}

TEST(CookTest, TakesThePrepTime) {
  Cook cook(absl::Milliseconds(300));
  absl::Notification stop;
  absl::Time start = absl::Now();
  EXPECT_TRUE(cook.Handle(Margherita(start), {"pizza-order", 0, 0}, stop).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(cook.cooked(), 1);
}

TEST(CookTest, AStopAbandonsTheOrderOnTheStove) {
  Cook cook(absl::Seconds(60));
  absl::Notification stop;
  stop.Notify();
  absl::Time start = absl::Now();
  ::testing::internal::CaptureStderr();
  absl::Status cooked =
      cook.Handle(Margherita(start), {"pizza-order", 1, 7}, stop);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::IsCancelled(cooked)) << cooked;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(cook.cooked(), 0);
  EXPECT_TRUE(absl::StrContains(log, "abandoned margherita for table 17"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "ready:")) << log;
}

TEST(CookLoopTest, CooksEveryOrderOnceAndAStoppedCookCatchesUp) {
  auto harness = LoopHarness::Start();
  ASSERT_TRUE(harness.ok()) << harness.status();
  ASSERT_EQ((*harness)->PlaceOrders(12).size(), 12u);
  ASSERT_TRUE((*harness)->ProduceRaw("5", "not an order").ok());

  Cook first(absl::ZeroDuration());
  auto running = (*harness)->Run(first, "cook");
  ASSERT_TRUE(running.ok()) << running.status();
  // Every offset is kept once its order is cooked (or parked).
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("cook") == 13; },
                        absl::Seconds(30)))
      << (*harness)->Committed("cook");
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(first.cooked(), 12);
  EXPECT_EQ((*harness)->DeadLetters(1, absl::Seconds(20)).size(), 1u);

  // Orders placed while no cook runs: the next one cooks exactly those.
  ASSERT_EQ((*harness)->PlaceOrders(5).size(), 5u);
  Cook second(absl::ZeroDuration());
  running = (*harness)->Run(second, "cook");
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_TRUE(WaitUntil([&] { return (*harness)->Committed("cook") == 18; },
                        absl::Seconds(30)));
  EXPECT_TRUE((*running)->Stop().ok());
  EXPECT_EQ(second.cooked(), 5);
}

}  // namespace
}  // namespace kitchen::cook
