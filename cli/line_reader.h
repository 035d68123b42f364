// File: cli/line_reader.h
//
// Reads lines from a file descriptor (an order file, a pipe, a terminal)
// without ever blocking for long, so that the waiter notices SIGINT/SIGTERM
// while a person is not typing. A line may hold at most kMaxLineBytes: a longer
// one (`waiter < /dev/zero`, a binary file) ends the input with an error naming
// its number, so memory stays bounded by the limit whatever the input is.
//
// Usage:
//   LineReader reader(STDIN_FILENO);
//   while (absl::optional<std::string> line = reader.Next(stop)) Handle(*line);
//   if (!reader.status().ok()) ...  // A read error or a line too long.

#ifndef KITCHEN_CLI_LINE_READER_H_
#define KITCHEN_CLI_LINE_READER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/types/optional.h"

namespace kitchen::cli {

class LineReader {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its newline; nullopt at the end of input, on `stop`,
  // on a read error or at a line longer than kMaxLineBytes (then status() says
  // which, and every later call returns nullopt).
  // `while_waiting`, if given, runs every 100 ms while no input comes (the
  // waiter serves its producer's acknowledgements there).
  absl::optional<std::string> Next(
      absl::Notification& stop,
      const std::function<void()>& while_waiting = nullptr);

  const absl::Status& status() const { return status_; }

 private:
  // Ends the input with `status`.
  absl::optional<std::string> Fail(absl::Status status);

  int fd_;
  size_t lines_ = 0;     // Returned so far.
  size_t start_ = 0;     // Where buffer_'s next line starts.
  size_t searched_ = 0;  // buffer_ up to here holds no newline after start_.
  bool at_end_ = false;
  std::string buffer_;
  absl::Status status_;
};

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_LINE_READER_H_
