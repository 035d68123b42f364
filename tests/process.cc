// File: tests/process.cc

#include "tests/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kitchen::testing {

std::string Binary(absl::string_view workspace_path) {
  const char* runfiles = std::getenv("TEST_SRCDIR");
  return absl::StrCat(runfiles != nullptr ? runfiles : ".", "/kitchen/",
                      workspace_path);
}

std::string TempPath(absl::string_view name) {
  static std::atomic<int> counter{0};
  const char* directory = std::getenv("TEST_TMPDIR");
  return absl::StrCat(directory != nullptr ? directory : "/tmp", "/", counter++,
                      "-", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(
    absl::string_view name, std::vector<std::string> argv,
    const Environment& environment, const std::string& stdin_path) {
  std::string stdout_path = TempPath(absl::StrCat(name, ".stdout"));
  std::string stderr_path = TempPath(absl::StrCat(name, ".stderr"));
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // The child: die with the test, write to the log files, become the program.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open(stdin_path.c_str(), O_RDONLY);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    for (const auto& [variable, value] : environment) {
      ::setenv(variable.c_str(), value.c_str(), 1);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return std::unique_ptr<Process>(new Process(pid, stdout_path, stderr_path));
}

Process::~Process() {
  if (!running()) return;
  Signal(SIGTERM);
  if (!Wait(absl::Seconds(10)).ok()) {
    Signal(SIGKILL);
    (void)Wait(absl::Seconds(10));
  }
}

void Process::Signal(int signal) {
  if (!reaped_) ::kill(pid_, signal);
}

bool Process::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    reaped_ = true;
    exit_status_ =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

absl::StatusOr<int> Process::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " still running after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return exit_status_;
}

bool Process::WaitForStderr(absl::string_view text,
                            absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StrContains(Stderr(), text)) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::StrContains(Stderr(), text);
}

absl::StatusOr<std::string> Process::WaitForStdoutLine(
    absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::string out = Stdout();
    size_t newline = out.find('\n');
    if (newline != std::string::npos) return out.substr(0, newline);
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no line on standard output within ", absl::FormatDuration(timeout),
      "; standard error:\n", Stderr()));
}

RunResult RunToEnd(std::vector<std::string> argv, absl::Duration timeout,
                   const std::string& input,
                   const Process::Environment& environment) {
  RunResult result;
  std::string input_path = TempPath("input");
  { std::ofstream(input_path) << input; }
  auto process =
      Process::Start("run", std::move(argv), environment, input_path);
  if (!process.ok()) {
    result.err = std::string(process.status().message());
    return result;
  }
  absl::StatusOr<int> status = (*process)->Wait(timeout);
  result.exit_status = status.ok() ? *status : -1;
  result.out = (*process)->Stdout();
  result.err = (*process)->Stderr();
  return result;
}

}  // namespace kitchen::testing
