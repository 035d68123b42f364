// File: tests/kafka_cluster_test.cc
//
// What only a real three-node Kafka cluster can show (replication 3,
// min.insync.replicas 2), so this test runs on real Kafka only:
//  - a partition leader killed with SIGKILL while the waiter places a stream of
//    orders, then restarted: every order is acknowledged, and every one is on
//    the topic, READY exactly once for a read_committed reader of the order
//    events, and in the ledger exactly once;
//  - Kafka's own tools agree with the kitchen: kafka-console-consumer reads the
//    waiter's keys and headers; kafka-consumer-groups shows the backlog of a
//    stopped cook that the cook itself says when it starts again; a record
//    from Kafka's console producer (a foreign producer) is dead-lettered as
//    the wire contract says.

#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "kafka/topic_reader.h"
#include "proto/order_event.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// The last lines of a log, for a failure's message.
std::string Tail(const std::string& log, size_t lines = 30) {
  size_t at = log.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) {
    at = log.rfind('\n', at - 1);
  }
  return at == std::string::npos ? log : log.substr(at + 1);
}

class KafkaClusterTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(broker(), BrokerKind::kKafka) << "a real-Kafka-only test";
    ASSERT_EQ(kafka().nodes(), 3);
    events_ = ReadEvents(kafka::Isolation::kReadCommitted);
    ASSERT_NE(events_, nullptr);
  }

  // Reads the order events until `orders` orders have a READY.
  bool WaitForReady(size_t orders, absl::Duration timeout) {
    return events_->WaitFor(
        [&](const std::vector<StatusEvent>& events) {
          return CountByOrder(events, kitchen::v1::OrderEvent::READY).size() >=
                 orders;
        },
        timeout);
  }

  std::unique_ptr<EventReader> events_;

  // Runs one of Kafka's own tools (tools/kafka tool NAME ARGS).
  RunResult Tool(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {Binary("tools/kafka"), "tool"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunToEnd(argv, absl::Seconds(90), input);
  }

  // {partition: orders placed there} from the waiter's lines
  // "order ID: PIZZA for table T -> TOPIC partition P offset O".
  static std::map<int, int> PerPartition(const std::string& waiter_out) {
    std::map<int, int> placed;
    for (absl::string_view line : absl::StrSplit(waiter_out, '\n')) {
      size_t at = line.find(" partition ");
      if (at == line.npos) continue;
      absl::string_view rest = line.substr(at + strlen(" partition "));
      int partition = -1;
      if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &partition)) {
        ++placed[partition];
      }
    }
    return placed;
  }
};

TEST_F(KafkaClusterTest, AKilledLeaderLosesNoAcknowledgedOrder) {
  constexpr int kOrders = 3000;
  std::string ledger = TempPath("leader-kill-ledger.jsonl");
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + ledger});
  ASSERT_TRUE(manager.ok()) << manager.status();

  // A stream of orders, with a delivery timeout far longer than a failover
  // (the killed broker's session, 9 s, then a new leader).
  auto waiter = Process::Start(
      "waiter",
      ServiceCommand("waiter", {absl::StrCat("--count=", kOrders), "--rate=250",
                                "--delivery_timeout=90s"}));
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  // Progress is read from the ledger, not from the broker: librdkafka 2.0.2's
  // rd_kafka_query_watermark_offsets can wait far past its timeout while a
  // partition's leader is the node just killed.
  auto recorded = [&] {
    return LinesWith(ReadFile(ledger), "\"order_id\"").size();
  };
  ASSERT_TRUE(WaitUntil([&] { return recorded() >= 500; }, absl::Seconds(60)))
      << (*manager)->Stderr();

  // Kill the leader of partition 0, which the stream is writing to.
  absl::StatusOr<std::string> leader = kafka().Query({"leader", topic(), "0"});
  ASSERT_TRUE(leader.ok()) << leader.status();
  std::string node(absl::StripAsciiWhitespace(*leader));
  ASSERT_TRUE(kafka().Control({"kill", node}).ok());
  size_t at_kill = recorded();
  // Orders go on being placed, acknowledged (min.insync 2 of 3), consumed and
  // recorded without the node.
  EXPECT_TRUE(
      WaitUntil([&] { return recorded() >= at_kill + 500; }, absl::Seconds(90)))
      << "no progress after node " << node << " was killed\nmanager:\n"
      << Tail((*manager)->Stderr()) << "\ncook:\n"
      << Tail((*cook)->Stderr());
  absl::Status restarted = kafka().Control({"start", node});
  ASSERT_TRUE(restarted.ok()) << restarted;

  absl::StatusOr<int> waited = (*waiter)->Wait(absl::Seconds(120));
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, 0) << (*waiter)->Stderr();
  EXPECT_TRUE(absl::StrContains(
      (*waiter)->Stdout(),
      absl::StrCat(kOrders, " sent, ", kOrders, " acknowledged, 0 failed")))
      << (*waiter)->Stdout();
  // Every acknowledged order is on the topic, once (idempotent producer).
  EXPECT_EQ(CountRecords(bootstrap(), topic()).value_or(-1), kOrders);

  // Cooked: READY for each, and recorded exactly once.
  EXPECT_TRUE(WaitForReady(kOrders, absl::Seconds(120)))
      << "not every order cooked; the cook's log ends:\n"
      << (*cook)->Stderr().substr(
             std::max<int64_t>(0, (*cook)->Stderr().size() - 3000));
  EXPECT_TRUE(WaitUntil(
      [&] {
        return LinesWith(ReadFile(ledger), "\"order_id\"").size() ==
               static_cast<size_t>(kOrders);
      },
      absl::Seconds(120)))
      << LinesWith(ReadFile(ledger), "\"order_id\"").size() << " in the ledger";
  std::set<std::string> positions;
  for (const std::string& line : LinesWith(ReadFile(ledger), "\"order_id\"")) {
    size_t at = line.find("\"partition\":");
    positions.insert(line.substr(at, line.find(",\"recorded_at\"") - at));
  }
  EXPECT_EQ(positions.size(), static_cast<size_t>(kOrders))
      << "an order recorded twice";
  // Once the cook group has committed everything, the events read to their
  // end: exactly one READY per order for read_committed, the leader's death
  // notwithstanding.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return CountCommitted(bootstrap(), group("cook"), topic())
                   .value_or(-1) == kOrders;
      },
      absl::Seconds(60)));
  ASSERT_TRUE(events_->CatchUp(absl::Seconds(60)));
  std::map<OrderPosition, int> ready =
      CountByOrder(events_->events(), kitchen::v1::OrderEvent::READY);
  EXPECT_EQ(ready.size(), static_cast<size_t>(kOrders));
  int more_than_once = 0;
  for (const auto& [order, count] : ready) more_than_once += count > 1;
  EXPECT_EQ(more_than_once, 0) << "orders READY more than once";
}

TEST_F(KafkaClusterTest, KafkasConsoleConsumerReadsTheWaitersKeysAndHeaders) {
  RunResult waiter = RunWaiter({"margherita", "17"});
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
  std::string order_id = waiter.out.substr(
      strlen("order "), waiter.out.find(':') - strlen("order "));
  RunResult consumer =
      Tool({"kafka-console-consumer", "--bootstrap-server", bootstrap(),
            "--topic", topic(), "--from-beginning", "--max-messages", "1",
            "--timeout-ms", "60000", "--formatter-property", "print.key=true",
            "--formatter-property", "print.headers=true",
            "--formatter-property", "key.separator=|"});
  ASSERT_EQ(consumer.exit_status, 0) << consumer.err;
  // "order-id:ID,content-type:...|17|<value>": headers, key and value.
  EXPECT_TRUE(absl::StrContains(consumer.out, "order-id:" + order_id))
      << consumer.out;
  EXPECT_TRUE(absl::StrContains(
      consumer.out,
      "content-type:application/x-protobuf; messageType=kitchen.v1.Order"))
      << consumer.out;
  EXPECT_TRUE(absl::StrContains(consumer.out, "|17|")) << consumer.out;
  EXPECT_TRUE(absl::StrContains(consumer.out, "margherita")) << consumer.out;
}

TEST_F(KafkaClusterTest, KafkasConsumerGroupsShowsTheLagTheCookSaysAtStart) {
  // The group commits on every partition once its cook has cooked the first
  // orders (tables 1 to 12 and 17 reach all six partitions)...
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  for (int table : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17}) {
    RunResult waiter = RunWaiter({"margherita", absl::StrCat(table)});
    ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
  }
  ASSERT_TRUE(WaitForReady(13, absl::Seconds(60))) << (*cook)->Stderr();
  (*cook)->Signal(SIGTERM);
  ASSERT_EQ((*cook)->Wait(absl::Seconds(30)).value_or(-1), 0);

  // ...then, with the cook stopped, a known number of orders per partition.
  std::string placed_out;
  for (int table : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 17, 17}) {
    RunResult waiter = RunWaiter({"marinara", absl::StrCat(table)});
    ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
    placed_out += waiter.out;
  }
  std::map<int, int> expected = PerPartition(placed_out);

  // Kafka's own view of the group's lag: columns GROUP TOPIC PARTITION
  // CURRENT-OFFSET LOG-END-OFFSET LAG ...
  RunResult described =
      Tool({"kafka-consumer-groups", "--bootstrap-server", bootstrap(),
            "--describe", "--group", group("cook")});
  ASSERT_EQ(described.exit_status, 0) << described.err;
  std::map<int, int> described_lag;
  for (absl::string_view line : absl::StrSplit(described.out, '\n')) {
    std::vector<absl::string_view> columns =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int partition = 0;
    int lag = 0;
    if (columns.size() >= 6 && columns[1] == topic() &&
        absl::SimpleAtoi(columns[2], &partition) &&
        absl::SimpleAtoi(columns[5], &lag) && lag > 0) {
      described_lag[partition] = lag;
    }
  }
  EXPECT_EQ(described_lag, expected) << described.out;

  // The cook says the same backlog as soon as it has its partitions again.
  auto again = StartService("cook", {"--prep_time=10s"});
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(
      (*again)->WaitForStderr(" lag at assignment: ", absl::Seconds(60)))
      << (*again)->Stderr();
  std::string said = LinesWith((*again)->Stderr(), " lag at assignment: ")[0];
  for (const auto& [partition, lag] : expected) {
    EXPECT_TRUE(absl::StrContains(
        said, absl::StrCat(topic(), "/", partition, "=", lag, " ")))
        << said;
  }
  EXPECT_TRUE(absl::StrContains(said, absl::StrCat("(total ", 15, ")")))
      << said;
}

TEST_F(KafkaClusterTest,
       AConsoleProducersRecordIsDeadLetteredAsTheContractSays) {
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  RunResult produced = Tool({"kafka-console-producer", "--bootstrap-server",
                             bootstrap(), "--topic", topic(), "--property",
                             "parse.key=true", "--property", "key.separator=:"},
                            "5:two pizzas please\n");
  ASSERT_EQ(produced.exit_status, 0) << produced.err;
  std::vector<Record> letters =
      ReadRecords(bootstrap(), dead_letter_topic(), 1, absl::Seconds(60));
  ASSERT_EQ(letters.size(), 1u) << (*cook)->Stderr();
  EXPECT_EQ(letters[0].key, "5");
  EXPECT_EQ(letters[0].value, "two pizzas please");
  EXPECT_EQ(letters[0].header("dlq-original-topic"), topic());
  EXPECT_EQ(letters[0].header("dlq-original-offset"), "0");
  EXPECT_EQ(letters[0].header("dlq-consumer-group"), group("cook"));
  EXPECT_TRUE(letters[0].header("dlq-reason").has_value());
  // And the cook goes on: a real order after it is cooked.
  RunResult waiter = RunWaiter({"diavola", "5"});
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
  EXPECT_TRUE(WaitForReady(1, absl::Seconds(60))) << (*cook)->Stderr();
}

}  // namespace
}  // namespace kitchen::testing
