// File: tests/kitchen_test.cc
//
// The walking skeleton end to end: cook and manager as real processes against
// a broker (a devbroker, or a real Kafka cluster: tests/e2e.bzl), orders placed
// with the waiter binary, and the cook's READY events, its log line and what
// the manager wrote checked.

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "kafka/topic_reader.h"
#include "orders/order_record.h"
#include "proto/order_event.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// "order ID: pizza for table T -> pizza-order partition P offset O" → {ID, P,
// O}.
struct Placed {
  std::string order_id;
  int partition = -1;
  long long offset = -1;
};

Placed ParseWaiterLine(const std::string& line) {
  Placed placed;
  char id[64] = {0};
  const char* partition = std::strstr(line.c_str(), " partition ");
  if (std::sscanf(line.c_str(), "order %36s", id) != 1 ||
      partition == nullptr ||
      std::sscanf(partition, " partition %d offset %lld", &placed.partition,
                  &placed.offset) != 2) {
    ADD_FAILURE() << "unexpected waiter output: " << line;
  }
  placed.order_id = id;
  if (!placed.order_id.empty() && placed.order_id.back() == ':') {
    placed.order_id.pop_back();
  }
  return placed;
}

class KitchenTest : public BrokerTest {};

TEST_F(KitchenTest, AnOrderReachesTheCookAndTheLedger) {
  // The devbroker serves on localhost, tools/kafka on 127.0.0.1.
  EXPECT_TRUE(absl::StartsWith(
      bootstrap(), broker() == BrokerKind::kDev ? "localhost:" : "127.0.0.1:"))
      << bootstrap();

  std::string ledger = TempPath("ledger.jsonl");
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + ledger});
  ASSERT_TRUE(manager.ok()) << manager.status();

  // Two orders for one table: same partition, consecutive offsets (the
  // workshop's first check); a third for another table.
  std::vector<Placed> placed;
  for (const std::vector<std::string>& order :
       std::vector<std::vector<std::string>>{
           {"--pizza=margherita", "--table=17"},
           {"--pizza=diavola", "--table=17"},
           {"marinara", "4"}}) {
    RunResult waiter = RunWaiter(order);
    ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
    EXPECT_TRUE(absl::StrContains(waiter.out,
                                  absl::StrCat(" -> ", topic(), " partition ")))
        << waiter.out;
    placed.push_back(ParseWaiterLine(waiter.out));
  }
  EXPECT_EQ(placed[0].partition, placed[1].partition);
  EXPECT_EQ(placed[0].offset, 0);
  EXPECT_EQ(placed[1].offset, 1);

  // The cook's READY of each, at the order's position, with what it was.
  std::unique_ptr<EventReader> events =
      ReadEvents(kafka::Isolation::kReadCommitted);
  ASSERT_NE(events, nullptr);
  for (const Placed& order : placed) {
    EXPECT_TRUE(events->WaitFor(
        [&](const std::vector<StatusEvent>& read) {
          for (const StatusEvent& event : read) {
            if (event.event.state() == kitchen::v1::OrderEvent::READY &&
                event.order() == OrderPosition{order.partition, order.offset}) {
              EXPECT_EQ(event.event.order_id(), order.order_id);
              return true;
            }
          }
          return false;
        },
        absl::Seconds(30)))
        << "no READY of " << order.order_id << ":\n"
        << (*cook)->Stderr();
    EXPECT_TRUE(WaitUntil(
        [&] { return absl::StrContains(ReadFile(ledger), order.order_id); },
        absl::Seconds(30)))
        << "ledger never got " << order.order_id << ":\n"
        << (*manager)->Stderr();
  }
  // The cook's line names pizza, table, order id, partition and offset.
  EXPECT_TRUE(absl::StrContains(
      (*cook)->Stderr(), absl::StrCat("cooking margherita for table 17 (order ",
                                      placed[0].order_id, ", ", topic(), "/",
                                      placed[0].partition, "@0")))
      << (*cook)->Stderr();
  // The ledger holds each order exactly once, with its position.
  std::string book = ReadFile(ledger);
  for (const Placed& order : placed) {
    std::vector<std::string> lines;
    for (absl::string_view line :
         absl::StrSplit(book, '\n', absl::SkipEmpty())) {
      if (absl::StrContains(line, order.order_id)) lines.emplace_back(line);
    }
    ASSERT_EQ(lines.size(), 1u) << book;
    EXPECT_TRUE(absl::StrContains(
        lines[0], absl::StrCat("\"partition\":", order.partition,
                               ",\"offset\":", order.offset)))
        << lines[0];
  }

  // Both stop cleanly on SIGTERM.
  (*cook)->Signal(SIGTERM);
  (*manager)->Signal(SIGTERM);
  EXPECT_EQ((*cook)->Wait(absl::Seconds(30)).value_or(-1), 0)
      << (*cook)->Stderr();
  EXPECT_EQ((*manager)->Wait(absl::Seconds(30)).value_or(-1), 0)
      << (*manager)->Stderr();
}

// A foreign producer's order whose pizza and id hold a newline with a forged
// log line after it, and a terminal escape (clear the screen). The cook and
// the manager log it, and the manager's report prints it, each on one line
// with the controls escaped: no forged line, no escape byte anywhere.
TEST_F(KitchenTest, AnOrderCannotForgeLogLinesOrReachTheTerminal) {
  const std::string forged =
      "\n2030-01-01T00:00:00.000Z INFO  cook: ready: forged";
  std::string ledger = TempPath("ledger.jsonl");
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + ledger});
  ASSERT_TRUE(manager.ok()) << manager.status();

  kitchen::v1::Order order =
      orders::NewOrder("margherita" + forged + "\x1b[2J", 7, absl::Now());
  order.set_order_id("id-7" + forged + "\x1b[2J");
  ASSERT_TRUE(
      ProduceRaw(bootstrap(), topic(), "7", order.SerializeAsString()).ok());

  const std::string escaped =
      "\\n2030-01-01T00:00:00.000Z INFO  cook: ready: "
      "forged\\x1b[2J";
  EXPECT_TRUE(
      (*cook)->WaitForStderr("ready: margherita" + escaped, absl::Seconds(30)))
      << (*cook)->Stderr();
  EXPECT_TRUE(
      WaitUntil([&] { return absl::StrContains(ReadFile(ledger), "id-7"); },
                absl::Seconds(30)))
      << (*manager)->Stderr();
  (*cook)->Signal(SIGTERM);
  (*manager)->Signal(SIGTERM);
  EXPECT_EQ((*cook)->Wait(absl::Seconds(30)).value_or(-1), 0);
  EXPECT_EQ((*manager)->Wait(absl::Seconds(30)).value_or(-1), 0);
  RunResult report =
      RunToEnd({Binary("manager/manager"), "report", "--ledger=" + ledger},
               absl::Seconds(30));
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_TRUE(absl::StrContains(report.out, "margherita" + escaped))
      << report.out;

  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{
           {"cook's log", (*cook)->Stderr()},
           {"manager's log", (*manager)->Stderr()},
           {"report", report.out + report.err}}) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << name << ":\n" << text;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      EXPECT_FALSE(absl::StartsWith(line, "2030-"))
          << name << " has a forged line:\n"
          << text;
    }
  }
}

// A group.id in the properties file would silently override --group: it is
// the cook's own, refused with the file's line and the cook's group, before
// anything joins.
TEST_F(KitchenTest, AGroupIdInThePropertiesFileIsRefused) {
  std::string file = TempPath("client.properties");
  std::ofstream(file) << "# the cluster\nclient.id=kitchen\ngroup.id=other\n";
  RunResult cook =
      RunService("cook", {"--prep_time=0", "--group=" + group("cook"),
                          "--kafka_config_file=" + file});
  EXPECT_EQ(cook.exit_status, 1) << cook.err;
  EXPECT_TRUE(absl::StrContains(
      cook.err,
      absl::StrCat(
          file, ":3: group.id is the service's own (group.id=", group("cook"),
          "; choose the group with --group): a different "
          "value is refused")))
      << cook.err;
  // The same group in the file is no conflict: --print_kafka_config accepts
  // it (and exits without connecting).
  std::ofstream(file) << "group.id=" << group("cook") << "\n";
  RunResult same = RunService(
      "cook", {"--group=" + group("cook"), "--kafka_config_file=" + file,
               "--print_kafka_config"});
  EXPECT_EQ(same.exit_status, 0) << same.err;
  EXPECT_TRUE(absl::StrContains(same.out, "group.id=" + group("cook")))
      << same.out;
}

TEST_F(KitchenTest, BadOrderIsRefusedAndNothingIsPublished) {
  RunResult waiter = RunWaiter({"--pizza=margarita", "--table=3"});
  EXPECT_EQ(waiter.exit_status, 1);
  EXPECT_TRUE(absl::StrContains(waiter.err, "did you mean margherita?"))
      << waiter.err;
  EXPECT_EQ(CountRecords(bootstrap(), topic()).value_or(-1), 0);
}

}  // namespace
}  // namespace kitchen::testing
