// File: logging/log.cc

#include "logging/log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "logging/printable.h"

namespace kitchen::logging {
namespace {

absl::Mutex service_mutex;
std::string& ServiceName() {
  static auto* name = new std::string("kitchen");
  return *name;
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInfo:
      return "INFO ";
    case Level::kWarning:
      return "WARN ";
    case Level::kError:
      return "ERROR";
  }
  return "?    ";
}

}  // namespace

void SetServiceName(absl::string_view name) {
  absl::MutexLock lock(&service_mutex);
  ServiceName() = std::string(name);
}

std::string FormatLine(absl::Time when, Level level, absl::string_view service,
                       absl::string_view message) {
  // Messages carry outside text (pizza names, order ids, broker errors): each
  // is one line, with no control character to forge another or drive the
  // terminal.
  return absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", when, absl::UTCTimeZone()), " ",
      LevelName(level), " ", Printable(service), ": ", Printable(message));
}

void Log(Level level, absl::string_view message) {
  std::string service;
  {
    absl::MutexLock lock(&service_mutex);
    service = ServiceName();
  }
  std::string line =
      absl::StrCat(FormatLine(absl::Now(), level, service, message), "\n");
  // One write per line keeps concurrent lines whole; a short write to a
  // terminal or pipe is retried so the line is never cut.
  absl::string_view rest = line;
  while (!rest.empty()) {
    ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (written <= 0) return;  // Nowhere to report a failing stderr.
    rest.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace kitchen::logging
