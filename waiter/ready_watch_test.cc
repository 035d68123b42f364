// File: waiter/ready_watch_test.cc
//
// The ready watch against an in-process dev broker, with READY events
// produced as a cook publishes them: each expected order is matched by its
// position and said once; a READY read before its order was expected (the
// acknowledgement still to be served) is claimed when it is; other orders'
// events and other states are not ready; an order with no READY is not ready
// once the wait is over, and so is one whose offset the broker did not say.

#include "waiter/ready_watch.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "orders/order_event.h"
#include "orders/order_record.h"

namespace kitchen::waiter {
namespace {

using kitchen::v1::OrderEvent;

class ReadyWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = devbroker::StartDevBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    config_ = {broker_->bootstrap_servers(), {}};
    out_ = open_memstream(&text_, &size_);
    ASSERT_NE(out_, nullptr);
  }
  void TearDown() override {
    if (out_ != nullptr) std::fclose(out_);
    std::free(text_);
  }

  // What the watch printed so far.
  std::string Printed() {
    std::fflush(out_);
    return std::string(text_, size_);
  }

  // Publishes `state` of the order at `partition`/`offset` as cook `cook`.
  void Publish(int32_t partition, int64_t offset, OrderEvent::State state,
               const std::string& cook = "cook-7") {
    auto conf = kafka::BuildConf(config_, {});
    ASSERT_TRUE(conf.ok()) << conf.status();
    auto producer = kafka::Producer::Create(*std::move(conf), nullptr);
    ASSERT_TRUE(producer.ok()) << producer.status();
    orders::EncodedEvent record = orders::EncodeEvent(
        orders::NewEvent(orders::NewOrder("diavola", 12, absl::Now()),
                         partition, offset, state, cook, absl::Now()));
    ASSERT_TRUE(
        (*producer)
            ->Send({"order-status", record.key, record.value, &record.headers},
                   0)
            .ok());
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
  }

  std::unique_ptr<devbroker::MockCluster> broker_;
  kafka::ClientConfig config_;
  char* text_ = nullptr;
  size_t size_ = 0;
  FILE* out_ = nullptr;
};

TEST_F(ReadyWatchTest, EachExpectedOrderIsReadyOnceByItsPosition) {
  auto watch = ReadyWatch::Open(config_, "order-status", out_);
  ASSERT_TRUE(watch.ok()) << watch.status();
  const absl::Time placed = absl::Now();
  (*watch)->Expect(2, 5, "diavola", 12, "id-a", placed);
  (*watch)->Expect(4, 0, "marinara", 3, "id-b", placed);
  // Not ready: another order's READY, this order's COOKING.
  Publish(2, 6, OrderEvent::READY);
  Publish(2, 5, OrderEvent::COOKING);
  Publish(4, 0, OrderEvent::READY, "cook-2");
  Publish(2, 5, OrderEvent::READY, "cook-1");
  absl::Notification stop;
  ASSERT_TRUE((*watch)->WaitForAll(absl::Seconds(20), stop).ok());
  const ReadyTally& tally = (*watch)->tally();
  EXPECT_EQ(tally.expected, 2);
  EXPECT_EQ(tally.ready, 2);
  EXPECT_EQ(tally.not_ready, 0);
  EXPECT_EQ(tally.latencies_us.size(), 2u);
  std::string printed = Printed();
  EXPECT_TRUE(absl::StrContains(
      printed, "ready: diavola for table 12 (order id-a) after "))
      << printed;
  EXPECT_TRUE(absl::StrContains(printed, " s, cooked by cook-1\n")) << printed;
  EXPECT_TRUE(absl::StrContains(
      printed, "ready: marinara for table 3 (order id-b) after "))
      << printed;
  EXPECT_TRUE(absl::StrContains(printed, " s, cooked by cook-2\n")) << printed;
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 2) << printed;
}

TEST_F(ReadyWatchTest, AReadyReadBeforeItsOrderWasExpectedIsClaimed) {
  auto watch = ReadyWatch::Open(config_, "order-status", out_);
  ASSERT_TRUE(watch.ok()) << watch.status();
  Publish(1, 9, OrderEvent::READY);
  // Read while the order's acknowledgement is still to be served.
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*watch)->unclaimed() == 0 && absl::Now() < deadline) {
    ASSERT_TRUE((*watch)->Poll(100).ok());
  }
  ASSERT_EQ((*watch)->unclaimed(), 1u);
  EXPECT_EQ((*watch)->tally().ready, 0);
  (*watch)->Expect(1, 9, "bufalina", 40, "id-c", absl::Now());
  EXPECT_EQ((*watch)->tally().ready, 1);
  absl::Notification stop;
  ASSERT_TRUE((*watch)->WaitForAll(absl::Seconds(1), stop).ok());
  EXPECT_EQ((*watch)->tally().not_ready, 0);
  EXPECT_TRUE(absl::StrContains(Printed(), "ready: bufalina for table 40"));
}

TEST_F(ReadyWatchTest, AnOrderWithoutReadyIsNotReadyOnceTheWaitIsOver) {
  auto watch = ReadyWatch::Open(config_, "order-status", out_);
  ASSERT_TRUE(watch.ok()) << watch.status();
  (*watch)->Expect(0, 0, "margherita", 17, "id-d", absl::Now());
  (*watch)->Expect(0, -1, "romana", 18, "id-e", absl::Now());  // Unknown.
  Publish(0, 0, OrderEvent::COOKING);
  absl::Notification stop;
  const absl::Time start = absl::Now();
  ASSERT_TRUE((*watch)->WaitForAll(absl::Seconds(2), stop).ok());
  EXPECT_GE(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ((*watch)->tally().expected, 2);
  EXPECT_EQ((*watch)->tally().ready, 0);
  EXPECT_EQ((*watch)->tally().not_ready, 2);
  EXPECT_EQ(Printed(), "");
  EXPECT_EQ(FormatReadySummary((*watch)->tally(), absl::Seconds(2)),
            "0 of 2 ready, 2 not ready within 2s");
}

TEST(FormatReadySummaryTest, SaysTheCountsAndThePercentiles) {
  ReadyTally tally;
  tally.expected = 100;
  tally.ready = 100;
  for (int i = 1; i <= 100; ++i) tally.latencies_us.push_back(i * 100000);
  EXPECT_EQ(FormatReadySummary(tally, absl::Minutes(1)),
            "100 of 100 ready, 0 not ready within 1m; placed -> ready p50 "
            "5.10 s, p99 9.90 s");
}

}  // namespace
}  // namespace kitchen::waiter
