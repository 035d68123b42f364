// File: tests/trace_test.cc
//
// Trace context end to end (#18, README "Tracing an order"): one order's trace
// id followed from the waiter's traceparent header through the cook's log, the
// order events and the manager's ledger, with the real binaries against a
// broker (tests/e2e.bzl); and a record from a foreign producer, with no
// traceparent, traced from the cook on.

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"
#include "proto/order.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

class TraceTest : public BrokerTest {};

// The line of `text` that contains `needle`, or "".
std::string LineWith(const std::string& text, absl::string_view needle) {
  std::vector<std::string> lines = LinesWith(text, needle);
  return lines.empty() ? "" : lines.front();
}

// The trace ids of the traceparent headers of `records`; "" for a record
// without a valid one.
std::vector<std::string> TraceIds(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& record : records) {
    absl::optional<orders::TraceContext> trace = orders::TraceContext::Parse(
        record.header(orders::kTraceparentHeader).value_or(""));
    ids.push_back(trace.has_value() ? std::string(trace->trace_id()) : "");
  }
  return ids;
}

TEST_F(TraceTest, OneOrdersTraceIdRunsFromTheWaiterToTheLedger) {
  const std::string ledger = TempPath("ledger.jsonl");
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + ledger});
  ASSERT_TRUE(manager.ok()) << manager.status();

  RunResult waiter = RunWaiter({"--pizza=margherita", "--table=17"});
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
  std::smatch said;
  ASSERT_TRUE(std::regex_search(
      waiter.out, said,
      std::regex("order ([0-9a-f-]{36}): .* trace ([0-9a-f]{32})\n")))
      << waiter.out;
  const std::string order_id = said[1];
  const std::string trace_id = said[2];

  // The record's traceparent header holds the trace the waiter named.
  std::vector<Record> placed =
      ReadRecords(bootstrap(), topic(), 1, absl::Seconds(30));
  ASSERT_EQ(placed.size(), 1u);
  const std::string waiter_traceparent =
      placed[0].header(orders::kTraceparentHeader).value_or("");
  absl::optional<orders::TraceContext> waiter_span =
      orders::TraceContext::Parse(waiter_traceparent);
  ASSERT_TRUE(waiter_span.has_value()) << waiter_traceparent;
  EXPECT_EQ(waiter_span->trace_id(), trace_id);
  EXPECT_TRUE(waiter_span->sampled());

  // The cook's lines about the order name it.
  ASSERT_TRUE((*cook)->WaitForStderr(
      absl::StrCat("ready: margherita for table 17 (order ", order_id),
      absl::Seconds(30)))
      << (*cook)->Stderr();
  const std::string log = (*cook)->Stderr();
  EXPECT_TRUE(absl::StrContains(LineWith(log, "cooking margherita"),
                                absl::StrCat("trace ", trace_id)))
      << log;
  EXPECT_TRUE(absl::StrContains(LineWith(log, "ready: margherita"),
                                absl::StrCat("trace ", trace_id)))
      << log;

  // COOKING and READY carry it, with the cook's span, not the waiter's.
  std::vector<Record> events =
      ReadRecords(bootstrap(), status_topic(), 2, absl::Seconds(30));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(TraceIds(events), std::vector<std::string>(2, trace_id));
  for (const Record& event : events) {
    absl::optional<orders::TraceContext> cook_span =
        orders::TraceContext::Parse(
            event.header(orders::kTraceparentHeader).value_or(""));
    ASSERT_TRUE(cook_span.has_value());
    EXPECT_NE(cook_span->span_id(), waiter_span->span_id());
  }

  // The ledger's line of the order records it.
  EXPECT_TRUE(
      WaitUntil([&] { return absl::StrContains(ReadFile(ledger), order_id); },
                absl::Seconds(30)))
      << (*manager)->Stderr();
  EXPECT_TRUE(
      absl::StrContains(LineWith(ReadFile(ledger), order_id),
                        absl::StrCat("\"trace_id\":\"", trace_id, "\"")))
      << ReadFile(ledger);
}

TEST_F(TraceTest, ARecordWithoutTraceparentStartsATraceAtTheCook) {
  const std::string ledger = TempPath("ledger.jsonl");
  auto cook = StartService("cook", {"--prep_time=0"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + ledger});
  ASSERT_TRUE(manager.ok()) << manager.status();
  // A foreign producer's order: no headers at all.
  kitchen::v1::Order order = orders::NewOrder("marinara", 5, absl::Now());
  ASSERT_TRUE(
      ProduceRaw(bootstrap(), topic(), "5", order.SerializeAsString()).ok());

  ASSERT_TRUE(
      (*cook)->WaitForStderr("ready: marinara for table 5", absl::Seconds(30)))
      << (*cook)->Stderr();
  std::smatch said;
  const std::string ready = LineWith((*cook)->Stderr(), "ready: marinara");
  ASSERT_TRUE(
      std::regex_search(ready, said, std::regex("trace ([0-9a-f]{32})")))
      << ready;
  const std::string cook_trace = said[1];
  std::vector<Record> events =
      ReadRecords(bootstrap(), status_topic(), 2, absl::Seconds(30));
  EXPECT_EQ(TraceIds(events), std::vector<std::string>(2, cook_trace));
  // The manager continues the record as it found it: a trace of its own.
  ASSERT_TRUE(WaitUntil(
      [&] { return absl::StrContains(ReadFile(ledger), order.order_id()); },
      absl::Seconds(30)))
      << (*manager)->Stderr();
  std::smatch recorded;
  const std::string line = LineWith(ReadFile(ledger), order.order_id());
  ASSERT_TRUE(std::regex_search(line, recorded,
                                std::regex("\"trace_id\":\"([0-9a-f]{32})\"")))
      << line;
  EXPECT_NE(recorded[1], cook_trace)
      << "no traceparent: each service starts its own trace";
}

}  // namespace
}  // namespace kitchen::testing
