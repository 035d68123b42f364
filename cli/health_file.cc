// File: cli/health_file.cc

#include "cli/health_file.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::cli {

void HealthFile::Beat(const std::function<bool()>& ready) {
  if (path_.empty()) return;
  absl::Time now = absl::Now();
  if (now - last_write_ < absl::Seconds(1)) return;
  last_write_ = now;
  // Write aside and rename, so a probe never reads a half-written file.
  std::string temporary = absl::StrCat(path_, ".tmp");
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) {
    logging::Warning("cannot write health file %s", temporary);
    return;
  }
  std::fputs(ready() ? "ready\n" : "starting\n", file);
  std::fclose(file);
  if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
    logging::Warning("cannot write health file %s", path_);
  }
}

}  // namespace kitchen::cli
