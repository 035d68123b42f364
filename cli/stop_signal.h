// File: cli/stop_signal.h
//
// Turns SIGINT and SIGTERM into an absl::Notification that a service's loop
// checks, so a service stops at a point of its choosing: finish or abandon the
// current record, commit, leave the group. A second signal ends the process at
// once (exit 130), for a person whose Ctrl-C seems to hang.
//
// Construct it first thing in main(), before any thread starts: the signals are
// blocked in every thread and received by one thread of its own.
//
// Usage:
//   StopSignal stop_signal;
//   while (!stop_signal.stop().HasBeenNotified()) { ... }

#ifndef KITCHEN_CLI_STOP_SIGNAL_H_
#define KITCHEN_CLI_STOP_SIGNAL_H_

#include <atomic>
#include <csignal>
#include <thread>

#include "absl/synchronization/notification.h"

namespace kitchen::cli {

class StopSignal {
 public:
  StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  ~StopSignal();

  absl::Notification& stop() { return stop_; }

 private:
  sigset_t signals_;
  std::atomic<bool> destroying_{false};
  absl::Notification stop_;
  std::thread waiter_;
};

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_STOP_SIGNAL_H_
