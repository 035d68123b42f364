// File: tests/process.h
//
// Real processes for end-to-end tests. A Process runs a kitchen binary with its
// standard output and error captured to files under the test's temporary
// folder, and is always stopped: its destructor sends SIGTERM, then SIGKILL if
// it lingers, and the child is killed by the kernel if the test process itself
// dies (PR_SET_PDEATHSIG).
//
// Usage:
//   auto broker = Process::Start(
//       "devbroker", {Binary("deploy/devbroker/devbroker"), "--port", "0"});
//   absl::StatusOr<std::string> address =
//       (*broker)->WaitForStdoutLine(absl::Seconds(10));

#ifndef KITCHEN_TESTS_PROCESS_H_
#define KITCHEN_TESTS_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kitchen::testing {

// Path of a binary built by Bazel, given its workspace-relative path.
std::string Binary(absl::string_view workspace_path);

// A fresh path under the test's temporary folder.
std::string TempPath(absl::string_view name);

std::string ReadFile(const std::string& path);

class Process {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;

  // Starts argv[0] with `argv`; `name` names its log files. `environment` is
  // added to the test's own environment; standard input comes from
  // `stdin_path`.
  static absl::StatusOr<std::unique_ptr<Process>> Start(
      absl::string_view name, std::vector<std::string> argv,
      const Environment& environment = {},
      const std::string& stdin_path = "/dev/null");

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Waits for the process to end: its exit status, or 128 + signal if a signal
  // ended it. DeadlineExceeded if it is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  bool running();

  std::string Stdout() const { return ReadFile(stdout_path_); }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  // Waits until standard error (where services log) contains `text`.
  bool WaitForStderr(absl::string_view text, absl::Duration timeout) const;
  // Waits for the first whole line on standard output.
  absl::StatusOr<std::string> WaitForStdoutLine(absl::Duration timeout) const;

 private:
  Process(pid_t pid, std::string stdout_path, std::string stderr_path)
      : pid_(pid),
        stdout_path_(std::move(stdout_path)),
        stderr_path_(std::move(stderr_path)) {}

  pid_t pid_;
  bool reaped_ = false;
  int exit_status_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

struct RunResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};

// Runs a command to its end (killed after `timeout`), with standard input from
// `input`.
RunResult RunToEnd(std::vector<std::string> argv, absl::Duration timeout,
                   const std::string& input = "",
                   const Process::Environment& environment = {});

}  // namespace kitchen::testing

#endif  // KITCHEN_TESTS_PROCESS_H_
