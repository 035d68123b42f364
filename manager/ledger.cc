// File: manager/ledger.cc

#include "manager/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::manager {
namespace {

absl::Status FileError(int error, absl::string_view what,
                       const std::string& path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

// Writes all of `data` at the end of `fd` (opened O_APPEND).
absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return FileError(errno, "cannot write ledger", path);
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// Makes the name of a file just created in `path`'s directory durable: without
// it a crash can leave the file's data on disk and no name for it.
absl::Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string directory = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FileError(errno, "cannot open directory", directory);
  absl::Status synced = absl::OkStatus();
  if (::fsync(fd) != 0) synced = FileError(errno, "cannot sync", directory);
  ::close(fd);
  return synced;
}

}  // namespace

absl::StatusOr<LedgerScan> ScanLedger(
    int fd, const std::string& path,
    const std::function<void(const LedgerEntry&)>& on_entry) {
  LedgerScan scan;
  std::string pending;  // The current, not yet finished line.
  char buffer[1 << 16];
  int64_t position = 0;
  while (true) {
    ssize_t got = ::pread(fd, buffer, sizeof(buffer), position);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return FileError(errno, "cannot read ledger", path);
    if (got == 0) break;
    position += got;
    absl::string_view chunk(buffer, static_cast<size_t>(got));
    while (!chunk.empty()) {
      size_t newline = chunk.find('\n');
      if (newline == absl::string_view::npos) {
        pending.append(chunk.data(), chunk.size());
        break;
      }
      pending.append(chunk.data(), newline);
      chunk.remove_prefix(newline + 1);
      int64_t line_number = scan.lines + 1;
      absl::StatusOr<LedgerEntry> entry = ParseLedgerLine(pending);
      if (!entry.ok()) {
        return absl::DataLossError(absl::StrCat(
            path, ":", line_number, ": ", entry.status().message(),
            " (the ledger is damaged in the middle; it is left untouched)"));
      }
      on_entry(*entry);
      ++scan.lines;
      scan.whole_bytes += static_cast<int64_t>(pending.size()) + 1;
      pending.clear();
    }
  }
  scan.torn_tail = std::move(pending);
  return scan;
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                  kLedgerFileMode);
  if (fd < 0) return FileError(errno, "cannot open ledger", path);
  std::unique_ptr<Ledger> ledger(new Ledger(path, fd));
  struct stat info {};
  if (::fstat(fd, &info) != 0)
    return FileError(errno, "cannot stat ledger", path);
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger ", path, " is not a regular file"));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("ledger ", path,
                       " is in use by another manager (it holds the lock); "
                       "one ledger has one writer"));
    }
    return FileError(errno, "cannot lock ledger", path);
  }
  // The ledger may have just been created (once per start: cheap).
  if (absl::Status synced = SyncDirectoryOf(path); !synced.ok()) return synced;

  Ledger* raw = ledger.get();
  absl::StatusOr<LedgerScan> scan = ScanLedger(
      fd, path, [raw](const LedgerEntry& entry) { raw->Remember(entry); });
  if (!scan.ok()) return scan.status();
  ledger->lines_ = scan->lines;
  ledger->size_ = scan->whole_bytes;
  if (!scan->torn_tail.empty()) {
    if (absl::Status repaired = ledger->SetAsideTornTail(*scan);
        !repaired.ok()) {
      return repaired;
    }
  }
  return ledger;
}

absl::Status Ledger::SetAsideTornTail(const LedgerScan& scan) {
  std::string side_path =
      absl::StrCat(path_, ".torn-", absl::ToUnixMillis(absl::Now()));
  int side = ::open(side_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    kLedgerFileMode);
  if (side < 0) return FileError(errno, "cannot create", side_path);
  absl::Status written = WriteAll(side, scan.torn_tail, side_path);
  if (written.ok() && ::fsync(side) != 0) {
    written = FileError(errno, "cannot sync", side_path);
  }
  ::close(side);
  if (written.ok()) written = SyncDirectoryOf(side_path);
  if (!written.ok()) return written;
  // Only once the torn bytes are safe elsewhere is the ledger cut back.
  if (::ftruncate(fd_, scan.whole_bytes) != 0 || ::fsync(fd_) != 0) {
    return FileError(errno, "cannot truncate ledger", path_);
  }
  logging::Warning(
      "ledger %s ended in a torn line (%d bytes after line %d, left by a crash "
      "mid-write): moved to %s and the ledger cut back to its last whole line",
      path_, scan.torn_tail.size(), scan.lines, side_path);
  return absl::OkStatus();
}

Ledger::~Ledger() { ::close(fd_); }

absl::Status Ledger::Append(const std::vector<LedgerEntry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  for (const LedgerEntry& entry : entries) {
    if (entry.offset == std::numeric_limits<int64_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot record ", entry.topic, "[", entry.partition, "] offset ",
          entry.offset, ": the next offset would overflow"));
    }
  }
  if (absl::Status named = CheckStillNamed(); !named.ok()) return named;
  buffer_.clear();
  for (const LedgerEntry& entry : entries) {
    AppendLedgerLine(entry, buffer_);
    buffer_.push_back('\n');
  }
  absl::Status written = WriteAll(fd_, buffer_, path_);
  if (written.ok() && ::fdatasync(fd_) != 0) {
    written = FileError(errno, "cannot sync ledger", path_);
  }
  if (!written.ok()) {
    // Leave no half-written batch behind: cut the ledger back to what it was.
    if (::ftruncate(fd_, size_) != 0) {
      logging::Error("cannot cut ledger %s back after a failed write: %s",
                     path_, std::strerror(errno));
    }
    return written;
  }
  size_ += static_cast<int64_t>(buffer_.size());
  lines_ += static_cast<int64_t>(entries.size());
  for (const LedgerEntry& entry : entries) Remember(entry);
  return absl::OkStatus();
}

absl::Status Ledger::CheckStillNamed() const {
  struct stat open_file {};
  if (::fstat(fd_, &open_file) != 0) {
    return FileError(errno, "cannot stat ledger", path_);
  }
  if (open_file.st_nlink == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger ", path_,
                     " was deleted while the manager ran: nothing more is "
                     "written to it"));
  }
  struct stat named {};
  if (::stat(path_.c_str(), &named) != 0 || named.st_dev != open_file.st_dev ||
      named.st_ino != open_file.st_ino) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ledger ", path_,
        " was renamed or replaced while the manager ran (the file open is no "
        "longer the file of that name): nothing more is written to it"));
  }
  return absl::OkStatus();
}

void Ledger::Remember(const LedgerEntry& entry) {
  std::pair<std::string, int32_t> key{entry.topic, entry.partition};
  int64_t& next = next_offsets_[key];
  if (entry.offset + 1 >= next) {
    next = entry.offset + 1;
    last_entries_[key] = entry;
  }
  if (entry.dead_lettered) ++dead_lettered_;
}

const LedgerEntry* Ledger::LastEntry(const std::string& topic,
                                     int32_t partition) const {
  auto found = last_entries_.find(std::make_pair(topic, partition));
  return found == last_entries_.end() ? nullptr : &found->second;
}

absl::optional<int64_t> Ledger::NextOffset(const std::string& topic,
                                           int32_t partition) const {
  auto found = next_offsets_.find(std::make_pair(topic, partition));
  if (found == next_offsets_.end()) return absl::nullopt;
  return found->second;
}

}  // namespace kitchen::manager
