// File: kafka/config_test.cc

#include "kafka/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "kafka/handle.h"

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

TEST(IsSecretPropertyTest, PasswordsKeysAndSaslSecretsButNotCertificates) {
  for (const char* name :
       {"sasl.password", "sasl.jaas.config", "ssl.key.password",
        "ssl.keystore.password", "ssl.key.pem", "ssl_key",
        "sasl.oauthbearer.client.secret", "SASL.PASSWORD",
        "my.trust.store.password", "vault.secret.id"}) {
    EXPECT_TRUE(IsSecretProperty(name)) << name;
  }
  for (const char* name :
       {"ssl.certificate.pem", "ssl.certificate.location", "security.protocol",
        "bootstrap.servers", "sasl.mechanisms", "acks", ""}) {
    EXPECT_FALSE(IsSecretProperty(name)) << name;
  }
  EXPECT_EQ(Redacted("sasl.password", "hunter2"), kRedacted);
  EXPECT_EQ(Redacted("linger.ms", "5"), "5");
}

// The names librdkafka's own table (rd_kafka_conf_properties_show) gives a
// string type, for clients of every kind or producers.
std::vector<std::string> ProducerStringProperties() {
  char* text = nullptr;
  size_t size = 0;
  FILE* table = open_memstream(&text, &size);
  rd_kafka_conf_properties_show(table);
  std::fclose(table);
  std::vector<std::string> names;
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> cells = absl::StrSplit(row, '|');
    if (cells.size() < 3 || !absl::StrContains(row, "*Type: string*")) continue;
    absl::string_view scope = absl::StripAsciiWhitespace(cells[1]);
    if (scope != "*" && scope != "P") continue;
    names.emplace_back(absl::StripAsciiWhitespace(cells[0]));
  }
  std::free(text);
  return names;
}

// librdkafka redacts its sensitive properties when it logs its configuration
// (debug=conf): each of those must be a secret here too.
TEST(IsSecretPropertyTest, CoversEveryPropertyLibrdkafkaRedacts) {
  struct Log {
    absl::Mutex mutex;
    std::set<std::string> redacted ABSL_GUARDED_BY(mutex);
  };
  static Log* log = new Log;
  ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(SetProperty(conf.get(), "debug", "conf").ok());
  rd_kafka_conf_set_log_cb(
      conf.get(), [](const rd_kafka_t*, int, const char*, const char* line) {
        // "  sasl.password = [redacted]"
        absl::string_view text = line;
        size_t at = text.find(" = [redacted]");
        if (at == absl::string_view::npos) return;
        size_t start = text.rfind(' ', at - 1) + 1;
        absl::MutexLock lock(&log->mutex);
        log->redacted.emplace(text.substr(start, at - start));
      });
  // Every string property this build accepts "x" for; no bootstrap servers,
  // so nothing connects.
  for (const std::string& name : ProducerStringProperties()) {
    (void)rd_kafka_conf_set(conf.get(), name.c_str(), "x", nullptr, 0);
  }
  char error[512];
  HandlePtr handle(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error)));
  ASSERT_NE(handle, nullptr) << error;
  (void)conf.release();  // The handle owns it now.
  handle.reset();

  absl::MutexLock lock(&log->mutex);
  EXPECT_TRUE(log->redacted.count("sasl.password")) << "no dump seen";
  for (const std::string& name : log->redacted) {
    EXPECT_TRUE(IsSecretProperty(name)) << name << " is redacted by librdkafka";
  }
}

TEST(SetPropertyTest, AnErrorDoesNotShowASecretValue) {
  ConfPtr conf(rd_kafka_conf_new());
  absl::Status status = SetProperty(conf.get(), "no.such.password", "hunter2");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "no.such.password"))
      << status.message();
  EXPECT_FALSE(absl::StrContains(status.message(), "hunter2"))
      << status.message();
  // Other values are shown, so the user sees what was refused.
  EXPECT_TRUE(absl::StrContains(
      SetProperty(conf.get(), "acks", "most").message(), "acks=most"));
}

}  // namespace
}  // namespace kitchen::kafka
