// File: kafka/config.h
//
// One configuration path for every Kafka client in the kitchen. A service's
// client is configured, in increasing precedence, by
//   1. the service's own defaults (e.g. the waiter's acks=all),
//   2. a properties file (`--kafka_config_file`, key=value lines, like kcat's
//      -F),
//   3. single properties on the command line (`-X key=value`, like kcat's -X),
//   4. the bootstrap servers (`--brokers` / KAFKA_BOOTSTRAP_SERVERS).
// Every property is handed to librdkafka when the configuration is built, so an
// unknown name or a bad value is an error naming it before anything connects.
//
// Usage:
//   ClientConfig config{.bootstrap_servers = "localhost:9092"};
//   config.properties.push_back({"security.protocol", "SASL_SSL"});
//   absl::StatusOr<ConfPtr> conf = BuildConf(config, {{"acks", "all"}});

#ifndef KITCHEN_KAFKA_CONFIG_H_
#define KITCHEN_KAFKA_CONFIG_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kitchen::kafka {

// A librdkafka property, e.g. {"security.protocol", "SSL"}.
struct Property {
  std::string name;
  std::string value;
  // Where the user gave it, for errors: "client.properties:3", "-X"; empty
  // for a service's own defaults.
  std::string source = {};
};
using Properties = std::vector<Property>;

// What the user said about the Kafka client, whatever service it is for.
struct ClientConfig {
  std::string bootstrap_servers;
  Properties properties;  // File first, then command line: later ones win.
};

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Parses "name=value". The value may contain '='; the name may not be empty
// and holds only letters, digits and . _ -. An error never shows the text (it
// may be a secret), only a property name it starts with.
absl::StatusOr<Property> ParseProperty(absl::string_view text);

// Parses a properties file's text: one name=value per line, blank lines and
// lines starting with '#' ignored, surrounding spaces trimmed. `source` names
// the file in errors ("client.properties:3: ...").
absl::StatusOr<Properties> ParsePropertiesText(absl::string_view text,
                                               absl::string_view source);

// Reads and parses a properties file.
absl::StatusOr<Properties> ReadPropertiesFile(const std::string& path);

// Builds a librdkafka configuration from the service's defaults and the user's
// config. Fails with InvalidArgument naming the first property librdkafka
// rejects, or one the service owns (CheckOwnedProperties), with where it was
// given ("client.properties:3: ", "-X: ") and never its value.
absl::StatusOr<ConfPtr> BuildConf(const ClientConfig& config,
                                  const Properties& service_defaults);

// The properties a kitchen client owns may not be changed by the user: those
// of group.id, enable.auto.commit, enable.auto.offset.store,
// auto.offset.reset, acks and enable.idempotence that `service_defaults` set,
// and always isolation.level (read_committed) and transactional.id (none). A
// user property that changes one, as librdkafka reads it (under an alias
// too: request.required.acks), is an InvalidArgument naming the property,
// where it was given and the service's value; the same value is accepted.
absl::Status CheckOwnedProperties(const ClientConfig& config,
                                  const Properties& service_defaults);

// Sets one property on `conf`, with an error that names it and never shows
// the value (librdkafka's own messages quote some: taken out).
absl::Status SetProperty(rd_kafka_conf_t* conf, absl::string_view name,
                         absl::string_view value);

// Whether librdkafka has `name` for consumers only ("C" in its own property
// table, rd_kafka_conf_properties_show: the CONFIGURATION.md of the installed
// version). A producer given one logs a warning and ignores it.
bool IsConsumerOnlyProperty(absl::string_view name);

// `config` without the consumer-only properties: for a producer that a
// consumer service builds from its own configuration (the dead-letter queue).
ClientConfig ForProducer(const ClientConfig& config);

// What a secret value prints as.
inline constexpr char kRedacted[] = "[redacted]";

// Whether `name`'s value is a secret that no printout, log line or error
// message may show: every property librdkafka itself redacts (sasl.password,
// sasl.username, sasl.oauthbearer.client.secret, sasl.oauthbearer.config,
// ssl.key.password, ssl.key.pem, ssl.key.location, ssl.ca.pem, ssl_key,
// ssl.keystore.password), sasl.jaas.config (it carries a password), and any
// name containing "password" or "secret". Case-insensitive. A client's own
// certificate (ssl.certificate.pem) is public and not secret.
bool IsSecretProperty(absl::string_view name);

// `value`, or kRedacted when `name` is secret: the one way the kitchen shows
// a property's value.
std::string Redacted(absl::string_view name, absl::string_view value);

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_CONFIG_H_
