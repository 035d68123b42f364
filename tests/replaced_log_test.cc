// File: tests/replaced_log_test.cc
//
// A topic's log replaced under the services (#14 item 1): the dev broker
// restarted (it keeps everything in memory), or on real Kafka the topic deleted
// and created again. Offsets begin at 0 again, so a position kept from the old
// log points into the new one. The manager, which resumes from its ledger's
// positions, must stop and say so instead of taking the new log's orders for
// ones it recorded; the cook, which resumes from its group's committed offsets
// (gone with the old log), starts the new log from its beginning.

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// Deletes `topic` on a real cluster and waits for the answer.
absl::Status DeleteTopic(const std::string& bootstrap,
                         const std::string& topic) {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf({bootstrap, {}}, {});
  if (!conf.ok()) return conf.status();
  char error[512];
  kafka::HandlePtr client(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error)));
  if (client == nullptr) return absl::InternalError(error);
  (void)conf->release();
  rd_kafka_DeleteTopic_t* request = rd_kafka_DeleteTopic_new(topic.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client.get());
  rd_kafka_DeleteTopics(client.get(), &request, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 60000);
  absl::Status result = absl::OkStatus();
  if (event == nullptr) {
    result = absl::DeadlineExceededError("no answer to DeleteTopics");
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_DeleteTopics_result_topics(
            rd_kafka_event_DeleteTopics_result(event), &count);
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = absl::InternalError(rd_kafka_event_error_string(event));
    } else if (count == 1 && rd_kafka_topic_result_error(results[0]) !=
                                 RD_KAFKA_RESP_ERR_NO_ERROR) {
      result =
          absl::InternalError(rd_kafka_topic_result_error_string(results[0]));
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_DeleteTopic_destroy(request);
  return result;
}

class ReplacedLogTest : public BrokerTest {
 protected:
  // The case's order topic starts again from offset 0, empty: a new dev
  // broker on the same port, or the topic deleted and created again.
  void ReplaceLog() {
    if (broker() == BrokerKind::kDev) {
      std::vector<std::string> parts = absl::StrSplit(bootstrap(), ':');
      ASSERT_EQ(parts.size(), 2u) << bootstrap();
      TakeBrokerDown();
      auto restarted = DevBrokerProcess::Start({"--port=" + parts[1]});
      ASSERT_TRUE(restarted.ok()) << restarted.status();
      restarted_ = *std::move(restarted);
      return;
    }
    ASSERT_TRUE(DeleteTopic(bootstrap(), topic()).ok());
    // Deleting takes a moment; until then the name is taken.
    absl::Status created;
    ASSERT_TRUE(WaitUntil(
        [&] {
          created = CreateTopics(bootstrap(), {topic()}, 6, kafka().nodes(),
                                 absl::Seconds(20));
          return created.ok();
        },
        absl::Seconds(60)))
        << created;
    ASSERT_EQ(CountRecords(bootstrap(), topic()).value_or(-1), 0);
  }

  std::unique_ptr<Process> Start(const std::string& service,
                                 std::vector<std::string> flags) {
    flags.insert(flags.end(), {"-X", "session.timeout.ms=6000"});
    auto started = StartService(service, flags);
    EXPECT_TRUE(started.ok()) << started.status();
    return started.ok() ? *std::move(started) : nullptr;
  }

  size_t OrderLines(const std::string& ledger) {
    return LinesWith(ReadFile(ledger), "\"pizza\"").size();
  }

  std::unique_ptr<DevBrokerProcess> restarted_;  // dev: the new broker.
};

TEST_F(ReplacedLogTest, TheManagerStopsNamingThePartitionInsteadOfSkipping) {
  std::string ledger = TempPath("ledger.jsonl");
  auto manager = Start("manager", {"--ledger=" + ledger});
  PlaceOrders(60);
  ASSERT_TRUE(
      WaitUntil([&] { return OrderLines(ledger) >= 60; }, absl::Seconds(60)))
      << manager->Stderr();
  manager->Signal(SIGTERM);
  ASSERT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0);

  ReplaceLog();
  PlaceOrders(60);
  manager = Start("manager", {"--ledger=" + ledger});
  EXPECT_EQ(manager->Wait(absl::Seconds(60)).value_or(-1), 3)
      << manager->Stderr();
  std::string err = manager->Stderr();
  EXPECT_TRUE(absl::StrContains(err, absl::StrCat(topic(), "/"))) << err;
  EXPECT_TRUE(absl::StrContains(err, absl::StrCat("ledger ", ledger)) &&
              absl::StrContains(err, "the log is not the one"))
      << err;
  EXPECT_TRUE(absl::StrContains(err, "move it aside")) << err;
  EXPECT_EQ(OrderLines(ledger), 60u) << "none of the new log's orders";

  // Moved aside, the new log is recorded from its start: all 60 new orders.
  ASSERT_EQ(::rename(ledger.c_str(), (ledger + ".old").c_str()), 0);
  manager = Start("manager", {"--ledger=" + ledger});
  EXPECT_TRUE(
      WaitUntil([&] { return OrderLines(ledger) >= 60; }, absl::Seconds(60)))
      << manager->Stderr();
  manager->Signal(SIGTERM);
  EXPECT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0);
  EXPECT_EQ(OrderLines(ledger), 60u);
}

TEST_F(ReplacedLogTest, AManagerRunningWhenItsLogIsReplacedStops) {
  std::string ledger = TempPath("ledger.jsonl");
  auto manager = Start("manager", {"--ledger=" + ledger});
  PlaceOrders(60);
  ASSERT_TRUE(
      WaitUntil([&] { return OrderLines(ledger) >= 60; }, absl::Seconds(60)))
      << manager->Stderr();
  ReplaceLog();
  EXPECT_EQ(manager->Wait(absl::Seconds(60)).value_or(-1), 3)
      << manager->Stderr();
  EXPECT_TRUE(absl::StrContains(manager->Stderr(), "move it aside"))
      << manager->Stderr();
  EXPECT_EQ(OrderLines(ledger), 60u);
}

// The cook keeps no positions of its own: its group's committed offsets went
// with the old log, so it cooks the new log from the start.
TEST_F(ReplacedLogTest, TheCookCooksTheNewLogFromItsStart) {
  auto cook = Start("cook", {"--prep_time=0"});
  PlaceOrders(60);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return CountCommitted(bootstrap(), group("cook"), topic())
                   .value_or(-1) == 60;
      },
      absl::Seconds(60)))
      << cook->Stderr();
  cook->Signal(SIGTERM);
  ASSERT_EQ(cook->Wait(absl::Seconds(20)).value_or(-1), 0);

  ReplaceLog();
  PlaceOrders(60);
  cook = Start("cook", {"--prep_time=0"});
  EXPECT_TRUE(WaitUntil(
      [&] {
        return CountCommitted(bootstrap(), group("cook"), topic())
                   .value_or(-1) == 60;
      },
      absl::Seconds(60)))
      << cook->Stderr();
  cook->Signal(SIGTERM);
  EXPECT_EQ(cook->Wait(absl::Seconds(20)).value_or(-1), 0);
  EXPECT_EQ(LinesWith(cook->Stderr(), "ready: ").size(), 60u) << cook->Stderr();
}

}  // namespace
}  // namespace kitchen::testing
