// File: cli/exit_codes.h
//
// Exit statuses shared by every kitchen program (documented in README.md).

#ifndef KITCHEN_CLI_EXIT_CODES_H_
#define KITCHEN_CLI_EXIT_CODES_H_

namespace kitchen::cli {

// Exit statuses shared by every kitchen program (documented in README.md).
inline constexpr int kExitOk = 0;
// Bad flag, argument, input or configuration: nothing was done. 1 because that
// is what absl::ParseCommandLine exits with on an unknown flag.
inline constexpr int kExitUsage = 1;
// Kafka failed us (broker unreachable, delivery failed, consumer fatal error).
inline constexpr int kExitKafka = 2;
// waiter --wait: every order was placed, but a pizza was not READY within
// --wait_timeout (or the wait was interrupted).
inline constexpr int kExitNotReady = 4;

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_EXIT_CODES_H_
