// File: manager/ledger_line_test.cc

#include "manager/ledger_line.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace kitchen::manager {
namespace {

LedgerEntry SampleEntry() {
  LedgerEntry entry;
  entry.order_id = "3f2a0c1e-0000-4000-8000-000000000001";
  entry.pizza = "quattro \"4\" formaggi\\\n";
  entry.table = 17;
  entry.placed_at = absl::FromUnixMillis(1795499328683);
  entry.topic = "pizza-order";
  entry.partition = 3;
  entry.offset = 1234567890123;
  entry.recorded_at = absl::FromUnixMillis(1795499328700);
  return entry;
}

TEST(LedgerLineTest, FormatsOneFlatJsonObject) {
  LedgerEntry entry = SampleEntry();
  entry.pizza = "margherita";
  EXPECT_EQ(
      FormatLedgerLine(entry),
      "{\"order_id\":\"3f2a0c1e-0000-4000-8000-000000000001\","
      "\"pizza\":\"margherita\",\"table\":17,"
      "\"placed_at\":\"2026-11-24T05:48:48.683Z\",\"topic\":\"pizza-order\","
      "\"partition\":3,\"offset\":1234567890123,"
      "\"recorded_at\":\"2026-11-24T05:48:48.700Z\"}");
}

TEST(LedgerLineTest, FormatsTimesAsAbseilDoes) {
  const char* format = "%Y-%m-%dT%H:%M:%E3SZ";
  for (int64_t millis :
       {int64_t{0}, int64_t{951782400000} /* 2000-02-29 */, int64_t{-1},
        int64_t{-86400001}, int64_t{-30610224000000} /* 1000-01-01 */,
        int64_t{1795499328683}, int64_t{4102444799999},
        int64_t{253402300799999} /* 9999-12-31 */}) {
    absl::Time when = absl::FromUnixMillis(millis);
    std::string ours;
    AppendUtcMillis(when, ours);
    EXPECT_EQ(ours, absl::FormatTime(format, when, absl::UTCTimeZone()))
        << millis;
  }
  // Runs within one second, across seconds and across the epoch, back and
  // forth: what is kept of the last second must never leak into another.
  for (int64_t start : {int64_t{1795499328000}, int64_t{-2500}}) {
    for (int64_t step = 0; step < 3000; step += 7) {
      for (int64_t millis : {start + step, start + 2999 - step, start + 5000}) {
        absl::Time when = absl::FromUnixMillis(millis);
        std::string ours;
        AppendUtcMillis(when, ours);
        ASSERT_EQ(ours, absl::FormatTime(format, when, absl::UTCTimeZone()))
            << millis;
      }
    }
  }
  // Years 1000 to 9999 (Abseil does not pad years below 1000 to four digits).
  for (int64_t millis = -30610224000000; millis < 253402300799999;
       millis += int64_t{7919} * 3600000 + 123) {
    absl::Time when = absl::FromUnixMillis(millis);
    std::string ours;
    AppendUtcMillis(when, ours);
    ASSERT_EQ(ours, absl::FormatTime(format, when, absl::UTCTimeZone()))
        << millis;
  }
}

TEST(LedgerLineTest, RoundTripsEscapesAndMissingPlacedAt) {
  LedgerEntry entry = SampleEntry();
  entry.placed_at.reset();
  entry.order_id = "";
  std::string line = FormatLedgerLine(entry);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line per entry";
  absl::StatusOr<LedgerEntry> back = ParseLedgerLine(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->pizza, entry.pizza);
  EXPECT_EQ(back->order_id, "");
  EXPECT_FALSE(back->placed_at.has_value());
  EXPECT_EQ(back->table, 17);
  EXPECT_EQ(back->partition, 3);
  EXPECT_EQ(back->offset, 1234567890123);
  EXPECT_EQ(back->recorded_at, entry.recorded_at);
}

TEST(LedgerLineTest, ADeadLetteredPositionIsALineOfItsOwnKind) {
  LedgerEntry entry;
  entry.dead_lettered = true;
  entry.reason = "not an order: \"x\"";
  entry.topic = "pizza-order";
  entry.partition = 4;
  entry.offset = 12;
  entry.recorded_at = absl::FromUnixMillis(1795499328700);
  std::string line = FormatLedgerLine(entry);
  EXPECT_EQ(line,
            "{\"dead_lettered\":true,\"topic\":\"pizza-order\",\"partition\":4,"
            "\"offset\":12,\"reason\":\"not an order: \\\"x\\\"\","
            "\"recorded_at\":\"2026-11-24T05:48:48.700Z\"}");
  absl::StatusOr<LedgerEntry> back = ParseLedgerLine(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->dead_lettered);
  EXPECT_EQ(back->reason, entry.reason);
  EXPECT_EQ(back->partition, 4);
  EXPECT_EQ(back->offset, 12);
  EXPECT_EQ(back->pizza, "");
  // An order line is none.
  back = ParseLedgerLine(FormatLedgerLine(SampleEntry()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->dead_lettered);
}

TEST(LedgerLineTest, EscapesWhatJsonRequiresAndNothingElse) {
  std::string out;
  AppendJsonString("\"quoted\" back\\slash\x01\ttab\r\nend \xc3\xa9", out);
  EXPECT_EQ(out,
            "\"\\\"quoted\\\" back\\\\slash\\u0001\\ttab\\r\\nend \xc3\xa9\"");
  out.clear();
  AppendJsonString("", out);
  EXPECT_EQ(out, "\"\"");
}

TEST(LedgerLineTest, IgnoresUnknownFieldsAndSpaces) {
  absl::StatusOr<LedgerEntry> entry = ParseLedgerLine(
      " { \"pizza\" : \"marinara\", \"table\": 2, \"topic\": \"t\", "
      "\"partition\": 0,"
      " \"offset\": 5, \"recorded_at\": \"2026-01-01T00:00:00.000Z\", \"new\": "
      "1 } ");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->pizza, "marinara");
  EXPECT_EQ(entry->offset, 5);
}

TEST(LedgerLineTest, RejectsWhatIsNotALedgerLine) {
  EXPECT_FALSE(ParseLedgerLine("").ok());
  EXPECT_FALSE(ParseLedgerLine("{\"pizza\":\"x\"").ok());
  EXPECT_FALSE(ParseLedgerLine("hello").ok());
  std::string line = FormatLedgerLine(SampleEntry());
  EXPECT_FALSE(ParseLedgerLine(line + "x").ok());
  std::string no_offset = line;
  no_offset.replace(no_offset.find("\"offset\""), 8, "\"offsex\"");
  EXPECT_EQ(ParseLedgerLine(no_offset).status().message(),
            "ledger line has no valid \"offset\"");
}

// A line with `field` set to `value` (a JSON number or string, as text).
std::string WithField(const std::string& line, const std::string& field,
                      const std::string& value) {
  std::string key = "\"" + field + "\":";
  size_t at = line.find(key);
  EXPECT_NE(at, std::string::npos) << field;
  at += key.size();
  size_t end = line.find_first_of(",}", at);
  return line.substr(0, at) + value + line.substr(end);
}

TEST(LedgerLineTest, RecordsTheTraceIdAndReadsLinesWrittenWithout) {
  LedgerEntry entry = SampleEntry();
  entry.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string line = FormatLedgerLine(entry);
  EXPECT_NE(line.find(",\"recorded_at\":\"2026-11-24T05:48:48.700Z\","
                      "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}"),
            std::string::npos)
      << line;
  absl::StatusOr<LedgerEntry> back = ParseLedgerLine(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->trace_id, entry.trace_id);
  // A line from before the kitchen traced: no trace id, and it loads.
  const std::string old_line =
      R"({"order_id":"a","pizza":"margherita","table":3,)"
      R"("placed_at":"2026-11-24T10:00:00.000Z","topic":"pizza-order",)"
      R"("partition":1,"offset":0,"recorded_at":"2026-11-24T10:00:01.000Z"})";
  absl::StatusOr<LedgerEntry> old = ParseLedgerLine(old_line);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->trace_id, "");
  EXPECT_EQ(FormatLedgerLine(*old), old_line) << "written back as it was";
  for (const char* bad : {"\"\"", "\"4BF92F3577B34DA6A3CE929D0E0E4736\"",
                          "\"4bf92f3577b34da6a3ce929d0e0e473\"",
                          "\"00000000000000000000000000000000\"",
                          "\"4bf92f3577b34da6a3ce929d0e0e4736-\"", "17"}) {
    absl::StatusOr<LedgerEntry> parsed =
        ParseLedgerLine(WithField(line, "trace_id", bad));
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  EXPECT_EQ(
      ParseLedgerLine(WithField(line, "trace_id", "\"x\"")).status().message(),
      "ledger line's \"trace_id\" is not a trace id (32 lowercase hex "
      "digits, not all zeros)");
}

TEST(LedgerLineTest, RejectsNumbersOutOfTheirRangeInsteadOfTruncating) {
  std::string line = FormatLedgerLine(SampleEntry());
  // 2^32 + 17 read into 32 bits is table 17: a damaged line, not table 17.
  EXPECT_EQ(ParseLedgerLine(WithField(line, "table", "4294967313"))
                .status()
                .message(),
            "ledger line's \"table\" 4294967313 is out of range "
            "(1..2147483647)");
  EXPECT_FALSE(ParseLedgerLine(WithField(line, "table", "0")).ok());
  EXPECT_EQ(ParseLedgerLine(WithField(line, "partition", "4294967299"))
                .status()
                .message(),
            "ledger line's \"partition\" 4294967299 is out of range "
            "(0..2147483647)");
  EXPECT_FALSE(ParseLedgerLine(WithField(line, "partition", "-1")).ok());
  EXPECT_FALSE(ParseLedgerLine(WithField(line, "offset", "-1")).ok());
  // One past it must be an offset too.
  EXPECT_EQ(ParseLedgerLine(WithField(line, "offset", "9223372036854775807"))
                .status()
                .message(),
            "ledger line's \"offset\" 9223372036854775807 is out of range "
            "(0..9223372036854775806)");
  EXPECT_FALSE(
      ParseLedgerLine(WithField(line, "offset", "9223372036854775808")).ok());
  EXPECT_TRUE(
      ParseLedgerLine(WithField(line, "offset", "9223372036854775806")).ok());
}

TEST(LedgerLineTest, RoundTripsPlacedAtOutsideTheYearsRfc3339Writes) {
  // A foreign producer's clock may say anything; the ledger must give back
  // what it was told, never another date.
  for (int64_t seconds : {int64_t{-62135596801} /* 0000-12-31T23:59:59 */,
                          int64_t{253402300800} /* 10000-01-01 */,
                          int64_t{-99999999999999}, int64_t{99999999999999}}) {
    LedgerEntry entry = SampleEntry();
    entry.placed_at = absl::FromUnixSeconds(seconds);
    std::string line = FormatLedgerLine(entry);
    absl::StatusOr<LedgerEntry> back = ParseLedgerLine(line);
    ASSERT_TRUE(back.ok()) << back.status() << " " << line;
    ASSERT_TRUE(back->placed_at.has_value()) << line;
    EXPECT_EQ(*back->placed_at, *entry.placed_at) << line;
  }
}

TEST(LedgerLineTest, DecodesEscapedSurrogatePairsToValidUtf8) {
  std::string line = WithField(FormatLedgerLine(SampleEntry()), "pizza",
                               "\"pizza \\ud83c\\udf55 \\u00e9\"");
  absl::StatusOr<LedgerEntry> entry = ParseLedgerLine(line);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->pizza, "pizza \xf0\x9f\x8d\x95 \xc3\xa9");
}

}  // namespace
}  // namespace kitchen::manager
