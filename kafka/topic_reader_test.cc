// File: kafka/topic_reader_test.cc
//
// The topic reader against an in-process dev broker: from the end it reads
// only what was produced after Create() returned, and nothing before; from the
// earliest it reads everything; CaughtUp() holds once what the topic held is
// read, and not before. (Isolation levels differ only on real Kafka, where
// tests/order_events_test.cc reads with both.)

#include "kafka/topic_reader.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/producer.h"

namespace kitchen::kafka {
namespace {

class TopicReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = devbroker::StartDevBroker({{"events-test", 3}});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    config_ = {broker_->bootstrap_servers(), {}};
  }

  // Produces `values` (keys "1", "2", ... spread them over the partitions)
  // and waits until each is acknowledged.
  void Produce(const std::vector<std::string>& values) {
    auto conf = BuildConf(config_, {});
    ASSERT_TRUE(conf.ok()) << conf.status();
    int failed = 0;
    auto producer = Producer::Create(*std::move(conf), [&](const Delivery& d) {
      if (!d.status.ok()) ++failed;
    });
    ASSERT_TRUE(producer.ok()) << producer.status();
    int key = 0;
    for (const std::string& value : values) {
      std::string table = absl::StrCat(++key);
      ASSERT_TRUE(
          (*producer)->Send({"events-test", table, value, nullptr}, 0).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
    ASSERT_EQ(failed, 0);
  }

  // What `reader` returns until it has caught up with the topic as it is now.
  std::set<std::string> ReadToEnd(TopicReader& reader) {
    std::set<std::string> values;
    absl::StatusOr<TopicReader::Offsets> ends = reader.EndOffsets();
    EXPECT_TRUE(ends.ok()) << ends.status();
    if (!ends.ok()) return values;
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!reader.CaughtUp(*ends) && absl::Now() < deadline) {
      auto polled = reader.Poll(100);
      EXPECT_TRUE(polled.ok()) << polled.status();
      if (polled.ok() && polled->has_value()) {
        values.insert(std::string((*polled)->value()));
      }
    }
    EXPECT_TRUE(reader.CaughtUp(*ends));
    return values;
  }

  std::unique_ptr<devbroker::MockCluster> broker_;
  ClientConfig config_;
};

TEST_F(TopicReaderTest, FromTheEndReadsOnlyWhatCameAfterCreate) {
  Produce({"before-1", "before-2", "before-3"});
  auto reader =
      TopicReader::Create(config_, "events-test", TopicReader::Start::kEnd,
                          Isolation::kReadCommitted);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->partitions(), 3);
  // Nothing new yet: caught up at once, having read nothing.
  EXPECT_EQ(ReadToEnd(**reader), std::set<std::string>{});
  // Produced right after Create() returned: none is missed.
  Produce({"after-1", "after-2", "after-3", "after-4"});
  EXPECT_EQ(ReadToEnd(**reader), (std::set<std::string>{"after-1", "after-2",
                                                        "after-3", "after-4"}));
}

TEST_F(TopicReaderTest, FromTheEarliestReadsEverything) {
  Produce({"a", "b", "c", "d", "e"});
  auto reader =
      TopicReader::Create(config_, "events-test", TopicReader::Start::kEarliest,
                          Isolation::kReadUncommitted);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<TopicReader::Offsets> ends = (*reader)->EndOffsets();
  ASSERT_TRUE(ends.ok()) << ends.status();
  EXPECT_FALSE((*reader)->CaughtUp(*ends)) << "nothing read yet";
  EXPECT_EQ(ReadToEnd(**reader),
            (std::set<std::string>{"a", "b", "c", "d", "e"}));
}

}  // namespace
}  // namespace kitchen::kafka
