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
      if (sigwait(&signals_, &received) != 0 || received == kWakeSignal) return;
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
  pthread_kill(waiter_.native_handle(), kWakeSignal);
  waiter_.join();
}

}  // namespace kitchen::cli
