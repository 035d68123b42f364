// File: waiter/order_sender_test.cc
//
// The order sender against a real Kafka protocol peer (an in-process dev
// broker): every order placed gets exactly one answer, carrying the order as
// sent, whether the broker acknowledges it or Finish() gives up on it.

#include "waiter/order_sender.h"

#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "orders/order_record.h"
#include "proto/order.pb.h"

namespace kitchen::waiter {
namespace {

struct Answer {
  std::string order_id;
  std::string pizza;
  int32_t table;
  absl::Status status;
  int32_t partition;
  int64_t offset;
  std::string trace_id;
};

class OrderSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = devbroker::StartDevBroker({{orders::kOrderTopic, 6}});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  // A sender that reports into answers_. Brokers that come back up are found
  // again only after librdkafka's reconnect backoff (up to seconds): a long
  // delivery timeout keeps that from failing an order.
  void StartSender() {
    auto sender = OrderSender::Create(
        {broker_->bootstrap_servers(), {}}, orders::kOrderTopic,
        absl::Seconds(30), [this](const PlacedOrder& placed) {
          absl::StatusOr<kitchen::v1::Order> order =
              orders::DecodeOrder(placed.value);
          ASSERT_TRUE(order.ok()) << order.status();
          answers_.push_back({order->order_id(), order->pizza(), order->table(),
                              placed.status, placed.partition, placed.offset,
                              std::string(placed.trace_id())});
        });
    ASSERT_TRUE(sender.ok()) << sender.status();
    sender_ = *std::move(sender);
  }

  std::unique_ptr<devbroker::MockCluster> broker_;
  std::unique_ptr<OrderSender> sender_;
  std::vector<Answer> answers_;
};

TEST_F(OrderSenderTest, EveryOrderIsAnsweredOnceWithItsOwnFields) {
  StartSender();
  const std::vector<std::string> pizzas = {"margherita", "prosciutto e funghi",
                                           "marinara"};
  constexpr int kOrders = 3000;
  for (int i = 0; i < kOrders; ++i) {
    ASSERT_TRUE(sender_->Place(pizzas[i % 3], 1 + i % 100).ok());
    if (i % 100 == 0) sender_->Poll(0);  // Some answers while placing.
  }
  EXPECT_EQ(sender_->Finish(absl::Seconds(20)), 0);
  EXPECT_EQ(sender_->pending(), 0);

  ASSERT_EQ(answers_.size(), static_cast<size_t>(kOrders));
  std::map<std::string, int> answers_per_id;
  std::set<std::string> trace_ids;  // A trace of its own per order.
  std::map<int32_t, int32_t> partition_of_table;
  std::map<int32_t, int64_t> last_offset_of_table;
  std::map<int32_t, int> answers_of_table;
  // Answers of one partition come in the order placed, and a table's orders
  // share a partition: a table's answers come in the order placed, at
  // increasing offsets.
  for (const Answer& answer : answers_) {
    ASSERT_TRUE(answer.status.ok()) << answer.status;
    ++answers_per_id[answer.order_id];
    EXPECT_EQ(answer.trace_id.size(), 32u) << answer.trace_id;
    trace_ids.insert(answer.trace_id);
    EXPECT_EQ(answer.order_id.size(), 36u);
    ASSERT_GE(answer.table, 1);
    ASSERT_LE(answer.table, 100);
    // Order i went to table 1 + i % 100 with pizza i % 3, so the k-th order
    // of table t was order t - 1 + 100 k.
    int placed = answer.table - 1 + 100 * answers_of_table[answer.table]++;
    EXPECT_EQ(answer.pizza, pizzas[placed % 3]) << "order " << placed;
    auto [partition, first] =
        partition_of_table.emplace(answer.table, answer.partition);
    EXPECT_EQ(partition->second, answer.partition);
    auto [last, new_table] =
        last_offset_of_table.emplace(answer.table, answer.offset);
    if (!new_table) {
      EXPECT_GT(answer.offset, last->second) << "table " << answer.table;
      last->second = answer.offset;
    }
  }
  EXPECT_EQ(answers_per_id.size(), static_cast<size_t>(kOrders));
  EXPECT_EQ(trace_ids.size(), static_cast<size_t>(kOrders));
}

TEST_F(OrderSenderTest, FinishReportsWhatTheBrokerDidNotAnswerAndOnlyOnce) {
  StartSender();
  for (int32_t id = 1; id <= 3; ++id) {
    rd_kafka_mock_broker_set_down(broker_->cluster(), id);
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(sender_->Place("margherita", 17 + i).ok());
  }
  EXPECT_EQ(sender_->Finish(absl::Milliseconds(200)), 0);
  EXPECT_EQ(sender_->pending(), 0);
  ASSERT_EQ(answers_.size(), 10u);
  std::set<int32_t> tables;
  for (const Answer& answer : answers_) {
    EXPECT_EQ(answer.status.code(), absl::StatusCode::kDeadlineExceeded)
        << answer.status;
    EXPECT_EQ(answer.status.message(), "not acknowledged within 200ms");
    EXPECT_EQ(answer.pizza, "margherita");
    EXPECT_EQ(answer.offset, -1);
    EXPECT_EQ(answer.trace_id.size(), 32u);  // Named in the failure too.
    tables.insert(answer.table);
  }
  EXPECT_EQ(tables.size(), 10u);
  EXPECT_EQ(*tables.begin(), 17);
  EXPECT_EQ(*tables.rbegin(), 26);
  // Taken back, they are not answered for twice.
  absl::Time until = absl::Now() + absl::Milliseconds(1500);
  while (absl::Now() < until) sender_->Poll(100);
  EXPECT_EQ(answers_.size(), 10u);

  // An order placed after that is answered as usual.
  for (int32_t id = 1; id <= 3; ++id) {
    rd_kafka_mock_broker_set_up(broker_->cluster(), id);
  }
  ASSERT_TRUE(sender_->Place("marinara", 5).ok());
  EXPECT_EQ(sender_->Finish(absl::Seconds(30)), 0);
  ASSERT_EQ(answers_.size(), 11u);
  EXPECT_TRUE(answers_.back().status.ok()) << answers_.back().status;
  EXPECT_EQ(answers_.back().pizza, "marinara");
}

}  // namespace
}  // namespace kitchen::waiter
