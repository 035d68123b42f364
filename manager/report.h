// File: manager/report.h
//
// `manager report`: what the book says, read straight from a ledger file with
// no broker: how many orders, per pizza, per table, and the first and last
// order time. A damaged line is an error naming it; an unfinished last line (a
// manager writing right now, or a crash) is left out and mentioned.
//
// Usage:
//   absl::StatusOr<LedgerReport> report = ReportOnLedger("ledger.jsonl");
//   std::cout << FormatReportText(*report);
//   absl::Status printed = PrintReport("ledger.jsonl", /*json=*/false, stdout);

#ifndef KITCHEN_MANAGER_REPORT_H_
#define KITCHEN_MANAGER_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "manager/ledger_line.h"

namespace kitchen::manager {

struct LedgerReport {
  std::string path;
  int64_t orders = 0;
  std::map<std::string, int64_t> by_pizza;
  std::map<int32_t, int64_t> by_table;
  absl::optional<absl::Time> first_placed;  // Among orders that say when.
  absl::optional<absl::Time> last_placed;
  int64_t unfinished_bytes = 0;  // After the last newline.
  // Positions of records that were not orders (dead-lettered): not counted
  // as orders anywhere above.
  int64_t dead_lettered = 0;
};

absl::StatusOr<LedgerReport> ReportOnLedger(const std::string& path);

std::string FormatReportText(const LedgerReport& report);
std::string FormatReportJson(const LedgerReport& report);

// `manager report [--json]`: the ledger at `path` reported on, as text or
// JSON, to `out`.
absl::Status PrintReport(const std::string& path, bool json, std::FILE* out);

}  // namespace kitchen::manager

#endif  // KITCHEN_MANAGER_REPORT_H_
