// File: tests/cook_test.cc
//
// The cook's promises, end to end against a real broker (a devbroker, or a
// real Kafka cluster: tests/e2e.bzl): at-least-once across a SIGKILL, catching
// up after downtime, sharing partitions without cooking twice, a second group
// seeing everything, poison records to the dead-letter topic, a broker outage,
// and a graceful stop. What each cook cooked is read from its READY events on
// the status topic (read_committed), each cook named by its --cook_id; its
// log lines are for people (and the abandon and rebalance lines are checked
// as such).

#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "kafka/topic_reader.h"
#include "orders/order_record.h"
#include "proto/order_event.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// The order ids in a cook's "ready:" lines, in order.
std::vector<std::string> ReadyOrderIds(const std::string& log) {
  std::vector<std::string> ids;
  for (const std::string& line : LinesWith(log, " ready: ")) {
    size_t at = line.find("(order ");
    if (at == std::string::npos) continue;
    ids.push_back(line.substr(at + 7, line.find(',', at) - at - 7));
  }
  return ids;
}

// Commits `offset` for `group` on partitions 0 to `partitions` - 1 of `topic`,
// from outside the group (as kafka-consumer-groups --reset-offsets does).
absl::Status CommitOffsets(const std::string& bootstrap,
                           const std::string& group, const std::string& topic,
                           int partitions, int64_t offset) {
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf({bootstrap, {}}, {{"group.id", group}});
  if (!conf.ok()) return conf.status();
  char error[512];
  kafka::HandlePtr client(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof(error)));
  if (client == nullptr) return absl::InternalError(error);
  (void)conf->release();  // The handle owns it now.
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t partition = 0; partition < partitions; ++partition) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)
        ->offset = offset;
  }
  rd_kafka_resp_err_t committed =
      rd_kafka_commit(client.get(), list.get(), /*async=*/0);
  for (int i = 0; committed == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt;
       ++i) {
    committed = list->elems[i].err;
  }
  (void)rd_kafka_consumer_close(client.get());
  if (committed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(rd_kafka_err2str(committed));
  }
  return absl::OkStatus();
}

class CookTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    events_ = ReadEvents(kafka::Isolation::kReadCommitted);
    ASSERT_NE(events_, nullptr);
  }

  // The ids of the orders `cook` has published READY for, in the order read.
  std::vector<std::string> Ready(const Process& cook) const {
    std::vector<std::string> ids;
    const std::string& cook_id = cook_ids_.at(&cook);
    for (const StatusEvent& event : events_->events()) {
      if (event.event.state() == kitchen::v1::OrderEvent::READY &&
          event.event.cook() == cook_id) {
        ids.push_back(event.event.order_id());
      }
    }
    return ids;
  }

  // Whether `cook` has published `state` for order `id`.
  bool Published(const Process& cook, kitchen::v1::OrderEvent::State state,
                 const std::string& id) const {
    for (const StatusEvent& event : events_->events()) {
      if (event.event.state() == state && event.event.order_id() == id &&
          event.event.cook() == cook_ids_.at(&cook)) {
        return true;
      }
    }
    return false;
  }

  // Reads the events until `condition` holds.
  bool WaitForEvents(const std::function<bool()>& condition,
                     absl::Duration timeout) {
    return events_->WaitFor(
        [&](const std::vector<StatusEvent>&) { return condition(); }, timeout);
  }

  // A cook in this case's group `base_group` whose death the group notices
  // within 6 s.
  std::unique_ptr<Process> StartCook(std::string prep_time,
                                     absl::string_view base_group = "cook",
                                     std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {"--prep_time=" + prep_time,
                                      "--group=" + group(base_group), "-X",
                                      "session.timeout.ms=6000"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    const std::string cook_id = absl::StrCat("cook-", cook_ids_.size() + 1);
    flags.push_back("--cook_id=" + cook_id);
    auto cook = StartService("cook", flags);
    EXPECT_TRUE(cook.ok()) << cook.status();
    if (!cook.ok()) return nullptr;
    cook_ids_[cook->get()] = cook_id;
    return *std::move(cook);
  }

  // Waits until the cooks of group `base_group` have committed every record of
  // the topic: each is cooked (a cook commits an order only once it is ready)
  // and none will be handed to a cook of the group again; then reads the
  // events to the topic's end, so that what the cooks published is final.
  bool GroupDrained(absl::string_view base_group, absl::Duration timeout) {
    return WaitUntil(
               [&] {
                 absl::StatusOr<int64_t> records =
                     CountRecords(bootstrap(), topic());
                 absl::StatusOr<int64_t> committed =
                     CountCommitted(bootstrap(), group(base_group), topic());
                 return records.ok() && committed.ok() &&
                        *committed == *records;
               },
               timeout) &&
           events_->CatchUp(absl::Seconds(60));
  }

  // Places one order and returns its id.
  std::string PlaceOrder(const std::string& pizza, int table) {
    RunResult waiter = RunWaiter({pizza, absl::StrCat(table)});
    EXPECT_EQ(waiter.exit_status, 0) << waiter.err;
    return waiter.out.substr(6, 36);  // "order <36-character id>: ..."
  }

  std::unique_ptr<EventReader> events_;
  std::map<const Process*, std::string> cook_ids_;
};

TEST_F(CookTest, BadFlagsAreRefusedBeforeJoiningTheGroup) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--topic=pizza order"}, "topic: topic name \"pizza order\""},
      {{"--dead_letter_topic="}, "dead-letter topic: topic name is empty"},
      {{"--dead_letter_topic=" + topic()},
       "the dead-letter topic must not be the topic it serves"},
      {{"--group="}, "--group must not be empty"},
      {{"--health_file=/nonexistent-directory/health"},
       "cannot write health file /nonexistent-directory/health.tmp: No such "
       "file or directory"},
  };
  for (const Case& c : cases) {
    RunResult cook = RunService("cook", c.args);
    EXPECT_EQ(cook.exit_status, 1) << c.args[0] << "\n" << cook.err;
    EXPECT_TRUE(absl::StrContains(cook.err, c.message))
        << c.args[0] << ": " << cook.err;
  }
}

TEST_F(CookTest, OrderOfACookKilledMidOrderIsCookedAgain) {
  auto first = StartCook("60s");
  std::string id = PlaceOrder("diavola", 5);
  ASSERT_TRUE(WaitForEvents(
      [&] { return Published(*first, kitchen::v1::OrderEvent::COOKING, id); },
      absl::Seconds(30)))
      << first->Stderr();
  first->Signal(SIGKILL);
  ASSERT_EQ(first->Wait(absl::Seconds(10)).value_or(-1), 128 + SIGKILL);

  auto second = StartCook("0s");
  EXPECT_TRUE(WaitForEvents(
      [&] { return Ready(*second) == std::vector<std::string>{id}; },
      absl::Seconds(45)))
      << second->Stderr();
}

TEST_F(CookTest, StoppedCookCatchesUpOnEverythingItMissed) {
  auto first = StartCook("0s");
  std::string early = PlaceOrder("margherita", 1);
  ASSERT_TRUE(WaitForEvents([&] { return Ready(*first).size() == 1; },
                            absl::Seconds(30)))
      << first->Stderr();
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(absl::Seconds(20)).value_or(-1), 0) << first->Stderr();

  PlaceOrders(40);  // While no cook is running.
  auto second = StartCook("0s");
  EXPECT_TRUE(WaitForEvents([&] { return Ready(*second).size() >= 40; },
                            absl::Seconds(40)))
      << second->Stderr();
  ASSERT_TRUE(GroupDrained("cook", absl::Seconds(30))) << second->Stderr();
  std::vector<std::string> cooked = Ready(*second);
  EXPECT_EQ(cooked.size(), 40u);
  EXPECT_EQ(std::count(cooked.begin(), cooked.end(), early), 0)
      << "an order committed before the stop was cooked again";
}

TEST_F(CookTest, TwoCooksShareThePartitionsAndNeverCookAnOrderTwice) {
  auto first = StartCook("0s");
  ASSERT_TRUE(first->WaitForStderr("partitions assigned", absl::Seconds(30)));
  auto second = StartCook("0s");
  ASSERT_TRUE(second->WaitForStderr("partitions assigned", absl::Seconds(30)))
      << second->Stderr();
  // The first cook gave up half its partitions in that rebalance.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return LinesWith(first->Stderr(), "partitions assigned").size() == 2;
      },
      absl::Seconds(30)))
      << first->Stderr();

  PlaceOrders(300);
  ASSERT_TRUE(WaitForEvents(
      [&] { return Ready(*first).size() + Ready(*second).size() >= 300; },
      absl::Seconds(40)));
  ASSERT_TRUE(GroupDrained("cook", absl::Seconds(30)));
  std::vector<std::string> by_first = Ready(*first);
  std::vector<std::string> by_second = Ready(*second);
  EXPECT_GT(by_first.size(), 0u);
  EXPECT_GT(by_second.size(), 0u);
  std::set<std::string> all(by_first.begin(), by_first.end());
  all.insert(by_second.begin(), by_second.end());
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(by_first.size() + by_second.size(), 300u)
      << "an order was cooked twice";

  // When one dies its partitions move to the other, and nothing is skipped.
  second->Signal(SIGKILL);
  PlaceOrders(60);
  EXPECT_TRUE(WaitForEvents(
      [&] { return Ready(*first).size() == by_first.size() + 60; },
      absl::Seconds(45)))
      << first->Stderr();
}

TEST_F(CookTest, ACookInAnotherGroupSeesEveryOrder) {
  auto kitchen = StartCook("0s", "cook", {"--lag_interval=1s"});
  auto inspector = StartCook("0s", "health-inspector");
  PlaceOrders(50);
  EXPECT_TRUE(WaitForEvents([&] { return Ready(*kitchen).size() == 50; },
                            absl::Seconds(40)));
  EXPECT_TRUE(WaitForEvents([&] { return Ready(*inspector).size() == 50; },
                            absl::Seconds(40)));
  std::vector<std::string> cooked = Ready(*kitchen);
  EXPECT_EQ(std::set<std::string>(cooked.begin(), cooked.end()).size(), 50u);
  // Lag per partition is logged periodically, and is 0 once all is cooked.
  EXPECT_TRUE(kitchen->WaitForStderr("(total 0)", absl::Seconds(10)))
      << kitchen->Stderr();
  EXPECT_TRUE(absl::StrContains(kitchen->Stderr(),
                                absl::StrCat("lag: ", topic(), "/0=")));
}

TEST_F(CookTest, PoisonRecordsGoToTheDeadLetterTopicAndTheCookGoesOn) {
  auto cook = StartCook("0s");
  ASSERT_TRUE(
      ProduceRaw(bootstrap(), topic(), "5", "\xff\xfe not an order").ok());
  kitchen::v1::Order no_table;
  no_table.set_pizza("margherita");
  no_table.set_table(0);
  ASSERT_TRUE(
      ProduceRaw(bootstrap(), topic(), "0", no_table.SerializeAsString()).ok());
  std::string id = PlaceOrder("marinara", 5);

  EXPECT_TRUE(WaitForEvents(
      [&] { return Ready(*cook) == std::vector<std::string>{id}; },
      absl::Seconds(30)))
      << cook->Stderr();
  // The bad records sit on other partitions than the order: wait for both.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return LinesWith(cook->Stderr(),
                         absl::StrCat("bad record at ", topic(), "/"))
                   .size() == 2;
      },
      absl::Seconds(30)))
      << cook->Stderr();
  EXPECT_TRUE(cook->running());

  std::vector<Record> dead =
      ReadRecords(bootstrap(), dead_letter_topic(), 2, absl::Seconds(30));
  ASSERT_EQ(dead.size(), 2u);
  for (const Record& letter : dead) {
    EXPECT_EQ(letter.header("dlq-original-topic"), topic());
    EXPECT_EQ(letter.header("dlq-consumer-group"), group("cook"));
    EXPECT_TRUE(letter.header("dlq-original-partition").has_value());
    EXPECT_TRUE(letter.header("dlq-original-offset").has_value());
    EXPECT_TRUE(letter.header("dlq-original-timestamp").has_value());
    if (letter.key == "5") {
      EXPECT_EQ(letter.value, "\xff\xfe not an order");
      EXPECT_TRUE(absl::StrContains(letter.header("dlq-reason").value_or(""),
                                    "not a kitchen.v1.Order"));
    } else {
      EXPECT_EQ(letter.key, "0");
      EXPECT_EQ(letter.header("dlq-reason"),
                "order has table 0, not a positive number");
    }
  }
}

TEST_F(CookTest, APoisonRecordTooLargeToCopyWholeIsParkedWithoutItsValue) {
  auto cook = StartCook("0s");
  // Just under the producer's limit (librdkafka's message.max.bytes,
  // 1,000,000, below both brokers' own limit), so the dead-letter headers
  // push its copy over: MSG_SIZE_TOO_LARGE, which no retry can cure.
  const std::string huge(999900, '\xff');
  ASSERT_TRUE(ProduceRaw(bootstrap(), topic(), "5", huge).ok());
  PlaceOrders(60);  // On every partition, the poison record's too.

  // Every order is cooked, those behind the poison record on its partition
  // too, within a bound.
  EXPECT_TRUE(
      WaitUntil([&] { return ReadyOrderIds(cook->Stderr()).size() == 60; },
                absl::Seconds(30)))
      << ReadyOrderIds(cook->Stderr()).size() << " cooked\n"
      << cook->Stderr().substr(0, 4000);
  ASSERT_TRUE(GroupDrained("cook", absl::Seconds(30)));
  // Exactly one copy: no value, and headers that say what was cut and why.
  EXPECT_EQ(CountRecords(bootstrap(), dead_letter_topic()).value_or(-1), 1);
  std::vector<Record> dead =
      ReadRecords(bootstrap(), dead_letter_topic(), 1, absl::Seconds(30));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "5");
  EXPECT_EQ(dead[0].value, "");
  EXPECT_EQ(dead[0].header("dlq-cut"), "value");
  EXPECT_EQ(dead[0].header("dlq-original-value-size"), "999900");
  EXPECT_TRUE(absl::StrContains(dead[0].header("dlq-cut-reason").value_or(""),
                                "MSG_SIZE_TOO_LARGE"))
      << dead[0].header("dlq-cut-reason").value_or("(none)");
  EXPECT_TRUE(absl::StrContains(dead[0].header("dlq-reason").value_or(""),
                                "not a kitchen.v1.Order"));
  EXPECT_TRUE(cook->running());
}

// The group's committed offsets are past the log's end: the log they were for
// was replaced by a shorter one (topic re-created, broker data lost) while
// the offsets survived. The cook says so per partition, and cooks the new
// log from its start (auto.offset.reset=earliest): at-least-once, nothing
// skipped.
TEST_F(CookTest, CommittedOffsetsBeyondTheLogsEndAreSaidAndTheLogIsCooked) {
  PlaceOrders(20);
  ASSERT_TRUE(CommitOffsets(bootstrap(), group("cook"), topic(), 6, 1000).ok());
  auto cook = StartCook("0s");
  EXPECT_TRUE(
      WaitUntil([&] { return ReadyOrderIds(cook->Stderr()).size() == 20; },
                absl::Seconds(40)))
      << cook->Stderr();
  EXPECT_TRUE(WaitUntil(
      [&] {
        return LinesWith(cook->Stderr(), "committed offset 1000 is beyond")
                   .size() == 6;
      },
      absl::Seconds(10)))
      << cook->Stderr();
  std::vector<std::string> warned =
      LinesWith(cook->Stderr(), absl::StrCat(topic(),
                                             "/0: committed offset 1000 is "
                                             "beyond the log's end"));
  ASSERT_EQ(warned.size(), 1u) << cook->Stderr();
  EXPECT_TRUE(absl::StrContains(warned[0], "WARN")) << warned[0];
  EXPECT_TRUE(absl::StrContains(warned[0], "cooked from its start"))
      << warned[0];
}

// On Kafka (auto.create.topics.enable=false, as tools/kafka runs it) a
// dead-letter topic that does not exist stops the cook, naming the record and
// what to do; the dev broker (librdkafka's mock) creates any topic a client
// names, so there the copy lands in a new topic.
TEST_F(CookTest, ADeadLetterTopicThatDoesNotExistStopsTheCookSayingSo) {
  const std::string missing = dead_letter_topic() + ".missing";
  auto cook = StartCook("0s", "cook", {"--dead_letter_topic=" + missing});
  ASSERT_TRUE(ProduceRaw(bootstrap(), topic(), "5", "\xff not an order").ok());
  if (broker() == BrokerKind::kDev) {
    EXPECT_TRUE(cook->WaitForStderr(absl::StrCat(" sent to ", missing),
                                    absl::Seconds(30)))
        << cook->Stderr();
    EXPECT_TRUE(cook->running());
    return;
  }
  absl::StatusOr<int> exit = cook->Wait(absl::Seconds(120));
  ASSERT_TRUE(exit.ok()) << exit.status() << "\n" << cook->Stderr();
  EXPECT_EQ(*exit, 2) << cook->Stderr();
  EXPECT_TRUE(absl::StrContains(
      cook->Stderr(), absl::StrCat(" cannot be dead-lettered to ", missing)))
      << cook->Stderr();
  EXPECT_TRUE(absl::StrContains(cook->Stderr(), "create the dead-letter topic"))
      << cook->Stderr();
}

TEST_F(CookTest, ABrokerOutageIsSurvived) {
  auto cook = StartCook("0s");
  std::string before = PlaceOrder("calzone", 2);
  ASSERT_TRUE(WaitForEvents([&] { return Ready(*cook).size() == 1; },
                            absl::Seconds(30)));
  // The whole cluster stops answering, then comes back with everything it had.
  PauseBroker();
  // The outage's length, past the cook's 6 s session timeout: not a wait for
  // anything.
  absl::SleepFor(absl::Seconds(10));
  ResumeBroker();
  EXPECT_TRUE(cook->running());

  std::string after = PlaceOrder("romana", 2);
  EXPECT_TRUE(WaitForEvents(
      [&] {
        std::vector<std::string> ids = Ready(*cook);
        return std::count(ids.begin(), ids.end(), after) == 1;
      },
      absl::Seconds(60)))
      << cook->Stderr();
  EXPECT_TRUE(cook->running());
}

TEST_F(CookTest, SigtermAbandonsTheCurrentOrderCommitsAndExits) {
  auto first = StartCook("60s");
  std::string id = PlaceOrder("bufalina", 9);
  ASSERT_TRUE(WaitForEvents(
      [&] { return Published(*first, kitchen::v1::OrderEvent::COOKING, id); },
      absl::Seconds(30)))
      << first->Stderr();
  absl::Time stopping = absl::Now();
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(absl::Seconds(15)).value_or(-1), 0) << first->Stderr();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(10));
  EXPECT_TRUE(absl::StrContains(first->Stderr(), "abandoned bufalina"))
      << first->Stderr();
  EXPECT_TRUE(WaitForEvents(
      [&] { return Published(*first, kitchen::v1::OrderEvent::ABANDONED, id); },
      absl::Seconds(30)));
  EXPECT_TRUE(absl::StrContains(first->Stderr(), "partitions revoked"));

  auto second = StartCook("0s");
  EXPECT_TRUE(WaitForEvents(
      [&] { return Ready(*second) == std::vector<std::string>{id}; },
      absl::Seconds(30)))
      << second->Stderr();
}

}  // namespace
}  // namespace kitchen::testing
