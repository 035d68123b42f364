// File: logging/log.h
//
// The kitchen's log: one line per event on standard error, for a person
// watching a service (or `docker compose logs -f cook`). Each line is
//
//   2026-11-24T05:46:33.123Z INFO  cook: cooking margherita for table 17 ...
//
// i.e. UTC timestamp with milliseconds, level, service name, message. Lines are
// written with one write(2) each, so lines from several threads never
// interleave. A message is always one line: its control characters and
// invalid UTF-8 are escaped (logging/printable.h), so text from a record
// cannot forge a line or send the terminal escapes.
//
// Usage:
//   kitchen::logging::SetServiceName("cook");
//   kitchen::logging::Info("joined group %s", group);
//
// Abseil 20220623 has no absl/log; this is deliberately tiny and does only
// this.

#ifndef KITCHEN_LOGGING_LOG_H_
#define KITCHEN_LOGGING_LOG_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kitchen::logging {

enum class Level { kInfo, kWarning, kError };

// Names the service on every line; call once at the start of main().
void SetServiceName(absl::string_view name);

// Formats one log line (without the trailing newline), the message made
// Printable. Exposed for tests.
std::string FormatLine(absl::Time when, Level level, absl::string_view service,
                       absl::string_view message);

// Writes one line to standard error.
void Log(Level level, absl::string_view message);

template <typename... Args>
void Info(const absl::FormatSpec<Args...>& format, const Args&... args) {
  Log(Level::kInfo, absl::StrFormat(format, args...));
}

template <typename... Args>
void Warning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  Log(Level::kWarning, absl::StrFormat(format, args...));
}

template <typename... Args>
void Error(const absl::FormatSpec<Args...>& format, const Args&... args) {
  Log(Level::kError, absl::StrFormat(format, args...));
}

}  // namespace kitchen::logging

#endif  // KITCHEN_LOGGING_LOG_H_
