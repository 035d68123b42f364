// File: orders/trace_context_test.cc

#include "orders/trace_context.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace kitchen::orders {
namespace {

constexpr char kValid[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool LowerHex(absl::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

TEST(TraceContextTest, NewIsAValidSampledVersion00Traceparent) {
  TraceContext trace = TraceContext::New();
  const std::string header = trace.header();
  ASSERT_EQ(header.size(), 55u);
  EXPECT_EQ(header.substr(0, 3), "00-");
  EXPECT_EQ(header.substr(53), "01");
  EXPECT_TRUE(LowerHex(trace.trace_id()));
  EXPECT_TRUE(LowerHex(trace.span_id()));
  EXPECT_EQ(trace.trace_id().size(), 32u);
  EXPECT_EQ(trace.span_id().size(), 16u);
  EXPECT_TRUE(trace.sampled());
  EXPECT_FALSE(trace.continued());
  absl::optional<TraceContext> back = TraceContext::Parse(header);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->header(), header);
}

TEST(TraceContextTest, NewTracesAndSpansDiffer) {
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (int i = 0; i < 1000; ++i) {
    TraceContext trace = TraceContext::New();
    trace_ids.insert(std::string(trace.trace_id()));
    span_ids.insert(std::string(trace.span_id()));
  }
  EXPECT_EQ(trace_ids.size(), 1000u);
  EXPECT_EQ(span_ids.size(), 1000u);
}

TEST(TraceContextTest, NewDrawsEveryHexDigitEverywhere) {
  // Each of the 48 random digits (trace id, span id) takes all 16 values over
  // 2000 traces: a digit missing at a place would have a chance of
  // (15/16)^2000, about 1e-56.
  std::set<char> seen[55];
  for (int i = 0; i < 2000; ++i) {
    const std::string header = TraceContext::New().header();
    for (size_t at = 0; at < header.size(); ++at) seen[at].insert(header[at]);
  }
  for (size_t at = 0; at < 55; ++at) {
    const bool random = (at >= 3 && at < 35) || (at >= 36 && at < 52);
    EXPECT_EQ(seen[at].size(), random ? 16u : 1u) << "at " << at;
  }
}

TEST(TraceContextTest, TraceIdOfOwnReadsTheTraceIdOfATraceparentMadeHere) {
  const TraceContext trace = TraceContext::New();
  EXPECT_EQ(TraceContext::TraceIdOfOwn(trace.traceparent()), trace.trace_id());
  EXPECT_EQ(TraceContext::TraceIdOfOwn(kValid),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceContext::TraceIdOfOwn(""), "");
  EXPECT_EQ(TraceContext::TraceIdOfOwn(std::string(kValid) + "-"), "");
}

TEST(TraceContextTest, ParsesTheSpecExample) {
  absl::optional<TraceContext> trace = TraceContext::Parse(kValid);
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace->span_id(), "00f067aa0ba902b7");
  EXPECT_TRUE(trace->sampled());
}

TEST(TraceContextTest, KeepsOnlyTheSampledFlag) {
  absl::optional<TraceContext> not_sampled = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(not_sampled.has_value());
  EXPECT_FALSE(not_sampled->sampled());
  absl::optional<TraceContext> other_flags = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff");
  ASSERT_TRUE(other_flags.has_value());
  EXPECT_TRUE(other_flags->sampled());
  EXPECT_EQ(other_flags->header().substr(53), "01");
  absl::optional<TraceContext> unsampled_other = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe");
  ASSERT_TRUE(unsampled_other.has_value());
  EXPECT_EQ(unsampled_other->header().substr(53), "00");
}

TEST(TraceContextTest, RefusesAnythingButAStrictVersion00Traceparent) {
  const std::string valid = kValid;
  const std::string cases[] = {
      "",
      "00",
      valid.substr(0, 54),     // one short
      valid + "-",             // one long
      valid + "-extra",        // version 00 has no more
      "01" + valid.substr(2),  // another version
      "ff" + valid.substr(2),  // the forbidden version
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\0",
                  55),
      std::string(55, '\xff'),
  };
  for (const std::string& header : cases) {
    EXPECT_FALSE(TraceContext::Parse(header).has_value()) << header;
  }
}

TEST(TraceContextTest, ContinueKeepsTheTraceWithASpanOfItsOwn) {
  TraceContext mine = TraceContext::Continue(std::string(kValid));
  EXPECT_TRUE(mine.continued());
  EXPECT_EQ(mine.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(mine.span_id(), "00f067aa0ba902b7");
  EXPECT_TRUE(mine.sampled());
  EXPECT_TRUE(TraceContext::Parse(mine.header()).has_value());
}

TEST(TraceContextTest, ContinueStartsANewTraceWithoutAValidHeader) {
  TraceContext none = TraceContext::Continue(absl::nullopt);
  EXPECT_FALSE(none.continued());
  EXPECT_TRUE(TraceContext::Parse(none.header()).has_value());
  TraceContext invalid = TraceContext::Continue(std::string("garbage"));
  EXPECT_FALSE(invalid.continued());
  EXPECT_NE(invalid.trace_id(), none.trace_id());
  EXPECT_TRUE(invalid.sampled());
}

TEST(TraceContextTest, ChildKeepsTraceAndFlag) {
  absl::optional<TraceContext> parent = TraceContext::Parse(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(parent.has_value());
  TraceContext child = parent->Child();
  EXPECT_EQ(child.trace_id(), parent->trace_id());
  EXPECT_NE(child.span_id(), parent->span_id());
  EXPECT_FALSE(child.sampled());
}

}  // namespace
}  // namespace kitchen::orders
