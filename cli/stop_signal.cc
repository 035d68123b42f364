// File: cli/stop_signal.cc

#include "cli/stop_signal.h"

#include <pthread.h>
#include <unistd.h>

#include <cstring>

#include "logging/log.h"

namespace kitchen::cli {
namespace {
// Sent by the destructor to end the waiting thread.
constexpr int kWakeSignal = SIGUSR1;
}  // namespace

StopSignal::StopSignal() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  waiter_ = std::thread([this] {
    while (true) {
      int received = 0;
      if (sigwait(&signals_, &received) != 0) return;
      if (received == kWakeSignal) {
        // Ours from the destructor, or anyone's kill -USR1: only the former
        // ends the thread, or SIGTERM would stop nothing from then on.
        if (destroying_.load()) return;
        logging::Warning("%s ignored: not a stop signal", strsignal(received));
        continue;
      }
      if (stop_.HasBeenNotified()) {
        logging::Warning("%s again: exiting now", strsignal(received));
        _exit(130);
      }
      logging::Info("%s received: finishing up (again to exit at once)",
                    strsignal(received));
      stop_.Notify();
    }
  });
}

StopSignal::~StopSignal() {
  destroying_.store(true);
  pthread_kill(waiter_.native_handle(), kWakeSignal);
  waiter_.join();
}

}  // namespace kitchen::cli
