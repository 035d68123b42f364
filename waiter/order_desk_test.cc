// File: waiter/order_desk_test.cc

#include "waiter/order_desk.h"

#include "gtest/gtest.h"

namespace kitchen::waiter {
namespace {

TEST(PercentileTest, PicksTheNearestRank) {
  std::vector<int64_t> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_EQ(Percentile(values, 0.5), 51);
  EXPECT_EQ(Percentile(values, 0.99), 99);
  EXPECT_EQ(Percentile(values, 1.0), 100);
  EXPECT_EQ(Percentile(values, 0.0), 1);
  std::vector<int64_t> empty;
  EXPECT_EQ(Percentile(empty, 0.99), 0);
}

TEST(FormatSummaryTest, SaysEveryCountRateAndLatency) {
  Tally tally;
  tally.started = absl::FromUnixSeconds(100);
  tally.finished = tally.started + absl::Seconds(2);
  tally.sent = 1000;
  tally.acknowledged = 998;
  tally.failed = 2;
  tally.skipped = 3;
  for (int i = 1; i <= 998; ++i) tally.latencies_us.push_back(i * 10);
  EXPECT_EQ(FormatSummary(tally),
            "1000 sent, 998 acknowledged, 2 failed, 3 skipped in 2.00 s: 499 "
            "orders/s; "
            "delivery latency p50 5.0 ms, p99 9.9 ms");
}

}  // namespace
}  // namespace kitchen::waiter
