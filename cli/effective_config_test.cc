// File: cli/effective_config_test.cc

#include "cli/effective_config.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kitchen::cli {
namespace {

std::string Printed(const kafka::ClientConfig& config,
                    const kafka::Properties& defaults, absl::Status* status) {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  *status = PrintEffectiveKafkaConfig(config, defaults, out);
  std::fclose(out);
  std::string printed(text, size);
  std::free(text);
  return printed;
}

TEST(EffectiveKafkaConfigTest, EverySettingOnceSortedLastWinsSecretsRedacted) {
  kafka::ClientConfig config{"broker-1:9092,broker-2:9092",
                             {{"linger.ms", "7"},
                              {"security.protocol", "SASL_SSL"},
                              {"sasl.mechanisms", "PLAIN"},
                              {"sasl.username", "kitchen"},
                              {"sasl.password", "hunter2"},
                              {"ssl.certificate.pem", "PUBLIC-CERT"},
                              {"ssl.key.password", "hunter3"}}};
  absl::Status status;
  std::string printed = Printed(
      config, {{"linger.ms", "1"}, {"enable.idempotence", "true"}}, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(printed,
            "bootstrap.servers=broker-1:9092,broker-2:9092\n"
            "enable.idempotence=true\n"
            "linger.ms=7\n"
            "sasl.mechanisms=PLAIN\n"
            "sasl.password=[redacted]\n"
            "sasl.username=[redacted]\n"
            "security.protocol=sasl_ssl\n"
            "ssl.certificate.pem=PUBLIC-CERT\n"
            "ssl.key.password=[redacted]\n");
  EXPECT_FALSE(absl::StrContains(printed, "hunter"));
}

TEST(EffectiveKafkaConfigTest, ValuesAreLibrdkafkasReading) {
  absl::StatusOr<kafka::Properties> properties = EffectiveKafkaConfig(
      {"localhost:9092", {{"acks", "all"}, {"compression.type", "LZ4"}}}, {});
  ASSERT_TRUE(properties.ok()) << properties.status();
  ASSERT_EQ(properties->size(), 3u);
  EXPECT_EQ((*properties)[0].name, "acks");
  EXPECT_EQ((*properties)[0].value, "-1");  // librdkafka's spelling of all.
  EXPECT_EQ((*properties)[2].name, "compression.type");
  EXPECT_EQ((*properties)[2].value, "lz4");
}

TEST(EffectiveKafkaConfigTest, FailsAsBuildConfFailsWithoutShowingASecret) {
  absl::Status status;
  std::string printed =
      Printed({"localhost:9092", {{"no.such.secret", "hunter2"}}}, {}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "no.such.secret")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "hunter2")) << status;
  EXPECT_EQ(printed, "");
  EXPECT_FALSE(EffectiveKafkaConfig({"", {}}, {}).ok());
}

TEST(ChangedPropertiesTest, OnlyWhatDiffersFromLibrdkafkasDefaults) {
  kafka::ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(kafka::SetProperty(conf.get(), "linger.ms", "7").ok());
  ASSERT_TRUE(kafka::SetProperty(conf.get(), "sasl.password", "hunter2").ok());
  // A topic-level property set on the global configuration, and one set to
  // the value librdkafka has anyway.
  ASSERT_TRUE(kafka::SetProperty(conf.get(), "compression.codec", "zstd").ok());
  ASSERT_TRUE(
      kafka::SetProperty(conf.get(), "socket.timeout.ms", "60000").ok());
  kafka::Properties changed = ChangedProperties(*conf);
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_EQ(changed[0].name, "compression.codec");
  EXPECT_EQ(changed[0].value, "zstd");
  EXPECT_EQ(changed[1].name, "queue.buffering.max.ms");  // linger.ms
  EXPECT_EQ(changed[1].value, "7");
  EXPECT_EQ(changed[2].name, "sasl.password");
  EXPECT_EQ(changed[2].value, "[redacted]");
}

}  // namespace
}  // namespace kitchen::cli
