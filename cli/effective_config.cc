// File: cli/effective_config.cc

#include "cli/effective_config.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/types/optional.h"

ABSL_FLAG(bool, print_kafka_config, false,
          "Print the Kafka client settings this service would run with (each "
          "property its defaults, --kafka_config_file, -X and --brokers set; "
          "secrets redacted), one name=value per line sorted by name, and exit "
          "without connecting.");

namespace kitchen::cli {
namespace {

using NameToValue = std::map<std::string, std::string>;

// librdkafka's value for `name` as `conf` holds it (a topic-level property
// from the default topic configuration), or nullopt for one it cannot show
// (ssl_key and the like, set through their own API).
absl::optional<std::string> ValueOf(const rd_kafka_conf_t& conf,
                                    const std::string& name) {
  size_t size = 0;
  if (rd_kafka_conf_get(&conf, name.c_str(), nullptr, &size) !=
      RD_KAFKA_CONF_OK) {
    return absl::nullopt;
  }
  std::string value(size, '\0');
  if (rd_kafka_conf_get(&conf, name.c_str(), value.data(), &size) !=
      RD_KAFKA_CONF_OK) {
    return absl::nullopt;
  }
  value.resize(size > 0 ? size - 1 : 0);  // Without the terminating NUL.
  return value;
}

// librdkafka's dump of every property with a value, as a map.
NameToValue ToMap(const char** pairs, size_t count) {
  NameToValue values;
  for (size_t i = 0; i + 1 < count; i += 2) values[pairs[i]] = pairs[i + 1];
  rd_kafka_conf_dump_free(pairs, count);
  return values;
}
NameToValue Dump(rd_kafka_conf_t* conf) {
  size_t count = 0;
  const char** pairs = rd_kafka_conf_dump(conf, &count);
  return ToMap(pairs, count);
}
NameToValue Dump(rd_kafka_topic_conf_t* conf) {
  size_t count = 0;
  const char** pairs = rd_kafka_topic_conf_dump(conf, &count);
  return ToMap(pairs, count);
}

// Adds to `changed` each of `values` that `defaults` has not.
void AddChanged(const NameToValue& values, const NameToValue& defaults,
                NameToValue& changed) {
  for (const auto& [name, value] : values) {
    auto by_default = defaults.find(name);
    if (by_default == defaults.end() || by_default->second != value) {
      changed[name] = value;
    }
  }
}

kafka::Properties RedactedInOrder(const NameToValue& values) {
  kafka::Properties properties;
  for (const auto& [name, value] : values) {
    properties.push_back({name, kafka::Redacted(name, value)});
  }
  return properties;
}

struct TopicConfDeleter {
  void operator()(rd_kafka_topic_conf_t* conf) const {
    rd_kafka_topic_conf_destroy(conf);
  }
};

}  // namespace

absl::StatusOr<kafka::Properties> EffectiveKafkaConfig(
    const kafka::ClientConfig& config,
    const kafka::Properties& service_defaults) {
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(config, service_defaults);
  if (!conf.ok()) return conf.status();
  // What was given, last setting winning, as the fallback for a value
  // librdkafka does not show.
  NameToValue values;
  for (const kafka::Property& property : service_defaults) {
    values[property.name] = property.value;
  }
  for (const kafka::Property& property : config.properties) {
    values[property.name] = property.value;
  }
  values["bootstrap.servers"] = config.bootstrap_servers;
  for (auto& [name, value] : values) {
    if (absl::optional<std::string> held = ValueOf(**conf, name)) {
      value = *std::move(held);
    }
  }
  return RedactedInOrder(values);
}

kafka::Properties ChangedProperties(const rd_kafka_conf_t& conf) {
  // Dumping needs a mutable configuration; a copy leaves the caller's alone.
  kafka::ConfPtr copy(rd_kafka_conf_dup(&conf));
  kafka::ConfPtr fresh(rd_kafka_conf_new());
  NameToValue changed;
  // The global level and the topic level each against its own defaults: a
  // few legacy names (auto.commit.interval.ms) exist at both, differently.
  AddChanged(Dump(copy.get()), Dump(fresh.get()), changed);
  if (rd_kafka_topic_conf_t* topic =
          rd_kafka_conf_get_default_topic_conf(copy.get())) {
    std::unique_ptr<rd_kafka_topic_conf_t, TopicConfDeleter> fresh_topic(
        rd_kafka_topic_conf_new());
    AddChanged(Dump(topic), Dump(fresh_topic.get()), changed);
  }
  return RedactedInOrder(changed);
}

void PrintProperties(const kafka::Properties& properties, FILE* out) {
  for (const kafka::Property& property : properties) {
    absl::FPrintF(out, "%s=%s\n", property.name, property.value);
  }
  std::fflush(out);
}

absl::Status PrintEffectiveKafkaConfig(
    const kafka::ClientConfig& config,
    const kafka::Properties& service_defaults, FILE* out) {
  absl::StatusOr<kafka::Properties> properties =
      EffectiveKafkaConfig(config, service_defaults);
  if (!properties.ok()) return properties.status();
  PrintProperties(*properties, out);
  return absl::OkStatus();
}

}  // namespace kitchen::cli
