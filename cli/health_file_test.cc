// File: cli/health_file_test.cc

#include "cli/health_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kitchen::cli {
namespace {

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(HealthFileTest, SaysStartingThenReadyAtMostOncePerSecond) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/health";
  absl::Time now = absl::FromUnixSeconds(1000);
  HealthFile health(path, [&now] { return now; });
  int asked = 0;
  bool ready = false;
  auto beat = [&] {
    health.Beat([&] {
      ++asked;
      return ready;
    });
  };
  beat();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(Read(path), "starting\n");

  ready = true;
  now += absl::Milliseconds(999);
  beat();
  EXPECT_EQ(asked, 1) << "not rewritten within a second";
  EXPECT_EQ(Read(path), "starting\n");

  now += absl::Milliseconds(1);
  beat();
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(Read(path), "ready\n");

  // Readiness can be lost (partitions revoked): the next write says so.
  ready = false;
  now += absl::Seconds(1);
  beat();
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(Read(path), "starting\n");
}

TEST(HealthFileTest, SaysWhatTheServiceWaitsForAfterItsState) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/waiting";
  HealthFile health(path);
  health.Beat([] { return true; },
              [] {
                return std::vector<std::string>{
                    "dead-letter copy of pizza-order/2@17 to pizza-order.dlq"};
              });
  EXPECT_EQ(Read(path),
            "ready\nwaiting: dead-letter copy of pizza-order/2@17 to "
            "pizza-order.dlq\n");
}

TEST(HealthFileTest, PrepareWritesStartingOrSaysWhyItCannot) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/prepared";
  ASSERT_TRUE(HealthFile::Prepare(path).ok());
  EXPECT_EQ(Read(path), "starting\n");
  absl::Status missing = HealthFile::Prepare("/nonexistent-directory/health");
  EXPECT_EQ(missing.message(),
            "cannot write health file /nonexistent-directory/health.tmp: No "
            "such file or directory");
  EXPECT_TRUE(HealthFile::Prepare("").ok());
}

TEST(HealthFileTest, EmptyPathIsOff) {
  HealthFile health("");
  health.Beat([] {
    ADD_FAILURE() << "asked";
    return true;
  });
}

}  // namespace
}  // namespace kitchen::cli
