// File: cli/usage.cc

#include "cli/usage.h"

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace kitchen::cli {
namespace {

bool IsKitchenFlagFile(absl::string_view filename) {
  // Abseil's own flags (--flagfile, --fromenv, ...) stay under --helpfull.
  return !absl::StrContains(filename, "absl/");
}

}  // namespace

void ConfigureHelp(absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_helpshort_flags = &IsKitchenFlagFile;
  config.contains_help_flags = &IsKitchenFlagFile;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace kitchen::cli
