// File: service/consumer_service_test.cc
//
// A consumer service's setup and exit statuses, run in the test's process:
// what is refused before anything connects (a cooperative assignor from -X or
// a properties file, a bad group), --print_kafka_config, and a whole run on an
// in-process dev broker (health file, start and stop lines, exit 0), a handler
// that cannot be made or fails (its exit status), and an assignment librdkafka
// refuses (exit 2, not a member that never consumes).

#include "service/consumer_service.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/command_line.h"
#include "cli/effective_config.h"
#include "cli/exit_codes.h"
#include "gtest/gtest.h"
#include "service/handler.h"
#include "service/loop_harness.h"

namespace kitchen::service {
namespace {

std::string TempPath(absl::string_view name) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  ::unlink(path.c_str());
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Counts the orders it is given; fails them all when told to; a partition
// start librdkafka refuses when told to.
class CountingHandler : public Handler {
 public:
  Progress progress() const override {
    return bad_start_ ? Progress::kOwnPositions : Progress::kStoredOffsets;
  }
  absl::Status Handle(const kitchen::v1::Order& order, const Position& at,
                      absl::Notification& stop) override {
    if (fail_) return absl::DataLossError("the book is on fire");
    absl::MutexLock lock(&mutex_);
    ++handled_;
    return absl::OkStatus();
  }
  absl::optional<int64_t> NextOffset(const std::string& topic,
                                     int32_t partition) const override {
    return -3;  // Neither an offset nor one of librdkafka's logical ones.
  }
  std::string Summary() const override {
    absl::MutexLock lock(&mutex_);
    return absl::StrCat(handled_, " handled");
  }

  bool fail_ = false;
  bool bad_start_ = false;

 private:
  mutable absl::Mutex mutex_;
  int handled_ = 0;
};

ServiceOptions Options(const std::string& group) {
  ServiceOptions options;
  options.name = "svc";
  options.group = group;
  options.detail = "for the test";
  options.handler_failure_exit = 3;
  return options;
}

// A factory of CountingHandlers that notes whether it was asked.
HandlerFactory Factory(bool& made, bool fail = false, bool bad_start = false) {
  return
      [&made, fail, bad_start]() -> absl::StatusOr<std::unique_ptr<Handler>> {
        made = true;
        auto handler = std::make_unique<CountingHandler>();
        handler->fail_ = fail;
        handler->bad_start_ = bad_start;
        return handler;
      };
}

class ConsumerServiceTest : public ::testing::Test {
 protected:
  // Nothing listens there, and the stop is asked already: a check that let
  // the service go on would be seen making its handler, then ending at once
  // with exit 0, not hanging the test.
  void SetUp() override {
    absl::SetFlag(&FLAGS_brokers, "127.0.0.1:1");
    stop_.Notify();
  }

  absl::FlagSaver flags_;
  absl::Notification stop_;
};

TEST_F(ConsumerServiceTest, CheckGroupAndTopicsNamesWhatIsWrong) {
  EXPECT_TRUE(
      CheckGroupAndTopics("cook", "pizza-order", "pizza-order.dlq").ok());
  EXPECT_EQ(CheckGroupAndTopics("", "pizza-order", "pizza-order.dlq").message(),
            "--group must not be empty");
  EXPECT_TRUE(absl::StrContains(
      CheckGroupAndTopics("cook", "pizza order", "dlq").message(),
      "topic: topic name \"pizza order\""));
  EXPECT_TRUE(absl::StrContains(
      CheckGroupAndTopics("cook", "pizza-order", "pizza-order").message(),
      "must not be the topic it serves"));
}

TEST_F(ConsumerServiceTest, AnEmptyGroupIsAUsageError) {
  bool made = false;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(service::Run(Options(""), {}, stop_, Factory(made)),
            cli::kExitUsage);
  EXPECT_TRUE(absl::StrContains(::testing::internal::GetCapturedStderr(),
                                "--group must not be empty"));
  EXPECT_FALSE(made);
}

TEST_F(ConsumerServiceTest,
       ACooperativeAssignorIsRefusedBeforeAnythingConnects) {
  bool made = false;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(
      service::Run(Options("refused"),
                   {{"partition.assignment.strategy", "cooperative-sticky"}},
                   stop_, Factory(made)),
      cli::kExitUsage);
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(
      said,
      "partition.assignment.strategy=cooperative-sticky is refused: "
      "librdkafka 2.0.2's cooperative-sticky rebalancing has bugs fixed only "
      "in later releases"))
      << said;
  EXPECT_TRUE(absl::StrContains(said, "#4800")) << said;
  EXPECT_FALSE(made);

  // From a properties file, mixed with another assignor; -X given later wins,
  // and here says nothing about it.
  std::string file = TempPath("client.properties");
  std::ofstream(file) << "partition.assignment.strategy = range, "
                         "cooperative-sticky\n";
  absl::SetFlag(&FLAGS_kafka_config_file, file);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(service::Run(Options("refused"), {{"client.id", "x"}}, stop_,
                         Factory(made)),
            cli::kExitUsage);
  said = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(
      said,
      "partition.assignment.strategy=range, cooperative-sticky is "
      "refused"))
      << said;
  EXPECT_FALSE(made);
}

TEST_F(ConsumerServiceTest, PrintKafkaConfigShowsTheConsumersSettingsAndExits) {
  absl::SetFlag(&FLAGS_print_kafka_config, true);
  bool made = false;
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(service::Run(Options("printing"), {{"sasl.password", "hunter2"}},
                         stop_, Factory(made)),
            cli::kExitOk);
  std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(absl::StrContains(printed, "group.id=printing\n")) << printed;
  EXPECT_TRUE(absl::StrContains(printed, "enable.auto.offset.store=false\n"))
      << printed;
  EXPECT_TRUE(absl::StrContains(printed, "bootstrap.servers=127.0.0.1:1\n"))
      << printed;
  EXPECT_TRUE(absl::StrContains(printed, "sasl.password=[redacted]\n"))
      << printed;
  EXPECT_FALSE(absl::StrContains(printed, "hunter2")) << printed;
  EXPECT_FALSE(made);
}

class ConsumerServiceRunTest : public ConsumerServiceTest {
 protected:
  void SetUp() override {
    auto harness = LoopHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    absl::SetFlag(&FLAGS_brokers, harness_->config().bootstrap_servers);
  }

  // Runs the service on a thread of its own; its exit status once it ends.
  void Start(ServiceOptions options, HandlerFactory factory,
             kafka::Properties properties = {{"session.timeout.ms", "6000"}}) {
    thread_ = std::thread([this, options, factory, properties] {
      exit_ = service::Run(options, properties, stop_, factory);
      ended_.Notify();
    });
  }
  int Stop() {
    stop_.Notify();
    thread_.join();
    return exit_;
  }
  void TearDown() override {
    if (thread_.joinable()) Stop();
  }

  std::unique_ptr<LoopHarness> harness_;
  std::thread thread_;
  absl::Notification ended_;
  int exit_ = -1;
};

TEST_F(ConsumerServiceRunTest, RunsUntilStoppedSayingSoAndExitsZero) {
  std::string health = TempPath("health");
  absl::SetFlag(&FLAGS_health_file, health);
  ASSERT_EQ(harness_->PlaceOrders(7).size(), 7u);
  bool made = false;
  ::testing::internal::CaptureStderr();
  Start(Options("running"), Factory(made));
  EXPECT_TRUE(WaitUntil([&] { return harness_->Committed("running") == 7; },
                        absl::Seconds(30)));
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(health) == "ready\n"; },
                        absl::Seconds(10)))
      << ReadFile(health);
  EXPECT_EQ(Stop(), cli::kExitOk);
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(made);
  EXPECT_TRUE(absl::StrContains(
      said, absl::StrCat("svc started in group running on pizza-order (for the "
                         "test), brokers ",
                         harness_->config().bootstrap_servers)))
      << said;
  EXPECT_TRUE(
      absl::StrContains(said, "svc stopped: 7 handled, 0 dead-lettered\n"))
      << said;
}

// A handler slow to make (the manager reading a long ledger): the health file
// says `starting` all the while, and `ready` only once the handler is made and
// the consumer has partitions. (A probe that ends startup must read it: the
// file is not rewritten meanwhile, deploy/k8s/30-manager.yaml.)
TEST_F(ConsumerServiceRunTest, TheHealthFileSaysStartingWhileTheHandlerIsMade) {
  std::string health = TempPath("health-slow");
  absl::SetFlag(&FLAGS_health_file, health);
  absl::Notification making, may_finish;
  bool made = false;
  HandlerFactory inner = Factory(made);
  Start(Options("slow"), [&]() -> absl::StatusOr<std::unique_ptr<Handler>> {
    making.Notify();
    may_finish.WaitForNotification();
    return inner();
  });
  ASSERT_TRUE(making.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // Longer than the health file's beat: nothing rewrites it as ready.
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_EQ(ReadFile(health), "starting\n");
  may_finish.Notify();
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(health) == "ready\n"; },
                        absl::Seconds(30)))
      << ReadFile(health);
  EXPECT_EQ(Stop(), cli::kExitOk);
}

TEST_F(ConsumerServiceRunTest,
       AHandlerThatCannotBeMadeOrFailsExitsWithItsStatus) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(
      service::Run(Options("unmade"), {}, stop_,
                   []() -> absl::StatusOr<std::unique_ptr<Handler>> {
                     return absl::FailedPreconditionError("ledger is locked");
                   }),
      3);
  EXPECT_TRUE(absl::StrContains(::testing::internal::GetCapturedStderr(),
                                "ledger is locked"));

  ASSERT_EQ(harness_->PlaceOrders(1).size(), 1u);
  bool made = false;
  ::testing::internal::CaptureStderr();
  Start(Options("failing"), Factory(made, /*fail=*/true));
  ASSERT_TRUE(ended_.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(Stop(), 3);
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(said, "svc stopped: 0 handled")) << said;
  EXPECT_TRUE(absl::StrContains(said, "the book is on fire")) << said;
  EXPECT_EQ(harness_->Committed("failing"), 0);
}

TEST_F(ConsumerServiceRunTest, AnAssignmentLibrdkafkaRefusesStopsTheService) {
  bool made = false;
  ::testing::internal::CaptureStderr();
  Start(Options("unassignable"),
        Factory(made, /*fail=*/false, /*bad_start=*/true));
  // Not a member that sits in its group consuming nothing: it ends, exit 2.
  ASSERT_TRUE(ended_.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(Stop(), cli::kExitKafka);
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(
      said,
      "cannot take the partitions assigned (pizza-order[0,1,2]): "
      "rd_kafka_assign"))
      << said;
}

}  // namespace
}  // namespace kitchen::service
