// File: kafka/config_test.cc

#include "kafka/config.h"

#include <fstream>

#include "gtest/gtest.h"

namespace kitchen::kafka {
namespace {

TEST(ParsePropertyTest, SplitsAtTheFirstEquals) {
  absl::StatusOr<Property> property =
      ParseProperty("sasl.jaas.config=a=b; c=d");
  ASSERT_TRUE(property.ok()) << property.status();
  EXPECT_EQ(property->name, "sasl.jaas.config");
  EXPECT_EQ(property->value, "a=b; c=d");
}

TEST(ParsePropertyTest, RejectsMissingEqualsAndEmptyName) {
  EXPECT_EQ(ParseProperty("acks").status().message(),
            "Kafka property \"acks\" is not of the form name=value");
  EXPECT_FALSE(ParseProperty("=all").ok());
}

TEST(ParsePropertiesTextTest, SkipsCommentsAndBlankLinesAndNamesBadLines) {
  absl::StatusOr<Properties> properties = ParsePropertiesText(
      "# TLS to the cluster\n\nsecurity.protocol = SSL\n  "
      "ssl.ca.location=/ca.pem\n",
      "client.properties");
  ASSERT_TRUE(properties.ok()) << properties.status();
  ASSERT_EQ(properties->size(), 2u);
  EXPECT_EQ((*properties)[0].name, "security.protocol");
  EXPECT_EQ((*properties)[0].value, "SSL");
  EXPECT_EQ((*properties)[1].value, "/ca.pem");

  absl::Status bad =
      ParsePropertiesText("acks=all\nlinger.ms\n", "p.conf").status();
  EXPECT_EQ(
      bad.message(),
      "p.conf:2: Kafka property \"linger.ms\" is not of the form name=value");
}

TEST(ReadPropertiesFileTest, NamesAMissingFile) {
  absl::Status missing =
      ReadPropertiesFile("/nonexistent/client.properties").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nonexistent/client.properties"),
            std::string::npos);
}

TEST(ReadPropertiesFileTest, ReadsAFile) {
  std::string path = std::string(getenv("TEST_TMPDIR")) + "/client.properties";
  std::ofstream(path) << "client.id=kitchen-test\n";
  absl::StatusOr<Properties> properties = ReadPropertiesFile(path);
  ASSERT_TRUE(properties.ok()) << properties.status();
  EXPECT_EQ((*properties)[0].value, "kitchen-test");
}

TEST(BuildConfTest, UserPropertiesOverrideServiceDefaults) {
  ClientConfig config{"localhost:1234", {{"linger.ms", "7"}}};
  absl::StatusOr<ConfPtr> conf = BuildConf(config, {{"linger.ms", "1"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  char value[64];
  size_t size = sizeof(value);
  ASSERT_EQ(rd_kafka_conf_get(conf->get(), "linger.ms", value, &size),
            RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "7");
  size = sizeof(value);
  rd_kafka_conf_get(conf->get(), "bootstrap.servers", value, &size);
  EXPECT_STREQ(value, "localhost:1234");
}

TEST(BuildConfTest, UnknownPropertyIsAnErrorNamingIt) {
  ClientConfig config{"localhost:9092", {{"linger.msec", "5"}}};
  absl::Status status = BuildConf(config, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("linger.msec"), std::string::npos)
      << status.message();
}

TEST(BuildConfTest, BadValueIsAnErrorNamingIt) {
  ClientConfig config{"localhost:9092", {{"acks", "most"}}};
  absl::Status status = BuildConf(config, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("acks=most"), std::string::npos)
      << status.message();
}

TEST(BuildConfTest, NoBootstrapServersIsAnError) {
  EXPECT_FALSE(BuildConf(ClientConfig{}, {}).ok());
}

TEST(IsConsumerOnlyPropertyTest, FollowsLibrdkafkasOwnTable) {
  EXPECT_TRUE(IsConsumerOnlyProperty("session.timeout.ms"));
  EXPECT_TRUE(IsConsumerOnlyProperty("fetch.wait.max.ms"));
  EXPECT_TRUE(IsConsumerOnlyProperty("group.id"));
  EXPECT_FALSE(IsConsumerOnlyProperty("linger.ms"));          // Producer.
  EXPECT_FALSE(IsConsumerOnlyProperty("bootstrap.servers"));  // Both.
  EXPECT_FALSE(IsConsumerOnlyProperty("security.protocol"));  // Both.
  EXPECT_FALSE(IsConsumerOnlyProperty("no.such.property"));
}

TEST(ForProducerTest, KeepsAllButConsumerOnlyProperties) {
  ClientConfig consumer{"localhost:9092",
                        {{"session.timeout.ms", "6000"},
                         {"security.protocol", "SASL_SSL"},
                         {"fetch.wait.max.ms", "2"},
                         {"linger.ms", "5"}}};
  ClientConfig producer = ForProducer(consumer);
  EXPECT_EQ(producer.bootstrap_servers, "localhost:9092");
  ASSERT_EQ(producer.properties.size(), 2u);
  EXPECT_EQ(producer.properties[0].name, "security.protocol");
  EXPECT_EQ(producer.properties[1].name, "linger.ms");
}

}  // namespace
}  // namespace kitchen::kafka
