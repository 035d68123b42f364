// File: cli/health_file.cc

#include "cli/health_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::cli {
namespace {

// Writes aside and renames, so a probe never reads a half-written file.
absl::Status Write(const std::string& path, const char* content) {
  std::string temporary = absl::StrCat(path, ".tmp");
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write health file ", temporary, ": ", std::strerror(errno)));
  }
  bool written = std::fputs(content, file) >= 0;
  written = std::fclose(file) == 0 && written;
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write health file ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status HealthFile::Prepare(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  return Write(path, "starting\n");
}

void HealthFile::Beat(
    const std::function<bool()>& ready,
    const std::function<std::vector<std::string>()>& waiting) {
  if (path_.empty()) return;
  absl::Time now = now_();
  if (now - last_write_ < absl::Seconds(1)) return;
  last_write_ = now;
  std::string content = ready() ? "ready\n" : "starting\n";
  if (waiting) {
    for (const std::string& line : waiting()) {
      absl::StrAppend(&content, "waiting: ", line, "\n");
    }
  }
  absl::Status written = Write(path_, content.c_str());
  if (!written.ok() && !failing_) {
    logging::Warning("%s (the probes will see the service as dead)",
                     written.message());
  } else if (written.ok() && failing_) {
    logging::Info("health file %s written again", path_);
  }
  failing_ = !written.ok();
}

}  // namespace kitchen::cli
