// File: deploy/devbroker/control_test.cc
//
// Control commands against a real in-process mock cluster.

#include "deploy/devbroker/control.h"

#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"

namespace kitchen::devbroker {
namespace {

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = StartDevBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  absl::StatusOr<std::string> Run(absl::string_view line) {
    return RunControlCommand(broker_->cluster(), 3, line);
  }

  std::unique_ptr<MockCluster> broker_;
};

TEST_F(ControlTest, CarriesOutEachCommand) {
  EXPECT_EQ(Run("broker down 2").value_or(""), "broker 2 down");
  EXPECT_EQ(Run("broker up 2").value_or(""), "broker 2 up");
  EXPECT_EQ(Run("leader pizza-order 3 1").value_or(""),
            "leader of pizza-order/3 is broker 1");
  EXPECT_EQ(Run("coordinator group cook 3").value_or(""),
            "coordinator of group cook is broker 3");
  EXPECT_EQ(Run("errors Produce 2 NOT_LEADER_FOR_PARTITION").value_or(""),
            "next 2 Produce requests fail with NOT_LEADER_FOR_PARTITION");
  EXPECT_EQ(Run("  rtt 1 50 ").value_or(""), "broker 1 answers 50 ms later");
  EXPECT_TRUE(Run("help").ok());
}

TEST_F(ControlTest, NamesWhatIsWrong) {
  EXPECT_EQ(Run("broker down 7").status().message(),
            "no broker 7; brokers are 1 to 3");
  EXPECT_EQ(
      Run("broker sideways 1").status().message(),
      "usage: broker down ID | broker up ID (type help for all commands)");
  EXPECT_NE(Run("errors Produce 1 NOT_AN_ERROR")
                .status()
                .message()
                .find("unknown error \"NOT_AN_ERROR\""),
            std::string::npos);
  EXPECT_NE(Run("errors Lunch 1 REQUEST_TIMED_OUT")
                .status()
                .message()
                .find("unknown API \"Lunch\""),
            std::string::npos);
  EXPECT_NE(
      Run("leader pizza-order x 1").status().message().find("not a number"),
      std::string::npos);
  EXPECT_NE(Run("dance").status().message().find("unknown command \"dance\""),
            std::string::npos);
}

// A count is held in memory as that many error codes: a typo or a hostile
// line (errors Produce 2000000000 ...) must not take gigabytes.
TEST_F(ControlTest, BoundsTheCountOfInjectedErrors) {
  EXPECT_EQ(Run("errors Produce 10000 REQUEST_TIMED_OUT").value_or(""),
            "next 10000 Produce requests fail with REQUEST_TIMED_OUT");
  EXPECT_EQ(Run("errors Produce 10001 REQUEST_TIMED_OUT").status().message(),
            "count 10001 is more than 10000 requests at once");
  EXPECT_EQ(
      Run("errors Produce 99999999999 REQUEST_TIMED_OUT").status().message(),
      "count \"99999999999\" is not a number");
}

}  // namespace
}  // namespace kitchen::devbroker
