// File: logging/log_test.cc

#include "logging/log.h"

#include "gtest/gtest.h"

namespace kitchen::logging {
namespace {

TEST(FormatLineTest, HasUtcTimestampLevelServiceAndMessage) {
  absl::Time when = absl::FromUnixMillis(1795499328683);
  EXPECT_EQ(FormatLine(when, Level::kInfo, "cook", "order ready"),
            "2026-11-24T05:48:48.683Z INFO  cook: order ready");
  EXPECT_EQ(FormatLine(when, Level::kError, "waiter", "broker down"),
            "2026-11-24T05:48:48.683Z ERROR waiter: broker down");
}

// Whatever a message holds, the line is one line: a pizza name from a foreign
// producer cannot forge a second one, nor reach the terminal as escapes.
TEST(FormatLineTest, AMessageIsOneLineWithControlCharactersEscaped) {
  absl::Time when = absl::FromUnixMillis(1795499328683);
  EXPECT_EQ(FormatLine(when, Level::kInfo, "cook",
                       "cooking x\n2030-01-01T00:00:00.000Z INFO  cook: "
                       "ready: forged\x1b[2J"),
            "2026-11-24T05:48:48.683Z INFO  cook: cooking "
            "x\\n2030-01-01T00:00:00.000Z INFO  cook: ready: forged\\x1b[2J");
}

}  // namespace
}  // namespace kitchen::logging
