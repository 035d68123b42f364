// File: cli/stop_signal_test.cc
//
// StopSignal as a service's main() meets it: SIGTERM and SIGINT stop the loop,
// and a signal that is not a stop signal (SIGUSR1, which StopSignal itself uses
// to end its thread) changes nothing.

#include "cli/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kitchen::cli {
namespace {

TEST(StopSignalTest, SigtermStops) {
  StopSignal stop_signal;
  ASSERT_FALSE(stop_signal.stop().HasBeenNotified());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_TRUE(
      stop_signal.stop().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(StopSignalTest, SigintStops) {
  StopSignal stop_signal;
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_TRUE(
      stop_signal.stop().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

// A SIGUSR1 from outside (kill -USR1) used to end the signal-waiting thread,
// after which SIGTERM no longer stopped the service.
TEST(StopSignalTest, ASigusr1FromOutsideLeavesSigtermWorking) {
  StopSignal stop_signal;
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  EXPECT_FALSE(stop_signal.stop().WaitForNotificationWithTimeout(
      absl::Milliseconds(200)))
      << "SIGUSR1 is not a stop signal";
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_TRUE(
      stop_signal.stop().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace kitchen::cli
