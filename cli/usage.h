// File: cli/usage.h
//
// --help for the kitchen's programs: the usage text, then every flag of the
// kitchen's own code (Abseil's default shows only flags defined in a file named
// after the program, which a thin main.cc is not).
//
// Usage (first thing in main):
//   ConfigureHelp(kUsage);

#ifndef KITCHEN_CLI_USAGE_H_
#define KITCHEN_CLI_USAGE_H_

#include "absl/strings/string_view.h"

namespace kitchen::cli {

void ConfigureHelp(absl::string_view usage);

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_USAGE_H_
