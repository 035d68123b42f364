// File: manager/ledger_line.h
//
// One line of the ledger: an order and where it was read, as a flat JSON object
// that a person can read and any program can parse:
//
//   {"order_id":"3f2a...","pizza":"margherita","table":17,
//    "placed_at":"2026-11-24T05:58:19.065Z","topic":"pizza-order",
//    "partition":2,
//    "offset":0,"recorded_at":"2026-11-24T05:58:19.080Z",
//    "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
//
// A record that was not an order and went to the dead-letter topic has a line
// of its own kind, so that the ledger knows every position it passed (and a
// rebalance never parks that record again); it is not an order:
//
//   {"dead_lettered":true,"topic":"pizza-order","partition":3,"offset":12,
//    "reason":"not an order: ...","recorded_at":"2026-11-24T05:58:19.080Z"}
//
// trace_id, the order's trace (orders/trace_context.h), is left out when the
// manager had none (ledgers written before the kitchen traced have none);
// placed_at is null and order_id "" for orders from producers that do not set
// them; a placed_at outside the years 0001 to 9999 (a foreign producer's clock)
// is written as null with "placed_at_unix_ms" beside it. Written by hand
// (offsets stay numbers, and formatting stays off the profile: figures in
// ledger_line.cc); read with protobuf's JSON parser (ledger_line.proto), every
// number checked against its range.
//
// Usage:
//   std::string line = FormatLedgerLine(entry);  // no trailing newline
//   absl::StatusOr<LedgerEntry> back = ParseLedgerLine(line);

#ifndef KITCHEN_MANAGER_LEDGER_LINE_H_
#define KITCHEN_MANAGER_LEDGER_LINE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace kitchen::manager {

struct LedgerEntry {
  // A dead-lettered position, not an order: only topic, partition, offset,
  // reason and recorded_at are set.
  bool dead_lettered = false;
  std::string reason;
  std::string order_id;
  std::string pizza;
  int32_t table = 0;
  absl::optional<absl::Time> placed_at;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  absl::Time recorded_at;
  std::string trace_id;  // Empty: none.
};

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonString(absl::string_view text, std::string& out);

// Appends `when` as the ledger writes times, "2026-11-24T05:58:19.065Z" (UTC,
// milliseconds), without quotes.
void AppendUtcMillis(absl::Time when, std::string& out);

// Appends the JSON line for `entry` to `out`, without a newline.
void AppendLedgerLine(const LedgerEntry& entry, std::string& out);
std::string FormatLedgerLine(const LedgerEntry& entry);

// Parses one line. Unknown fields are ignored (newer writers may add some); a
// missing required field (pizza and table for an order; topic, partition,
// offset, recorded_at for both kinds), a trace_id that is not 32 lowercase
// hex digits (not all zeros), a number out of its range (table 1 to
// 2^31-1, partition 0 to 2^31-1, offset 0 to 2^63-2 so that one past it is an
// offset) or malformed JSON is InvalidArgument saying what is wrong.
absl::StatusOr<LedgerEntry> ParseLedgerLine(absl::string_view line);

}  // namespace kitchen::manager

#endif  // KITCHEN_MANAGER_LEDGER_LINE_H_
