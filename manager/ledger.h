// File: manager/ledger.h
//
// The ledger file: the manager's book of every order, one JSON line each
// (ledger_line.h), appended only, and the source of truth for where the manager
// reads next. Opening it
//   - takes an exclusive lock (flock), so a second manager on the same file is
//     refused instead of interleaving lines; the lock dies with the process,
//     even on SIGKILL;
//   - checks every line, and fails naming the line if one is not a ledger line;
//   - finds a torn last line (a crash mid-write: bytes after the last newline),
//     sets it aside in a side file next to the ledger and truncates the ledger
//     to its last whole line;
//   - learns the next offset of every partition, kept current in memory
//     afterwards, so a rebalance never re-reads the file.
// Append() returns only once the lines are on disk (fdatasync); if a write
// fails the ledger is cut back to where it was, so nothing half-written stays.
// The ledger and the torn-line side file are created with mode 0640
// (kLedgerFileMode), their directory synced so that their names survive a
// crash too.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<Ledger>> ledger =
//       Ledger::Open("ledger.jsonl");
//   (*ledger)->Append(entries);
//   absl::optional<int64_t> next = (*ledger)->NextOffset("pizza-order", 3);

#ifndef KITCHEN_MANAGER_LEDGER_H_
#define KITCHEN_MANAGER_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "manager/ledger_line.h"

namespace kitchen::manager {

// The mode the ledger and its side files are created with: the book of every
// order is read by its owner and its group (a report job), written only by the
// manager, and none of anyone else's business.
inline constexpr int kLedgerFileMode = 0640;

// What reading a whole ledger found.
struct LedgerScan {
  int64_t lines = 0;        // Whole, valid lines.
  int64_t whole_bytes = 0;  // Bytes up to and including the last newline.
  std::string torn_tail;    // Bytes after the last newline (a torn write).
};

// Reads every whole line of the ledger open at `fd` from the start, calling
// `on_entry` for each. A line that does not parse is DataLoss naming `path` and
// the line number.
absl::StatusOr<LedgerScan> ScanLedger(
    int fd, const std::string& path,
    const std::function<void(const LedgerEntry&)>& on_entry);

class Ledger {
 public:
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(const std::string& path);

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  ~Ledger();  // Releases the lock.

  // Writes the entries' lines and waits until they are durable. First checks
  // that the file open is still the file at the ledger's path
  // (CheckStillNamed): lines written to a file deleted or renamed under the
  // manager would be lost, or land in a ledger another manager may lock.
  absl::Status Append(const std::vector<LedgerEntry>& entries);

  // One past the last recorded offset of the partition (an order's or a
  // dead-lettered record's); nullopt if it has none.
  absl::optional<int64_t> NextOffset(const std::string& topic,
                                     int32_t partition) const;

  // The line of the partition's last recorded offset; null if it has none.
  const LedgerEntry* LastEntry(const std::string& topic,
                               int32_t partition) const;

  const std::string& path() const { return path_; }
  int64_t lines() const { return lines_; }
  // Of those, the orders, and the positions of records dead-lettered.
  int64_t orders() const { return lines_ - dead_lettered_; }
  int64_t dead_lettered() const { return dead_lettered_; }

  // FailedPrecondition if the ledger's file was deleted, or its path now names
  // another file (renamed, replaced) since it was opened.
  absl::Status CheckStillNamed() const;

 private:
  Ledger(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status SetAsideTornTail(const LedgerScan& scan);
  // Keeps `entry`'s position (and the entry, if it is its partition's last).
  void Remember(const LedgerEntry& entry);

  std::string path_;
  int fd_;
  int64_t lines_ = 0;
  int64_t dead_lettered_ = 0;
  int64_t size_ = 0;
  absl::flat_hash_map<std::pair<std::string, int32_t>, int64_t> next_offsets_;
  absl::flat_hash_map<std::pair<std::string, int32_t>, LedgerEntry>
      last_entries_;
  std::string buffer_;  // Reused by Append().
};

}  // namespace kitchen::manager

#endif  // KITCHEN_MANAGER_LEDGER_H_
