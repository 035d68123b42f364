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
#include "absl/strings/str_cat.h"
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
            "Kafka property acks has no '=' (name=value; the rest is not "
            "shown)");
  EXPECT_FALSE(ParseProperty("=all").ok());
}

// What the user typed may be a secret: an error names the property when the
// text starts with one librdkafka knows, and never shows what follows.
constexpr char kSecret[] = "hunter2-very-secret";

TEST(ParsePropertyTest, AnErrorNeverShowsTheText) {
  for (const std::string& text :
       {std::string("sasl.password: ") + kSecret,
        std::string("sasl.password ") + kSecret, std::string(kSecret),
        std::string("=") + kSecret,
        std::string("sasl.jaas.config org.apache.kafka.common.security.scram."
                    "ScramLoginModule required username=\"k\" password=\"") +
            kSecret + "\";"}) {
    absl::Status status = ParseProperty(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_FALSE(absl::StrContains(status.message(), "hunter2"))
        << status.message();
  }
  EXPECT_EQ(ParseProperty(std::string("sasl.password: ") + kSecret)
                .status()
                .message(),
            "Kafka property sasl.password has no '=' (name=value; the rest is "
            "not shown)");
  EXPECT_EQ(ParseProperty(kSecret).status().message(),
            "a Kafka property is not of the form name=value (not shown: it "
            "may hold a secret)");
  EXPECT_EQ(ParseProperty(std::string("=") + kSecret).status().message(),
            "a Kafka property has an empty name (=value; the value is not "
            "shown)");
}

TEST(ParsePropertiesTextTest, AWrongSeparatorIsNamedByLineNotShown) {
  absl::Status bad =
      ParsePropertiesText(absl::StrCat("security.protocol=SASL_SSL\n"
                                       "sasl.password: ",
                                       kSecret, "\n"),
                          "client.properties")
          .status();
  EXPECT_EQ(bad.message(),
            "client.properties:2: Kafka property sasl.password has no '=' "
            "(name=value; the rest is not shown)");
}

TEST(ParsePropertiesTextTest, EachPropertyKnowsWhereItWasGiven) {
  absl::StatusOr<Properties> properties =
      ParsePropertiesText("# c\nacks=all\n\nlinger.ms=5\n", "p.conf");
  ASSERT_TRUE(properties.ok()) << properties.status();
  EXPECT_EQ((*properties)[0].source, "p.conf:2");
  EXPECT_EQ((*properties)[1].source, "p.conf:4");
}

// librdkafka's own messages quote some values ("Invalid value \"...\" for
// configuration property", "value 0 is outside allowed range", a plugin path):
// none reaches an error, which names the property and where it was given.
TEST(BuildConfTest, AnErrorNamesThePropertyAndWhereButNeverTheValue) {
  struct Case {
    std::string name;
    std::string value;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"security.protocol", kSecret,
       "client.properties:3: Kafka property security.protocol: Invalid value "
       "for configuration property \"security.protocol\""},
      {"acks", kSecret,
       "client.properties:3: Kafka property acks: Invalid value for "
       "configuration property \"request.required.acks\""},
      {"debug", kSecret, "Kafka property debug: Invalid value for"},
      {"enable.idempotence", kSecret, "Expected bool value"},
      {"session.timeout.ms", "0",
       "Kafka property session.timeout.ms: Configuration property "
       "\"session.timeout.ms\" value is outside allowed range 1..3600000"},
      {"plugin.library.paths", kSecret,
       "Kafka property plugin.library.paths: librdkafka refuses its value"},
      // librdkafka quotes only the element of a list it refuses.
      {"debug", absl::StrCat("all,", kSecret),
       "Kafka property debug: Invalid value for configuration property "
       "\"debug\""},
      {"plugin.library.paths", absl::StrCat("/no/such;", kSecret),
       "Kafka property plugin.library.paths: librdkafka refuses its value"},
      {"plugin.library.paths", absl::StrCat(kSecret, ";/no/such"),
       "Kafka property plugin.library.paths: librdkafka refuses its value"},
      {"no.such.password", kSecret,
       "Kafka property no.such.password: No such configuration property"},
  };
  for (const Case& c : cases) {
    ClientConfig config{"localhost:9092",
                        {{c.name, c.value, "client.properties:3"}}};
    absl::Status status = BuildConf(config, {}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(absl::StrContains(status.message(), c.says))
        << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), "hunter2"))
        << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), "/no/such"))
        << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), " value 0 "))
        << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), "\n")) << c.name;
  }
}

// The properties a service owns (its group, how it commits, what it reads,
// how it writes) may not be changed from a file or -X: the error names the
// property, where it was given and the service's value, never the user's.
TEST(BuildConfTest, APropertyTheServiceOwnsCannotBeChanged) {
  const Properties service = {{"group.id", "cook"},
                              {"enable.auto.commit", "true"},
                              {"enable.auto.offset.store", "false"},
                              {"auto.offset.reset", "earliest"},
                              {"acks", "all"},
                              {"enable.idempotence", "true"},
                              {"linger.ms", "1"}};
  struct Case {
    Property property;
    std::string message;  // Empty: accepted.
  };
  const std::vector<Case> cases = {
      {{"group.id", "other-group", "client.properties:2"},
       "client.properties:2: group.id is the service's own (group.id=cook; "
       "choose the group with --group): a different value is refused"},
      {{"group.id", "cook", "client.properties:2"}, ""},
      {{"enable.auto.commit", "false", "-X"},
       "-X: enable.auto.commit is the service's own "
       "(enable.auto.commit=true): a different value is refused"},
      {{"enable.auto.commit", "True", "-X"}, ""},  // librdkafka's reading.
      {{"enable.auto.offset.store", "true", "-X"},
       "-X: enable.auto.offset.store is the service's own"},
      {{"auto.offset.reset", "latest", "-X"},
       "-X: auto.offset.reset is the service's own "
       "(auto.offset.reset=earliest)"},
      {{"acks", "1", "-X"}, "-X: acks is the service's own (acks=all)"},
      {{"acks", "-1", "-X"}, ""},  // The same as all.
      // An alias of acks changes acks.
      {{"request.required.acks", "0", "-X"},
       "-X: request.required.acks is the service's own (acks=all)"},
      {{"enable.idempotence", "false", "-X"},
       "-X: enable.idempotence is the service's own"},
      // Owned by every kitchen client whether or not it sets them.
      {{"isolation.level", "read_uncommitted", "-X"},
       "-X: isolation.level is the service's own "
       "(isolation.level=read_committed)"},
      {{"isolation.level", "read_committed", "-X"}, ""},
      {{"transactional.id", "tx-1", "-X"},
       "-X: transactional.id is the service's own (none: the kitchen's "
       "producers are not transactional)"},
      // Others are the user's to tune.
      {{"linger.ms", "5", "-X"}, ""},
      {{"session.timeout.ms", "6000", "-X"}, ""},
  };
  for (const Case& c : cases) {
    ClientConfig config{"localhost:9092", {c.property}};
    absl::Status status = BuildConf(config, service).status();
    if (c.message.empty()) {
      EXPECT_TRUE(status.ok()) << c.property.name << ": " << status;
      continue;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << c.property.name;
    EXPECT_TRUE(absl::StrContains(status.message(), c.message))
        << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), c.property.value))
        << "the value given is not shown: " << status.message();
  }
  // A service that sets no group does not own one.
  EXPECT_TRUE(
      BuildConf({"localhost:9092", {{"group.id", "g", "-X"}}}, {}).ok());
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
  EXPECT_EQ(bad.message(),
            "p.conf:2: Kafka property linger.ms has no '=' (name=value; the "
            "rest is not shown)");
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
  EXPECT_NE(status.message().find("Kafka property acks: Invalid value"),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(absl::StrContains(status.message(), "most")) << status.message();
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
  // Nor any other value: the name says what was refused.
  absl::Status acks = SetProperty(conf.get(), "acks", "most");
  EXPECT_TRUE(absl::StrContains(acks.message(), "Kafka property acks:"))
      << acks.message();
  EXPECT_FALSE(absl::StrContains(acks.message(), "most")) << acks.message();
}

}  // namespace
}  // namespace kitchen::kafka
