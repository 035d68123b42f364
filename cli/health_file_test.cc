// File: cli/health_file_test.cc

#include "cli/health_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

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
  HealthFile health(path);
  int asked = 0;
  health.Beat([&] {
    ++asked;
    return false;
  });
  EXPECT_EQ(Read(path), "starting\n");
  health.Beat([&] {
    ++asked;
    return true;
  });
  EXPECT_EQ(asked, 1) << "not rewritten within a second";
  EXPECT_EQ(Read(path), "starting\n");
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
