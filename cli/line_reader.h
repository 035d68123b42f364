// File: cli/line_reader.h
//
// Reads lines from a file descriptor (an order file, a pipe, a terminal)
// without ever blocking for long, so that the waiter notices SIGINT/SIGTERM
// while a person is not typing.
//
// Usage:
//   LineReader reader(STDIN_FILENO);
//   while (absl::optional<std::string> line = reader.Next(stop)) Handle(*line);

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
  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its newline; nullopt at the end of input, on `stop`,
  // or on a read error (then status() says which).
  // `while_waiting`, if given, runs every 100 ms while no input comes (the
  // waiter serves its producer's acknowledgements there).
  absl::optional<std::string> Next(
      absl::Notification& stop,
      const std::function<void()>& while_waiting = nullptr);

  const absl::Status& status() const { return status_; }

 private:
  int fd_;
  bool at_end_ = false;
  std::string buffer_;
  absl::Status status_;
};

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_LINE_READER_H_
