// File: kafka/client_test.cc
//
// The RAII producer and consumer against a real Kafka protocol peer: an
// in-process dev broker (librdkafka's mock cluster) on a port the system picks.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace kitchen::kafka {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = devbroker::StartDevBroker({{"orders-test", 3}});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  ClientConfig Config() { return {broker_->bootstrap_servers(), {}}; }

  std::unique_ptr<devbroker::MockCluster> broker_;
};

TEST_F(ClientTest, ProducerDestructorDeliversWhatWasQueued) {
  std::vector<Delivery> deliveries;
  {
    auto conf = BuildConf(Config(), {{"linger.ms", "50"}});
    ASSERT_TRUE(conf.ok()) << conf.status();
    auto producer = Producer::Create(
        *std::move(conf), [&](const Delivery& d) { deliveries.push_back(d); });
    ASSERT_TRUE(producer.ok()) << producer.status();
    Headers headers = {{"order-id", "abc"}};
    for (int i = 0; i < 5; ++i) {
      std::string value = absl::StrCat("order ", i);
      ASSERT_TRUE((*producer)
                      ->Send({"orders-test", "7", value, &headers},
                             static_cast<uint64_t>(i))
                      .ok());
    }
    // No Flush(): the destructor must not drop them.
  }
  ASSERT_EQ(deliveries.size(), 5u);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    EXPECT_TRUE(deliveries[i].status.ok()) << deliveries[i].status;
    EXPECT_EQ(deliveries[i].token, i);
    EXPECT_EQ(deliveries[i].partition, deliveries[0].partition)
        << "same key, same partition";
    EXPECT_EQ(deliveries[i].offset, static_cast<int64_t>(i));
  }
}

TEST_F(ClientTest, UnreachableBrokerFailsDeliveryWithinMessageTimeout) {
  ClientConfig config{"127.0.0.1:1", {{"message.timeout.ms", "500"}}};
  std::vector<Delivery> deliveries;
  auto conf = BuildConf(config, {});
  ASSERT_TRUE(conf.ok());
  auto producer = Producer::Create(
      *std::move(conf), [&](const Delivery& d) { deliveries.push_back(d); });
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Send({"orders-test", "1", "x", nullptr}, 42).ok());
  EXPECT_TRUE((*producer)->Flush(absl::Seconds(5)).ok());
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].status.code(), absl::StatusCode::kDeadlineExceeded)
      << deliveries[0].status;
  EXPECT_EQ(deliveries[0].token, 42u);
}

TEST_F(ClientTest, ConsumerReadsKeysValuesAndHeadersAndCommitsOnClose) {
  {
    auto conf = BuildConf(Config(), {});
    ASSERT_TRUE(conf.ok());
    auto producer = Producer::Create(*std::move(conf), nullptr);
    ASSERT_TRUE(producer.ok());
    Headers headers = {{"order-id", "id-1"}};
    for (int i = 0; i < 10; ++i) {
      std::string key = absl::StrCat(i % 3);
      std::string value = absl::StrCat("v", i);
      ASSERT_TRUE(
          (*producer)->Send({"orders-test", key, value, &headers}, 0).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
  }

  auto read_all = [&](int expected) {
    auto conf = BuildConf(Config(), ConsumerDefaults("client-test"));
    EXPECT_TRUE(conf.ok());
    auto consumer =
        Consumer::Create(*std::move(conf), {"orders-test"}, nullptr);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    std::map<std::string, int> values;
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (static_cast<int>(values.size()) < expected &&
           absl::Now() < deadline) {
      auto polled = (*consumer)->Poll(100);
      EXPECT_TRUE(polled.ok()) << polled.status();
      if (!polled.ok() || !*polled) continue;
      const Message& message = **polled;
      EXPECT_EQ(message.header("order-id"), "id-1");
      values[std::string(message.value())]++;
      EXPECT_TRUE((*consumer)->StoreOffset(message).ok());
    }
    EXPECT_TRUE((*consumer)->Close().ok());
    return values;
  };
  std::map<std::string, int> first = read_all(10);
  EXPECT_EQ(first.size(), 10u);
  for (const auto& [value, count] : first) EXPECT_EQ(count, 1) << value;

  // Everything was committed on close: a second member of the group, once
  // assigned every partition, is handed nothing of it, only what comes after.
  auto conf = BuildConf(Config(), ConsumerDefaults("client-test"));
  ASSERT_TRUE(conf.ok());
  auto again = Consumer::Create(*std::move(conf), {"orders-test"}, nullptr);
  ASSERT_TRUE(again.ok());
  std::vector<std::string> seen;
  // Polls until `done` (true) or for 30 s (false).
  auto poll_until = [&](const std::function<bool()>& done) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done() && absl::Now() < deadline) {
      auto polled = (*again)->Poll(100);
      if (!polled.ok()) {
        ADD_FAILURE() << polled.status();
        return false;
      }
      if (*polled) seen.emplace_back((**polled).value());
    }
    return done();
  };
  ASSERT_TRUE(poll_until([&] { return (*again)->Assignment().size() == 3; }))
      << "never assigned";

  {
    auto producer_conf = BuildConf(Config(), {});
    ASSERT_TRUE(producer_conf.ok());
    auto producer = Producer::Create(*std::move(producer_conf), nullptr);
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE(
        (*producer)->Send({"orders-test", "1", "after", nullptr}, 0).ok());
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
  }
  // Until the new record came and every partition was fetched to its end.
  ASSERT_TRUE(poll_until([&] {
    if (std::find(seen.begin(), seen.end(), "after") == seen.end()) {
      return false;
    }
    std::vector<PartitionLag> lags = (*again)->Lag();
    return lags.size() == 3 &&
           std::all_of(lags.begin(), lags.end(),
                       [](const PartitionLag& lag) { return lag.lag == 0; });
  }));
  EXPECT_EQ(seen, std::vector<std::string>{"after"});
  EXPECT_TRUE((*again)->Close().ok());
}

// librdkafka 2.0.2 stops fetching while the prefetch queue is over
// queued.min.messages and looks again only when a broker thread wakes (its
// timer: 1 s). A prefetch of 100 records and fetches of one 50-record batch
// a partition would make a 6,000-record catch-up take 20 s (measured: 300
// records a second); Poll() waking the fetchers when the queue runs low
// (Consumer::RefillPrefetch) keeps them going.
TEST_F(ClientTest, SmallPrefetchCatchesUpWithoutWaitingForTheFetchTimer) {
  constexpr int kRecords = 6000;
  {
    auto conf = BuildConf(Config(), {{"batch.num.messages", "50"}});
    ASSERT_TRUE(conf.ok()) << conf.status();
    auto producer = Producer::Create(*std::move(conf), nullptr);
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < kRecords; ++i) {
      std::string key = absl::StrCat(i % 30);
      ASSERT_TRUE((*producer)
                      ->Send({"orders-test", key, "a small value", nullptr}, 0)
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  }
  Properties defaults = ConsumerDefaults("prefetch-test");
  // Later defaults win: a prefetch of 100 records, one batch per partition
  // per fetch (a fetch always returns a partition's first batch), and a
  // short hold of the empty fetches of partitions read to their end.
  defaults.push_back({"queued.min.messages", "100"});
  defaults.push_back({"max.partition.fetch.bytes", "1"});
  defaults.push_back({"fetch.wait.max.ms", "10"});
  auto conf = BuildConf(Config(), defaults);
  ASSERT_TRUE(conf.ok()) << conf.status();
  auto consumer = Consumer::Create(*std::move(conf), {"orders-test"}, nullptr);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  int consumed = 0;
  absl::Time first = absl::InfinitePast();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (consumed < kRecords && absl::Now() < deadline) {
    auto polled = (*consumer)->Poll(100);
    ASSERT_TRUE(polled.ok()) << polled.status();
    if (!*polled) continue;
    if (consumed++ == 0) first = absl::Now();
  }
  ASSERT_EQ(consumed, kRecords);
  // From the first record to the last: no group join in it.
  EXPECT_LT(absl::Now() - first, absl::Seconds(8));
  EXPECT_TRUE((*consumer)->Close().ok());
}

}  // namespace
}  // namespace kitchen::kafka
