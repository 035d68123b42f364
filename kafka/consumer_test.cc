// File: kafka/consumer_test.cc
//
// What the consumer refuses and what it will not leave unseen: a cooperative
// assignor (librdkafka 2.0.2's has bugs fixed only later), refused before
// anything connects, and a rebalance whose partitions librdkafka will not take,
// which fails Poll() instead of leaving a member that consumes nothing.

#include "kafka/consumer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/producer.h"

namespace kitchen::kafka {
namespace {

TEST(CheckAssignmentStrategyTest, RefusesCooperativeStickyWhereverItIsListed) {
  for (const char* strategy : {"cooperative-sticky", "range,cooperative-sticky",
                               "roundrobin, Cooperative-Sticky "}) {
    absl::Status refused = CheckAssignmentStrategy(strategy);
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << strategy;
    EXPECT_TRUE(absl::StrContains(refused.message(), "#4800")) << refused;
    EXPECT_TRUE(absl::StrContains(refused.message(), "rebalance eagerly"))
        << refused;
  }
  for (const char* strategy : {"range", "roundrobin", "range,roundrobin"}) {
    EXPECT_TRUE(CheckAssignmentStrategy(strategy).ok()) << strategy;
  }
}

TEST(CheckAssignmentStrategyTest, TheLastSettingOfAConfigurationCounts) {
  const Property cooperative{"partition.assignment.strategy",
                             "cooperative-sticky"};
  const Property range{"partition.assignment.strategy", "range"};
  EXPECT_TRUE(CheckAssignmentStrategy(ClientConfig{"b:9092", {}}).ok());
  EXPECT_FALSE(
      CheckAssignmentStrategy(ClientConfig{"b:9092", {range, cooperative}})
          .ok());
  // A properties file's value, overridden by -X.
  EXPECT_TRUE(
      CheckAssignmentStrategy(ClientConfig{"b:9092", {cooperative, range}})
          .ok());
}

TEST(ConsumerTest, ACooperativeAssignorIsRefusedBeforeConnecting) {
  auto conf =
      BuildConf({"127.0.0.1:1",
                 {{"partition.assignment.strategy", "cooperative-sticky"}}},
                ConsumerDefaults("cooperative"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto consumer = Consumer::Create(*std::move(conf), {"orders-test"}, nullptr);
  EXPECT_EQ(consumer.status().code(), absl::StatusCode::kInvalidArgument)
      << consumer.status();
}

// Starts every partition it is given at an offset librdkafka refuses.
class BadStart : public RebalanceListener {
 public:
  void OnAssign(std::vector<TopicPartition>& partitions) override {
    for (TopicPartition& partition : partitions) partition.offset = -3;
  }
};

TEST(ConsumerTest, AnAssignmentLibrdkafkaRefusesFailsPoll) {
  auto broker = devbroker::StartDevBroker({{"orders-test", 2}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto conf = BuildConf({(*broker)->bootstrap_servers(), {}},
                        ConsumerDefaults("refused-assignment"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  BadStart listener;
  auto consumer =
      Consumer::Create(*std::move(conf), {"orders-test"}, &listener);
  ASSERT_TRUE(consumer.ok()) << consumer.status();

  absl::Status failed;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (failed.ok() && absl::Now() < deadline) {
    absl::StatusOr<absl::optional<Message>> polled = (*consumer)->Poll(100);
    if (!polled.ok()) failed = polled.status();
  }
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition) << failed;
  EXPECT_TRUE(absl::StrContains(failed.message(),
                                "cannot take the partitions assigned "
                                "(orders-test[0,1]): rd_kafka_assign"))
      << failed;
  EXPECT_FALSE((*consumer)->Poll(0).ok()) << "and it stays failed";
}

TEST(ConsumerTest, LogBoundsOfEveryPartitionInOneAsk) {
  auto broker = devbroker::StartDevBroker({{"bounds-test", 2}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const ClientConfig config{(*broker)->bootstrap_servers(), {}};
  {
    auto conf = BuildConf(config, {});
    ASSERT_TRUE(conf.ok()) << conf.status();
    auto producer = Producer::Create(*std::move(conf), nullptr);
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(
          (*producer)->Send({"bounds-test", "k", "v", nullptr}, 0).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
  }
  auto conf = BuildConf(config, ConsumerDefaults("bounds"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto consumer = Consumer::Create(*std::move(conf), {"bounds-test"}, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::vector<absl::StatusOr<Watermarks>> bounds = (*consumer)->QueryLogBounds(
      {{"bounds-test", 0}, {"bounds-test", 1}}, absl::Seconds(10));
  ASSERT_EQ(bounds.size(), 2u);
  ASSERT_TRUE(bounds[0].ok()) << bounds[0].status();
  ASSERT_TRUE(bounds[1].ok()) << bounds[1].status();
  EXPECT_EQ(bounds[0]->low, 0);
  EXPECT_EQ(bounds[1]->low, 0);
  EXPECT_EQ(bounds[0]->high + bounds[1]->high, 5);  // One key: one partition.
  EXPECT_TRUE(bounds[0]->high == 0 || bounds[1]->high == 0);
}

// A group the brokers' ACLs refuse (GROUP_AUTHORIZATION_FAILED, injected on
// the group's FindCoordinator): Poll fails, naming the ACLs, instead of a
// warning per retry forever (tests/secure_test sees it on a real Kafka).
TEST(ConsumerTest, AGroupTheBrokersRefuseFailsPoll) {
  constexpr int16_t kFindCoordinator = 10;  // Kafka's API key.
  auto broker = devbroker::StartDevBroker({{"orders-test", 2}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  rd_kafka_mock_push_request_errors(
      (*broker)->cluster(), kFindCoordinator, 1,
      RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
  auto conf = BuildConf({(*broker)->bootstrap_servers(), {}},
                        ConsumerDefaults("refused-group"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto consumer = Consumer::Create(*std::move(conf), {"orders-test"}, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();

  absl::Status failed;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (failed.ok() && absl::Now() < deadline) {
    absl::StatusOr<absl::optional<Message>> polled = (*consumer)->Poll(100);
    if (!polled.ok()) failed = polled.status();
  }
  EXPECT_EQ(failed.code(), absl::StatusCode::kPermissionDenied) << failed;
  EXPECT_TRUE(
      absl::StrContains(failed.message(), "the brokers' ACLs refuse this user"))
      << failed;
  EXPECT_TRUE(absl::StrContains(failed.message(), "GROUP_AUTHORIZATION_FAILED"))
      << failed;
}

}  // namespace
}  // namespace kitchen::kafka
