// File: cli/line_reader.cc

#include "cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kitchen::cli {

absl::optional<std::string> LineReader::Fail(absl::Status status) {
  status_ = std::move(status);
  at_end_ = true;
  buffer_.clear();
  buffer_.shrink_to_fit();
  start_ = searched_ = 0;
  return absl::nullopt;
}

absl::optional<std::string> LineReader::Next(
    absl::Notification& stop, const std::function<void()>& while_waiting) {
  if (!status_.ok()) return absl::nullopt;
  while (true) {
    // Only what was read since the last search is searched: a long line is
    // not scanned again for every chunk of it.
    size_t newline = buffer_.find('\n', searched_);
    size_t end = newline != std::string::npos ? newline : buffer_.size();
    if (end - start_ > kMaxLineBytes) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("line ", lines_ + 1, " is longer than ", kMaxLineBytes,
                       " bytes; input not read further")));
    }
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(start_, newline - start_);
      start_ = newline + 1;
      searched_ = start_;
      ++lines_;
      return line;
    }
    if (at_end_) {
      if (start_ == buffer_.size()) return absl::nullopt;
      std::string last = buffer_.substr(start_);  // Without a newline.
      buffer_.clear();
      start_ = searched_ = 0;
      ++lines_;
      return last;
    }
    // The lines returned go before more is read: one move per read, not one
    // per line.
    buffer_.erase(0, start_);
    start_ = 0;
    searched_ = buffer_.size();
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
      return Fail(absl::ErrnoToStatus(errno, "cannot read input"));
    }
    if (got == 0) {
      at_end_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }
}

}  // namespace kitchen::cli
