// File: cli/command_line_test.cc

#include "cli/command_line.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, prep_time_for_test, 5, "a service flag, for the test");

namespace kitchen::cli {
namespace {

TEST(ExtractKafkaPropertiesTest, TakesBothFormsOutAndKeepsTheRest) {
  std::vector<std::string> args = {
      "--table=3",  "-X", "acks=1", "-Xlinger.ms=5",
      "margherita", "--", "-X",     "kept"};
  absl::StatusOr<kafka::Properties> properties = ExtractKafkaProperties(args);
  ASSERT_TRUE(properties.ok()) << properties.status();
  ASSERT_EQ(properties->size(), 2u);
  EXPECT_EQ((*properties)[0].name, "acks");
  EXPECT_EQ((*properties)[1].value, "5");
  EXPECT_EQ(args, (std::vector<std::string>{"--table=3", "margherita", "--",
                                            "-X", "kept"}));
}

TEST(ExtractKafkaPropertiesTest, NamesAMissingOrBadValue) {
  std::vector<std::string> missing = {"-X"};
  EXPECT_EQ(ExtractKafkaProperties(missing).status().message(),
            "-X needs a name=value argument");
  std::vector<std::string> bad = {"-X", "acks"};
  EXPECT_FALSE(ExtractKafkaProperties(bad).ok());
}

TEST(ExtractKafkaPropertiesTest, AnErrorSaysMinusXAndNeverShowsTheText) {
  std::vector<std::string> colon = {"-X", "sasl.password:hunter2-secret"};
  EXPECT_EQ(ExtractKafkaProperties(colon).status().message(),
            "-X: Kafka property sasl.password has no '=' (name=value; the rest "
            "is not shown)");
  std::vector<std::string> bare = {"-Xhunter2-secret"};
  EXPECT_EQ(ExtractKafkaProperties(bare).status().message(),
            "-X: a Kafka property is not of the form name=value (not shown: "
            "it may hold a secret)");
}

TEST(ExtractKafkaPropertiesTest, EachPropertyKnowsItCameFromMinusX) {
  std::vector<std::string> args = {"-X", "acks=1"};
  absl::StatusOr<kafka::Properties> properties = ExtractKafkaProperties(args);
  ASSERT_TRUE(properties.ok()) << properties.status();
  EXPECT_EQ((*properties)[0].source, "-X");
}

TEST(ApplyEnvironmentTest, FillsAnUnsetFlagAndNamesABadValue) {
  setenv("PREP_TIME_FOR_TEST", "42", 1);
  ASSERT_TRUE(
      ApplyEnvironment({{"prep_time_for_test", "PREP_TIME_FOR_TEST"}}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_prep_time_for_test), 42);

  setenv("PREP_TIME_FOR_TEST", "soon", 1);
  absl::Status bad =
      ApplyEnvironment({{"prep_time_for_test", "PREP_TIME_FOR_TEST"}});
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("PREP_TIME_FOR_TEST=\"soon\""),
            std::string::npos)
      << bad.message();
  unsetenv("PREP_TIME_FOR_TEST");
}

TEST(KafkaClientConfigTest, BrokersFromEnvironmentElseDefault) {
  unsetenv("KAFKA_BOOTSTRAP_SERVERS");
  absl::StatusOr<kafka::ClientConfig> config = KafkaClientConfig({});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->bootstrap_servers, "localhost:9092");

  // A bootstrap.servers property beats the default...
  config = KafkaClientConfig({{"bootstrap.servers", "kafka-1:9092"}});
  EXPECT_EQ(config->bootstrap_servers, "kafka-1:9092");

  // ...but not the environment.
  setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:19092", 1);
  ASSERT_TRUE(ApplyEnvironment({{"brokers", "KAFKA_BOOTSTRAP_SERVERS"}}).ok());
  config = KafkaClientConfig({{"bootstrap.servers", "kafka-1:9092"}});
  EXPECT_EQ(config->bootstrap_servers, "broker:19092");
  unsetenv("KAFKA_BOOTSTRAP_SERVERS");
  absl::SetFlag(&FLAGS_brokers, "");
}

TEST(KafkaClientConfigTest, PropertiesFileThenCommandLine) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/k.properties";
  FILE* file = fopen(path.c_str(), "w");
  fputs("client.id=from-file\nlinger.ms=9\n", file);
  fclose(file);
  absl::SetFlag(&FLAGS_kafka_config_file, path);
  absl::StatusOr<kafka::ClientConfig> config =
      KafkaClientConfig({{"linger.ms", "1"}});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->properties.size(), 3u);
  EXPECT_EQ(config->properties[0].value, "from-file");
  EXPECT_EQ(config->properties[2].value, "1");  // Last wins when applied.

  absl::SetFlag(&FLAGS_kafka_config_file, "/nonexistent.properties");
  EXPECT_EQ(KafkaClientConfig({}).status().code(), absl::StatusCode::kNotFound);
  absl::SetFlag(&FLAGS_kafka_config_file, "");
}

}  // namespace
}  // namespace kitchen::cli
