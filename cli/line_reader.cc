// File: cli/line_reader.cc

#include "cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace kitchen::cli {

absl::optional<std::string> LineReader::Next(
    absl::Notification& stop, const std::function<void()>& while_waiting) {
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (at_end_) {
      if (buffer_.empty()) return absl::nullopt;
      std::string last = std::move(buffer_);  // A last line without a newline.
      buffer_.clear();
      return last;
    }
    if (stop.HasBeenNotified()) return absl::nullopt;
    pollfd ready = {fd_, POLLIN, 0};
    if (::poll(&ready, 1, 100) == 0) {  // Nothing yet: look at `stop` again.
      if (while_waiting) while_waiting();
      continue;
    }
    char chunk[1 << 16];
    ssize_t got = ::read(fd_, chunk, sizeof(chunk));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) {
      status_ = absl::ErrnoToStatus(errno, "cannot read input");
      return absl::nullopt;
    }
    if (got == 0) {
      at_end_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }
}

}  // namespace kitchen::cli
