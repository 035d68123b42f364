// File: tests/manager_test.cc
//
// The manager's promises, end to end against a real broker (a devbroker, or a
// real Kafka cluster: tests/e2e.bzl): every order in the ledger exactly once
// through SIGKILLs at random moments, a torn last line repaired, a deleted
// ledger rebuilt, one writer per ledger, poison records kept out, the report,
// and an unwritable path.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

std::vector<std::string> LedgerLines(const std::string& path) {
  return absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
}

// The ledger's lines that are orders (not dead-lettered positions).
std::vector<std::string> OrderLines(const std::string& path) {
  std::vector<std::string> orders;
  for (const std::string& line : LedgerLines(path)) {
    if (!absl::StrContains(line, "\"dead_lettered\"")) orders.push_back(line);
  }
  return orders;
}

// The value of "name":"value" in a ledger line.
std::string Field(const std::string& line, const std::string& name) {
  std::string key = absl::StrCat("\"", name, "\":");
  size_t at = line.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = line.find_first_of(",}", at);
  std::string value = line.substr(at, end - at);
  if (!value.empty() && value.front() == '"')
    value = value.substr(1, value.size() - 2);
  return value;
}

class ManagerTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    ledger_ = TempPath("ledger.jsonl");
  }

  // A manager whose death the group notices within 6 s.
  std::unique_ptr<Process> StartManager(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {"--ledger=" + ledger_, "-X",
                                      "session.timeout.ms=6000"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto manager = StartService("manager", flags);
    EXPECT_TRUE(manager.ok()) << manager.status();
    return manager.ok() ? *std::move(manager) : nullptr;
  }

  bool LedgerReaches(size_t lines, absl::Duration timeout) {
    return WaitUntil([&] { return OrderLines(ledger_).size() >= lines; },
                     timeout);
  }

  // Stops `manager` gracefully: what it had read is recorded and synced, and
  // it writes nothing more, so the ledger is final.
  void Stop(std::unique_ptr<Process>& manager) {
    manager->Signal(SIGTERM);
    EXPECT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0)
        << manager->Stderr();
  }

  // Asserts that the ledger holds exactly the topic's orders, each once.
  void ExpectEachOrderExactlyOnce(size_t orders) {
    std::vector<std::string> lines = OrderLines(ledger_);
    std::set<std::string> ids;
    std::set<std::pair<std::string, std::string>> positions;
    for (const std::string& line : lines) {
      EXPECT_EQ(Field(line, "topic"), topic()) << line;
      ids.insert(Field(line, "order_id"));
      positions.insert({Field(line, "partition"), Field(line, "offset")});
    }
    EXPECT_EQ(lines.size(), orders) << "lines in the ledger";
    EXPECT_EQ(ids.size(), orders) << "distinct order ids";
    EXPECT_EQ(positions.size(), orders) << "distinct positions";
  }

  std::string ledger_;
};

TEST_F(ManagerTest, EveryOrderExactlyOnceThroughSigkillsAtRandomMoments) {
  const int kOrders = 4000;
  std::mt19937 random(20261124);
  std::uniform_int_distribution<int> pause_ms(500, 3500);

  auto waiter = StartService(
      "waiter", {absl::StrCat("--count=", kOrders), "--rate=400", "--seed=5"});
  ASSERT_TRUE(waiter.ok());
  int kills = 0;
  auto manager = StartManager({"--sync_max_records=50"});
  while ((*waiter)->running() || kills < 5) {
    absl::SleepFor(absl::Milliseconds(pause_ms(random)));
    manager->Signal(SIGKILL);
    ASSERT_EQ(manager->Wait(absl::Seconds(10)).value_or(-1), 128 + SIGKILL);
    ++kills;
    manager = StartManager({"--sync_max_records=50"});
  }
  ASSERT_EQ((*waiter)->Wait(absl::Seconds(60)).value_or(-1), 0)
      << (*waiter)->Stderr();
  ASSERT_EQ(CountRecords(bootstrap(), topic()).value_or(-1), kOrders);

  EXPECT_TRUE(LedgerReaches(kOrders, absl::Seconds(60))) << manager->Stderr();
  manager->Signal(SIGTERM);
  EXPECT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0)
      << manager->Stderr();
  ExpectEachOrderExactlyOnce(kOrders);
  std::cerr << kills << " SIGKILLs" << std::endl;
}

TEST_F(ManagerTest, TornLastLineIsSetAsideAndTheLedgerRepaired) {
  auto manager = StartManager();
  PlaceOrders(2);
  ASSERT_TRUE(LedgerReaches(2, absl::Seconds(30))) << manager->Stderr();
  manager->Signal(SIGTERM);
  ASSERT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0);
  std::ofstream(ledger_, std::ios::app)
      << "{\"order_id\":\"torn-by-a-crash\",\"piz";

  manager = StartManager();
  ASSERT_TRUE(manager->WaitForStderr("ended in a torn line", absl::Seconds(20)))
      << manager->Stderr();
  PlaceOrders(1);
  EXPECT_TRUE(LedgerReaches(3, absl::Seconds(30))) << manager->Stderr();
  manager->Signal(SIGTERM);
  EXPECT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0);
  ExpectEachOrderExactlyOnce(3);
  // The torn bytes were kept, not dropped.
  int side_files = 0;
  for (const auto& file : std::filesystem::directory_iterator(
           std::filesystem::path(ledger_).parent_path())) {
    if (absl::StrContains(file.path().string(), "ledger.jsonl.torn-")) {
      ++side_files;
      EXPECT_EQ(ReadFile(file.path().string()),
                "{\"order_id\":\"torn-by-a-crash\",\"piz");
    }
  }
  EXPECT_EQ(side_files, 1);
}

TEST_F(ManagerTest, ADeletedLedgerIsRebuiltFromTheEarliestOrder) {
  auto manager = StartManager();
  PlaceOrders(30);
  ASSERT_TRUE(LedgerReaches(30, absl::Seconds(30)));
  manager->Signal(SIGTERM);
  ASSERT_EQ(manager->Wait(absl::Seconds(20)).value_or(-1), 0);
  ASSERT_EQ(::unlink(ledger_.c_str()), 0);

  // Kafka's committed offsets say "all done"; the ledger, which is the truth,
  // is empty.
  manager = StartManager();
  EXPECT_TRUE(LedgerReaches(30, absl::Seconds(30))) << manager->Stderr();
  Stop(manager);
  ExpectEachOrderExactlyOnce(30);
}

TEST_F(ManagerTest, ASecondManagerOnTheSameLedgerIsRefused) {
  auto first = StartManager();
  ASSERT_TRUE(first->WaitForStderr("manager started", absl::Seconds(20)));
  auto second = StartManager();
  EXPECT_EQ(second->Wait(absl::Seconds(20)).value_or(-1), 3);
  EXPECT_TRUE(
      absl::StrContains(second->Stderr(), "is in use by another manager"))
      << second->Stderr();
  EXPECT_TRUE(first->running());
}

TEST_F(ManagerTest, PoisonRecordsGoToTheDeadLetterTopicNotTheLedger) {
  auto manager = StartManager();
  ASSERT_TRUE(ProduceRaw(bootstrap(), topic(), "3", "garbage").ok());
  PlaceOrders(5);
  EXPECT_TRUE(LedgerReaches(5, absl::Seconds(30))) << manager->Stderr();
  std::vector<Record> dead =
      ReadRecords(bootstrap(), dead_letter_topic(), 1, absl::Seconds(30));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, "garbage");
  EXPECT_EQ(dead[0].header("dlq-original-topic"), topic());
  EXPECT_EQ(dead[0].header("dlq-consumer-group"), group("manager"));
  // Done with every record (the poison one and the 5 orders) before it stops.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return CountCommitted(bootstrap(), group("manager"), topic())
                   .value_or(-1) == 6;
      },
      absl::Seconds(30)));
  Stop(manager);
  ExpectEachOrderExactlyOnce(5);
  EXPECT_FALSE(absl::StrContains(ReadFile(ledger_), "garbage"));
}

TEST_F(ManagerTest,
       APoisonRecordIsDeadLetteredOnceThroughRestartsAndRebalances) {
  PlaceOrders(5);
  // The last record of its partition: no order after it.
  ASSERT_TRUE(ProduceRaw(bootstrap(), topic(), "3", "garbage").ok());
  auto manager = StartManager();
  ASSERT_EQ(ReadRecords(bootstrap(), dead_letter_topic(), 1, absl::Seconds(30))
                .size(),
            1u)
      << manager->Stderr();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return CountCommitted(bootstrap(), group("manager"), topic())
                   .value_or(-1) == 6;
      },
      absl::Seconds(30)))
      << manager->Stderr();
  Stop(manager);
  // A restart, then a rebalance: a second member joins the group (on a ledger
  // of its own), takes half the partitions, and leaves.
  manager = StartManager();
  ASSERT_TRUE(manager->WaitForStderr("partitions assigned", absl::Seconds(30)))
      << manager->Stderr();
  std::string other_ledger = TempPath("other.jsonl");
  auto second = StartService(
      "manager", {"--ledger=" + other_ledger, "-X", "session.timeout.ms=6000"});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(
      (*second)->WaitForStderr("partitions assigned", absl::Seconds(30)))
      << (*second)->Stderr();
  // Neither passes for the book of record while they share the group.
  ASSERT_TRUE(
      (*second)->WaitForStderr("is not the book of record", absl::Seconds(30)))
      << (*second)->Stderr();
  Stop(*second);
  EXPECT_TRUE(absl::StrContains((*second)->Stderr(),
                                "(not the book of record: its last assignment "
                                "lacked "))
      << (*second)->Stderr();
  EXPECT_TRUE(manager->WaitForStderr(
      absl::StrCat("ledger ", ledger_, " is not the book of record"),
      absl::Seconds(30)))
      << manager->Stderr();
  // A record after it on its partition, to know the manager went past it.
  ASSERT_TRUE(ProduceRaw(bootstrap(), topic(), "3", "next").ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return LinesWith(ReadFile(ledger_), "\"dead_lettered\"").size() >= 2;
      },
      absl::Seconds(60)))
      << manager->Stderr();
  Stop(manager);
  std::vector<Record> dead =
      ReadRecords(bootstrap(), dead_letter_topic(), 3, absl::Seconds(5));
  std::vector<std::string> values;
  for (const Record& record : dead) values.push_back(record.value);
  // The second member's ledger was empty: it parks what it reads from its
  // partitions' start, unless the partition holding "garbage" went to the
  // first member; either way the first manager's ledger parks it once.
  EXPECT_EQ(std::count(values.begin(), values.end(), "next"), 1);
  int garbage = std::count(values.begin(), values.end(), "garbage");
  EXPECT_TRUE(garbage == 1 ||
              (garbage == 2 && ReadFile(other_ledger).find("dead_lettered") !=
                                   std::string::npos))
      << absl::StrJoin(values, ",");
  ExpectEachOrderExactlyOnce(5);
  EXPECT_EQ(LinesWith(ReadFile(ledger_), "\"dead_lettered\":true").size(), 2u);
}

TEST_F(ManagerTest, ADeadLetterTopicThatIsTheOrderTopicIsRefused) {
  RunResult manager = RunService(
      "manager", {"--ledger=" + ledger_, "--dead_letter_topic=" + topic()});
  EXPECT_EQ(manager.exit_status, 1) << manager.err;
  EXPECT_TRUE(absl::StrContains(
      manager.err, "the dead-letter topic must not be the topic it serves"))
      << manager.err;
}

TEST_F(ManagerTest, UnwritableLedgerIsAClearErrorBeforeJoiningTheGroup) {
  RunResult manager =
      RunToEnd(ServiceCommand("manager",
                              {"--ledger=/nonexistent-directory/ledger.jsonl"}),
               absl::Seconds(20));
  EXPECT_EQ(manager.exit_status, 3);
  EXPECT_TRUE(absl::StrContains(
      manager.err, "cannot open ledger /nonexistent-directory/ledger.jsonl"))
      << manager.err;
  EXPECT_FALSE(absl::StrContains(manager.err, "partitions assigned"));
}

TEST_F(ManagerTest, ALedgerDamagedInTheMiddleStopsTheManagerNamingTheLine) {
  std::ofstream(ledger_) << "{\"pizza\":\"margherita\"}\n";
  RunResult manager = RunToEnd(
      ServiceCommand("manager", {"--ledger=" + ledger_}), absl::Seconds(20));
  EXPECT_EQ(manager.exit_status, 3);
  EXPECT_TRUE(
      absl::StrContains(manager.err, ledger_ + ":1: ledger line has no valid"))
      << manager.err;
  EXPECT_EQ(ReadFile(ledger_), "{\"pizza\":\"margherita\"}\n")
      << "left untouched";
}

// The ledger on a small tmpfs of its own (a private mount namespace, so nothing
// leaks to the machine): the disk fills up mid-run.
TEST_F(ManagerTest, AFullDiskStopsTheManagerAndNothingIsLostOnceThereIsRoom) {
  std::string directory = TempPath("small-disk");
  std::string rescued = TempPath("rescued.jsonl");
  ASSERT_EQ(::mkdir(directory.c_str(), 0755), 0);
  PlaceOrders(3000);  // About 700 KiB of ledger; the disk holds 256 KiB.
  // sh -c SCRIPT DIRECTORY RESCUED MANAGER-COMMAND...
  std::string script = absl::StrCat(
      "mount -t tmpfs -o size=256k kitchen-test \"$0\" || exit 77; ",
      "rescued=\"$1\"; shift; \"$@\"; status=$?; ",
      "cp \"$0/ledger.jsonl\" \"$rescued\"; exit $status");
  std::vector<std::string> command = {
      "/usr/bin/unshare", "-m", "/bin/sh", "-c", script, directory, rescued};
  for (std::string& arg :
       ServiceCommand("manager", {"--ledger=" + directory + "/ledger.jsonl",
                                  "--sync_max_records=100", "-X",
                                  "session.timeout.ms=6000"})) {
    command.push_back(std::move(arg));
  }
  RunResult full = RunToEnd(command, absl::Seconds(60));
  if (full.exit_status == 77 || absl::StrContains(full.err, "unshare failed")) {
    GTEST_SKIP() << "cannot mount a small disk here (needs root): " << full.err;
  }
  EXPECT_EQ(full.exit_status, 3) << full.err;
  EXPECT_TRUE(absl::StrContains(full.err, "No space left on device"))
      << full.err;

  // What it wrote is whole; with room again it goes on from there, exactly
  // once.
  ledger_ = rescued;
  size_t written = LedgerLines(ledger_).size();
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, 3000u);
  auto manager = StartManager();
  EXPECT_TRUE(LedgerReaches(3000, absl::Seconds(60))) << manager->Stderr();
  Stop(manager);
  ExpectEachOrderExactlyOnce(3000);
}

TEST(ManagerReportTest, SummarizesAKnownLedgerAndNamesADamagedLine) {
  std::string ledger = TempPath("known.jsonl");
  std::ofstream(ledger)
      << R"({"order_id":"a","pizza":"margherita","table":3,"placed_at":"2026-11-24T10:00:00.000Z","topic":"pizza-order","partition":1,"offset":0,"recorded_at":"2026-11-24T10:00:01.000Z"})"
      << "\n"
      << R"({"order_id":"b","pizza":"diavola","table":3,"placed_at":"2026-11-24T10:05:00.000Z","topic":"pizza-order","partition":1,"offset":1,"recorded_at":"2026-11-24T10:05:01.000Z"})"
      << "\n"
      << R"({"order_id":"","pizza":"margherita","table":12,"placed_at":null,"topic":"pizza-order","partition":4,"offset":0,"recorded_at":"2026-11-24T10:06:01.000Z"})"
      << "\n";
  RunResult text =
      RunToEnd({Binary("manager/manager"), "report", "--ledger=" + ledger},
               absl::Seconds(20));
  EXPECT_EQ(text.exit_status, 0) << text.err;
  EXPECT_EQ(text.out, absl::StrCat("ledger ", ledger, R"(: 3 orders
first order placed 2026-11-24T10:00:00.000Z
last order placed  2026-11-24T10:05:00.000Z

per pizza:
  margherita                      2
  diavola                         1

per table:
  table 3           2
  table 12          1
)"));
  RunResult json = RunToEnd(
      {Binary("manager/manager"), "report", "--json", "--ledger=" + ledger},
      absl::Seconds(20));
  EXPECT_EQ(json.exit_status, 0) << json.err;
  EXPECT_EQ(
      json.out,
      absl::StrCat(
          "{\"ledger\":\"", ledger,
          "\",\"orders\":3,\"first_placed_at\":\"2026-11-24T10:00:00.000Z\","
          "\"last_placed_at\":\"2026-11-24T10:05:00.000Z\",\"per_pizza\":{"
          "\"diavola\":1,\"margherita\":2},\"per_table\":{\"3\":2,\"12\":1},"
          "\"dead_lettered\":0,\"unfinished_bytes\":0}\n"));

  std::ofstream(ledger, std::ios::app) << "{\"pizza\": oops}\n";
  RunResult damaged =
      RunToEnd({Binary("manager/manager"), "report", "--ledger=" + ledger},
               absl::Seconds(20));
  EXPECT_EQ(damaged.exit_status, 3);
  EXPECT_TRUE(absl::StrContains(damaged.err, absl::StrCat(ledger, ":4:")))
      << damaged.err;
}

}  // namespace
}  // namespace kitchen::testing
