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

}  // namespace
}  // namespace kitchen::logging
