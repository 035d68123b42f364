// File: manager/report.cc

#include "manager/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging/printable.h"
#include "manager/ledger.h"

namespace kitchen::manager {
namespace {

std::string TimeText(const absl::optional<absl::Time>& when) {
  if (!when.has_value()) return "unknown";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", *when, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<LedgerReport> ReportOnLedger(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot open ledger ", path));
  }
  LedgerReport report;
  report.path = path;
  absl::StatusOr<LedgerScan> scan =
      ScanLedger(fd, path, [&](const LedgerEntry& e) {
        if (e.dead_lettered) {
          ++report.dead_lettered;
          return;
        }
        ++report.orders;
        ++report.by_pizza[e.pizza];
        ++report.by_table[e.table];
        if (e.placed_at.has_value()) {
          if (!report.first_placed || *e.placed_at < *report.first_placed) {
            report.first_placed = e.placed_at;
          }
          if (!report.last_placed || *e.placed_at > *report.last_placed) {
            report.last_placed = e.placed_at;
          }
        }
      });
  ::close(fd);
  if (!scan.ok()) return scan.status();
  report.unfinished_bytes = static_cast<int64_t>(scan->torn_tail.size());
  return report;
}

std::string FormatReportText(const LedgerReport& report) {
  std::string text = absl::StrFormat(
      "ledger %s: %d orders\nfirst order placed %s\nlast order placed  %s\n",
      logging::Printable(report.path), report.orders,
      TimeText(report.first_placed), TimeText(report.last_placed));
  // Pizzas most ordered first; tables in number order.
  std::vector<std::pair<std::string, int64_t>> pizzas(report.by_pizza.begin(),
                                                      report.by_pizza.end());
  std::stable_sort(
      pizzas.begin(), pizzas.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  absl::StrAppend(&text, "\nper pizza:\n");
  for (const auto& [pizza, count] : pizzas) {
    absl::StrAppendFormat(&text, "  %-24s %8d\n", logging::Printable(pizza),
                          count);
  }
  absl::StrAppend(&text, "\nper table:\n");
  for (const auto& [table, count] : report.by_table) {
    absl::StrAppendFormat(&text, "  table %-4d %8d\n", table, count);
  }
  if (report.dead_lettered > 0) {
    absl::StrAppendFormat(&text,
                          "\n(%d records that were not orders went to the "
                          "dead-letter topic)\n",
                          report.dead_lettered);
  }
  if (report.unfinished_bytes > 0) {
    absl::StrAppendFormat(
        &text, "\n(an unfinished last line of %d bytes was left out)\n",
        report.unfinished_bytes);
  }
  return text;
}

std::string FormatReportJson(const LedgerReport& report) {
  auto quoted = [](absl::string_view text) {
    std::string out;
    AppendJsonString(text, out);
    return out;
  };
  auto time = [&](const absl::optional<absl::Time>& when) {
    return when.has_value() ? quoted(TimeText(when)) : std::string("null");
  };
  std::string json = absl::StrCat(
      "{\"ledger\":", quoted(report.path), ",\"orders\":", report.orders,
      ",\"first_placed_at\":", time(report.first_placed),
      ",\"last_placed_at\":", time(report.last_placed), ",\"per_pizza\":{");
  bool first = true;
  for (const auto& [pizza, count] : report.by_pizza) {
    absl::StrAppend(&json, first ? "" : ",", quoted(pizza), ":", count);
    first = false;
  }
  absl::StrAppend(&json, "},\"per_table\":{");
  first = true;
  for (const auto& [table, count] : report.by_table) {
    absl::StrAppend(&json, first ? "" : ",", "\"", table, "\":", count);
    first = false;
  }
  absl::StrAppend(&json, "},\"dead_lettered\":", report.dead_lettered,
                  ",\"unfinished_bytes\":", report.unfinished_bytes, "}\n");
  return json;
}

absl::Status PrintReport(const std::string& path, bool json, std::FILE* out) {
  absl::StatusOr<LedgerReport> report = ReportOnLedger(path);
  if (!report.ok()) return report.status();
  std::fputs(
      (json ? FormatReportJson(*report) : FormatReportText(*report)).c_str(),
      out);
  return absl::OkStatus();
}

}  // namespace kitchen::manager
