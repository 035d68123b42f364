// File: tests/waiter_test.cc
//
// The waiter binary against a real broker (a devbroker, or a real Kafka
// cluster: tests/e2e.bzl): each way of placing orders, each kind of bad input
// (nothing may reach the topic), a broker that is down, and stop signals; and
// --wait, with a cook running (one order, a file, load mode, each READY said)
// and without (exit 4 once --wait_timeout has passed).

#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

class WaiterTest : public BrokerTest {
 protected:
  int64_t Orders() { return CountRecords(bootstrap(), topic()).value_or(-1); }

  std::string WriteFile(absl::string_view name, absl::string_view text) {
    std::string path = TempPath(name);
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(WaiterTest, EachKindOfBadInputIsRefusedAndNothingIsSent) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--pizza=margarita", "--table=3"}, "did you mean margherita?"},
      {{"--pizza=margherita"}, "missing table"},
      {{"--table=3"}, "missing pizza"},
      {{"--pizza=margherita", "--table=seven"},
       "table \"seven\" is not a number"},
      {{"--pizza=margherita", "--table=0"}, "table 0 is out of range 1-100"},
      {{"--pizza=margherita", "--table=-2"}, "table -2 is out of range 1-100"},
      {{"--pizza=margherita", "--table=101"},
       "table 101 is out of range 1-100"},
      {{"margherita"}, "missing table"},
      {{"--pizza=margherita", "--tabel=3"},
       "Unknown command line flag 'tabel'"},
      {{"--file=/nonexistent/orders.txt"},
       "cannot read /nonexistent/orders.txt"},
      {{"--menu_file=/nonexistent/menu.txt", "margherita", "3"},
       "cannot read menu /nonexistent/menu.txt"},
      {{"-X", "acks=most", "margherita", "3"},
       "-X: Kafka property acks: Invalid value"},
      {{"-X", "no.such.property=1", "margherita", "3"}, "no.such.property"},
      {{"--count=5", "margherita", "3"}, "give one of"},
      {{"--topic=pizza order", "margherita", "3"},
       "--topic: topic name \"pizza order\" may hold only letters"},
      {{"--topic=", "margherita", "3"}, "--topic: topic name is empty"},
  };
  for (const Case& c : cases) {
    RunResult waiter = RunWaiter(c.args);
    EXPECT_EQ(waiter.exit_status, 1) << absl::StrJoin(c.args, " ") << "\n"
                                     << waiter.err;
    EXPECT_TRUE(absl::StrContains(waiter.err, c.message))
        << absl::StrJoin(c.args, " ") << ": " << waiter.err;
    EXPECT_EQ(waiter.out, "");
  }
  EXPECT_EQ(Orders(), 0);
}

// A mistyped secret is refused, saying which property and where, and shown
// nowhere: not a line of the properties file, not a -X argument, not what
// librdkafka says about a value.
TEST_F(WaiterTest, AMistypedSecretIsRefusedAndShownNowhere) {
  const std::string secret = "hunter2-not-to-be-seen";
  std::string wrong_separator =
      WriteFile("colon.properties",
                "security.protocol=SASL_SSL\nsasl.password: " + secret + "\n");
  std::string jaas =
      WriteFile("jaas.properties",
                "sasl.jaas.config org.apache.kafka.common.security.scram."
                "ScramLoginModule required username=\"kitchen\" password=\"" +
                    secret + "\";\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--kafka_config_file=" + wrong_separator},
       "colon.properties:2: Kafka property sasl.password has no '='"},
      {{"--kafka_config_file=" + jaas},
       "jaas.properties:1: Kafka property sasl.jaas.config has no '='"},
      {{"-X", "sasl.password:" + secret}, "-X: Kafka property sasl.password"},
      {{"-X", "sasl.jaas.config=password=\"" + secret + "\""},
       "-X: Kafka property sasl.jaas.config: Java JAAS configuration is not "
       "supported"},
      {{"-X", "security.protocol=" + secret},
       "-X: Kafka property security.protocol: Invalid value"},
      {{"-X", "ssl.endpoint.identification.algorithm=" + secret},
       "-X: Kafka property ssl.endpoint.identification.algorithm"},
      {{"-X" + secret}, "-X: a Kafka property is not of the form name=value"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"margherita", "3"});
    RunResult waiter = RunWaiter(args);
    EXPECT_EQ(waiter.exit_status, 1) << waiter.err;
    EXPECT_TRUE(absl::StrContains(waiter.err, c.message)) << waiter.err;
    EXPECT_FALSE(absl::StrContains(waiter.out + waiter.err, "hunter2"))
        << waiter.out << waiter.err;
  }
  // Printed settings redact it.
  std::string good = WriteFile("good.properties", "sasl.password=" + secret);
  RunResult printed =
      RunWaiter({"--kafka_config_file=" + good, "--print_kafka_config"});
  EXPECT_EQ(printed.exit_status, 0) << printed.err;
  EXPECT_TRUE(absl::StrContains(printed.out, "sasl.password=[redacted]"))
      << printed.out;
  EXPECT_FALSE(absl::StrContains(printed.out + printed.err, "hunter2"));
  EXPECT_EQ(Orders(), 0);
}

// The waiter's producer is idempotent with acks=all: a -X or a file line that
// changes either is refused, naming both; the same value is accepted.
TEST_F(WaiterTest, APropertyTheWaiterOwnsCannotBeChanged) {
  RunResult changed = RunWaiter({"-X", "acks=1", "margherita", "3"});
  EXPECT_EQ(changed.exit_status, 1) << changed.err;
  EXPECT_TRUE(absl::StrContains(
      changed.err,
      "-X: acks is the service's own (acks=all): a different value is "
      "refused"))
      << changed.err;
  std::string file =
      WriteFile("owned.properties", "linger.ms=2\nenable.idempotence=false\n");
  RunResult from_file =
      RunWaiter({"--kafka_config_file=" + file, "margherita", "3"});
  EXPECT_EQ(from_file.exit_status, 1) << from_file.err;
  EXPECT_TRUE(absl::StrContains(
      from_file.err,
      "owned.properties:2: enable.idempotence is the service's own "
      "(enable.idempotence=true)"))
      << from_file.err;
  EXPECT_EQ(Orders(), 0);
  RunResult same = RunWaiter({"-X", "acks=all", "margherita", "3"});
  EXPECT_EQ(same.exit_status, 0) << same.err;
  EXPECT_EQ(Orders(), 1);
}

TEST_F(WaiterTest, FileModeSkipsBadLinesWithTheirNumbers) {
  std::string path =
      WriteFile("orders.txt",
                "# lunch\nmargherita 3\n\ndiavola 0\nmarinara 5 # window\n"
                "sushi 4\nquattro formaggi 12");
  RunResult waiter = RunWaiter({"--file=" + path});
  EXPECT_EQ(waiter.exit_status, 3) << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err, ":4: table 0 is out of range"))
      << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err, ":6: \"sushi\" is not on the menu"))
      << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err,
                                "3 sent, 3 acknowledged, 0 failed, 2 skipped"))
      << waiter.err;
  std::vector<std::string> lines =
      absl::StrSplit(waiter.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u) << waiter.out;
  EXPECT_TRUE(absl::StrContains(waiter.out, "quattro formaggi for table 12"));
  EXPECT_EQ(Orders(), 3);
}

TEST_F(WaiterTest, StrictFileWithABadLineSendsNothing) {
  std::string path =
      WriteFile("strict.txt", "margherita 3\ndiavola x\nmarinara 5\n");
  RunResult waiter = RunWaiter({"--file=" + path, "--strict"});
  EXPECT_EQ(waiter.exit_status, 1) << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err, ":2: table \"x\" is not a number"))
      << waiter.err;
  EXPECT_EQ(Orders(), 0);
}

// A pipe cannot be checked whole before sending: --strict stops at its first
// bad line, and the orders before it were placed, so the run did something.
TEST_F(WaiterTest, StrictPipeStopsAtABadLineAfterPlacingTheOrdersBeforeIt) {
  std::vector<std::string> command = {
      "/bin/sh", "-c",
      "printf 'margherita 3\\nromana 4\\ndiavola x\\nmarinara 5\\n' | "
      "\"$0\" \"$@\""};
  for (std::string& arg : ServiceCommand("waiter", {"--strict"})) {
    command.push_back(std::move(arg));
  }
  RunResult waiter = RunToEnd(command, absl::Seconds(60));
  EXPECT_EQ(waiter.exit_status, 3) << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err,
                                "stdin:3: table \"x\" is not a "
                                "number (--strict: stopping)"))
      << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err, "2 sent, 2 acknowledged"))
      << waiter.err;
  EXPECT_EQ(LinesWith(waiter.out, "-> ").size(), 2u) << waiter.out;
  EXPECT_EQ(Orders(), 2);
}

// Nothing placed before the bad line: nothing was done, as for a file.
TEST_F(WaiterTest, StrictPipeWithABadFirstLineSendsNothing) {
  std::vector<std::string> command = {
      "/bin/sh", "-c", "printf 'diavola x\\nmarinara 5\\n' | \"$0\" \"$@\""};
  for (std::string& arg : ServiceCommand("waiter", {"--strict"})) {
    command.push_back(std::move(arg));
  }
  RunResult waiter = RunToEnd(command, absl::Seconds(60));
  EXPECT_EQ(waiter.exit_status, 1) << waiter.err;
  EXPECT_EQ(Orders(), 0);
}

// `waiter < /dev/zero`: one endless line. Refused at the line reader's limit,
// quickly and with a clear error, within a 1 GiB address space (the waiter
// needs about a third of that; before the limit it grew until memory ran out).
TEST_F(WaiterTest, AnEndlessLineIsRefusedQuicklyInBoundedMemory) {
  std::vector<std::string> command = {
      "/bin/sh", "-c", "ulimit -v 1048576 && exec \"$0\" \"$@\" </dev/zero"};
  for (std::string& arg : ServiceCommand("waiter", {})) {
    command.push_back(std::move(arg));
  }
  absl::Time start = absl::Now();
  RunResult waiter = RunToEnd(command, absl::Seconds(60));
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(waiter.exit_status, 1) << waiter.err;
  EXPECT_TRUE(absl::StrContains(
      waiter.err,
      "stdin: line 1 is longer than 65536 bytes; input not read further"))
      << waiter.err;
  EXPECT_EQ(Orders(), 0);
}

// `waiter --file f | head -1`: the reader of standard output leaves early.
// 2000 acknowledgements are far more than the pipe and head take, so later
// writes meet a pipe with no reader. The waiter stops printing, still delivers
// every order and reports on standard error; the exit status says what became
// of the orders.
TEST_F(WaiterTest, AClosedStandardOutputStopsThePrintingNotTheOrders) {
  std::string orders;
  for (int i = 0; i < 2000; ++i) orders += "margherita 3\n";
  std::string path = WriteFile("many.txt", orders);
  std::vector<std::string> command = {"/bin/bash", "-c",
                                      "\"$@\" | head -n 1 >/dev/null; echo "
                                      "\"waiter exit ${PIPESTATUS[0]}\" >&2",
                                      "bash"};
  for (std::string& arg : ServiceCommand("waiter", {"--file=" + path})) {
    command.push_back(std::move(arg));
  }
  RunResult run = RunToEnd(command, absl::Seconds(60));
  EXPECT_TRUE(absl::StrContains(run.err, "waiter exit 0")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "standard output"))
      << "says it stopped printing: " << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "2000 sent, 2000 acknowledged"))
      << run.err;
  EXPECT_EQ(Orders(), 2000);
}

TEST_F(WaiterTest, StandardInputIsReadLineByLine) {
  RunResult waiter = RunWaiter({}, "calzone 8\nromana 8\n");
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err;
  std::vector<std::string> lines =
      absl::StrSplit(waiter.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << waiter.out;
  // One table, one partition, in the order placed.
  EXPECT_TRUE(absl::StrContains(lines[0], "calzone for table 8"));
  EXPECT_TRUE(absl::StrContains(lines[0], "offset 0"));
  EXPECT_TRUE(absl::StrContains(lines[1], "offset 1"));
  EXPECT_EQ(Orders(), 2);
}

TEST_F(WaiterTest, LoadModePlacesCountOrdersAndSummarizes) {
  RunResult waiter = RunWaiter({"--count=3000", "--seed=7"});
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err;
  EXPECT_TRUE(
      absl::StrContains(waiter.out, "3000 sent, 3000 acknowledged, 0 failed"))
      << waiter.out;
  EXPECT_TRUE(absl::StrContains(waiter.out, "p99")) << waiter.out;
  EXPECT_FALSE(absl::StrContains(waiter.err, "\r"))
      << "no progress noise off a terminal";
  EXPECT_EQ(Orders(), 3000);
}

TEST_F(WaiterTest, BrokerDownFailsWithinTheDeliveryTimeout) {
  TakeBrokerDown();
  absl::Time start = absl::Now();
  RunResult waiter = RunWaiter({"--delivery_timeout=2s", "margherita", "3"});
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(waiter.exit_status, 2) << waiter.err;
  EXPECT_TRUE(absl::StrContains(waiter.err, "NOT placed")) << waiter.err;
  EXPECT_EQ(waiter.out, "") << "nothing reported as placed";
  EXPECT_LT(took, absl::Seconds(10));
}

TEST_F(WaiterTest, BrokersFromTheEnvironment) {
  std::vector<std::string> command = {Binary("waiter/waiter")};
  for (std::string& flag : CaseFlags("waiter", {"margherita", "3"})) {
    command.push_back(std::move(flag));  // No --brokers.
  }
  RunResult waiter = RunToEnd(command, absl::Seconds(30), "",
                              {{"KAFKA_BOOTSTRAP_SERVERS", bootstrap()}});
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err;
  EXPECT_EQ(Orders(), 1);
}

TEST_F(WaiterTest, SigintInLoadModeStopsAndReportsWhatWasAcknowledged) {
  auto waiter = StartService("waiter", {"--count=1000000", "--rate=500"});
  ASSERT_TRUE(waiter.ok());
  // Stopped mid-run: once some orders are on the topic, long before all are.
  ASSERT_TRUE(WaitUntil([&] { return Orders() >= 100; }, absl::Seconds(30)))
      << (*waiter)->Stderr();
  (*waiter)->Signal(SIGINT);
  EXPECT_EQ((*waiter)->Wait(absl::Seconds(15)).value_or(-1), 0)
      << (*waiter)->Stderr();
  std::string out = (*waiter)->Stdout();
  int64_t sent = -1;
  int64_t acknowledged = -1;
  ASSERT_EQ(std::sscanf(out.c_str(), "%ld sent, %ld acknowledged", &sent,
                        &acknowledged),
            2)
      << out;
  EXPECT_GT(sent, 0);
  EXPECT_LT(sent, 1000000);
  EXPECT_EQ(acknowledged, sent);
  EXPECT_EQ(Orders(), acknowledged);
}

// The waiter's tests of --wait: a cook to cook, named for its READY lines.
class WaiterWaitTest : public WaiterTest {
 protected:
  void StartCook() {
    auto cook = StartService("cook", {"--prep_time=0", "--cook_id=cook-1"});
    ASSERT_TRUE(cook.ok()) << cook.status();
    cook_ = *std::move(cook);
  }
  std::unique_ptr<Process> cook_;
};

TEST_F(WaiterWaitTest, OneOrderWaitsForItsPizza) {
  StartCook();
  RunResult waiter = RunWaiter({"--wait", "margherita", "17"});
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err << cook_->Stderr();
  std::vector<std::string> lines =
      absl::StrSplit(waiter.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << waiter.out;
  // "order ID: margherita for table 17 -> ...", then its READY.
  ASSERT_TRUE(absl::StartsWith(lines[0], "order ")) << lines[0];
  const std::string id = lines[0].substr(6, 36);
  EXPECT_TRUE(absl::StartsWith(
      lines[1],
      absl::StrCat("ready: margherita for table 17 (order ", id, ") after ")))
      << lines[1];
  EXPECT_TRUE(absl::EndsWith(lines[1], " s, cooked by cook-1")) << lines[1];
}

TEST_F(WaiterWaitTest, AFileOfOrdersWaitsForEachPizza) {
  StartCook();
  std::string file =
      WriteFile("orders.txt", "calzone 8\nromana 8\n# none\nmarinara 30\n");
  RunResult waiter = RunWaiter({"--wait", "--file=" + file});
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err << cook_->Stderr();
  EXPECT_EQ(LinesWith(waiter.out, "ready: ").size(), 3u) << waiter.out;
  EXPECT_EQ(LinesWith(waiter.out, "ready: calzone for table 8 (order ").size(),
            1u)
      << waiter.out;
  EXPECT_EQ(
      LinesWith(waiter.out, "ready: marinara for table 30 (order ").size(), 1u)
      << waiter.out;
  EXPECT_TRUE(absl::StrContains(waiter.err, "3 of 3 ready, 0 not ready"))
      << waiter.err;
}

TEST_F(WaiterWaitTest, LoadModeReportsPlacedToReadyPercentiles) {
  StartCook();
  RunResult waiter = RunWaiter({"--wait", "--count=200", "--seed=3"});
  EXPECT_EQ(waiter.exit_status, 0) << waiter.err << cook_->Stderr();
  EXPECT_TRUE(absl::StrContains(
      waiter.out,
      "200 of 200 ready, 0 not ready within 1m; placed -> ready "
      "p50 "))
      << waiter.out;
  EXPECT_EQ(LinesWith(waiter.out, "ready: ").size(), 0u)
      << "no line per order in load mode";
}

TEST_F(WaiterWaitTest, APizzaNotReadyInTimeExitsFour) {
  // No cook: nothing is ever ready.
  absl::Time start = absl::Now();
  RunResult waiter =
      RunWaiter({"--wait", "--wait_timeout=3s", "margherita", "17"});
  EXPECT_EQ(waiter.exit_status, 4) << waiter.err;
  EXPECT_GE(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE(absl::StartsWith(waiter.out, "order ")) << "it was placed";
  EXPECT_TRUE(absl::StrContains(waiter.err,
                                "not ready: margherita for table 17 (order "))
      << waiter.err;
  EXPECT_EQ(Orders(), 1);
}

TEST_F(WaiterWaitTest, WaitFlagsFromTheEnvironment) {
  std::vector<std::string> command = ServiceCommand("waiter", {"romana", "4"});
  RunResult waiter = RunToEnd(command, absl::Seconds(30), "",
                              {{"WAIT", "true"}, {"WAIT_TIMEOUT", "2s"}});
  // Within the run's 30 s: the environment's 2 s, not the default minute.
  EXPECT_EQ(waiter.exit_status, 4) << waiter.err;
  EXPECT_TRUE(
      absl::StrContains(waiter.err, "not ready: romana for table 4 (order "))
      << waiter.err;
}

}  // namespace
}  // namespace kitchen::testing
