// File: kafka/config.cc

#include "kafka/config.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace kitchen::kafka {

absl::StatusOr<Property> ParseProperty(absl::string_view text) {
  size_t equals = text.find('=');
  if (equals == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Kafka property \"", text, "\" is not of the form name=value"));
  }
  absl::string_view name = absl::StripAsciiWhitespace(text.substr(0, equals));
  absl::string_view value = absl::StripAsciiWhitespace(text.substr(equals + 1));
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka property \"", text, "\" has an empty name"));
  }
  return Property{std::string(name), std::string(value)};
}

absl::StatusOr<Properties> ParsePropertiesText(absl::string_view text,
                                               absl::string_view source) {
  Properties properties;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<Property> property = ParseProperty(line);
    if (!property.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": ", property.status().message()));
    }
    properties.push_back(*std::move(property));
  }
  return properties;
}

absl::StatusOr<Properties> ReadPropertiesFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot read Kafka properties file ", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot read Kafka properties file ", path));
  }
  return ParsePropertiesText(text.str(), path);
}

absl::Status SetProperty(rd_kafka_conf_t* conf, absl::string_view name,
                         absl::string_view value) {
  char error[512];
  std::string name_string(name);
  std::string value_string(value);
  if (rd_kafka_conf_set(conf, name_string.c_str(), value_string.c_str(), error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    // librdkafka's message already names the property and what is wrong with
    // it; it may quote the value, which stays out of errors when secret.
    std::string message = error;
    if (IsSecretProperty(name) && !value.empty()) {
      message = absl::StrReplaceAll(message, {{value, kRedacted}});
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "Kafka property ", name, "=", Redacted(name, value), ": ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfPtr> BuildConf(const ClientConfig& config,
                                  const Properties& service_defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  for (const Property& property : service_defaults) {
    if (absl::Status status =
            SetProperty(conf.get(), property.name, property.value);
        !status.ok()) {
      return status;
    }
  }
  for (const Property& property : config.properties) {
    if (absl::Status status =
            SetProperty(conf.get(), property.name, property.value);
        !status.ok()) {
      return status;
    }
  }
  if (config.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("no Kafka bootstrap servers given");
  }
  if (absl::Status status = SetProperty(conf.get(), "bootstrap.servers",
                                        config.bootstrap_servers);
      !status.ok()) {
    return status;
  }
  return conf;
}

namespace {

// Each property of librdkafka's table and whether every row of it (global and
// topic level) says "C": consumer only.
absl::flat_hash_map<std::string, bool> ReadConsumerOnlyProperties() {
  absl::flat_hash_map<std::string, bool> consumer_only;
  char* text = nullptr;
  size_t size = 0;
  FILE* table = open_memstream(&text, &size);
  if (table == nullptr) return consumer_only;
  rd_kafka_conf_properties_show(table);
  std::fclose(table);
  // Rows look like "session.timeout.ms   |  C  | 1 .. 3600000 | ...".
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> cells = absl::StrSplit(row, '|');
    if (cells.size() < 3) continue;
    absl::string_view name = absl::StripAsciiWhitespace(cells[0]);
    absl::string_view scope = absl::StripAsciiWhitespace(cells[1]);
    if (scope != "C" && scope != "P" && scope != "*") continue;  // A header.
    auto [entry, added] = consumer_only.emplace(std::string(name), true);
    entry->second = entry->second && scope == "C";
  }
  std::free(text);
  return consumer_only;
}

}  // namespace

bool IsConsumerOnlyProperty(absl::string_view name) {
  static const absl::flat_hash_map<std::string, bool> kConsumerOnly =
      ReadConsumerOnlyProperties();
  auto found = kConsumerOnly.find(name);
  return found != kConsumerOnly.end() && found->second;
}

ClientConfig ForProducer(const ClientConfig& config) {
  ClientConfig producer{config.bootstrap_servers, {}};
  for (const Property& property : config.properties) {
    if (!IsConsumerOnlyProperty(property.name)) {
      producer.properties.push_back(property);
    }
  }
  return producer;
}

bool IsSecretProperty(absl::string_view name) {
  // What librdkafka 2.0.2 itself redacts (_RK_SENSITIVE in rdkafka_conf.c:
  // config_test checks every one its debug=conf dump hides is here), and
  // sasl.jaas.config, which Java clients' property files carry with the
  // password inside.
  static constexpr absl::string_view kSecret[] = {
      "sasl.jaas.config",
      "sasl.oauthbearer.client.secret",
      "sasl.oauthbearer.config",
      "sasl.password",
      "sasl.username",
      "ssl.ca.pem",
      "ssl.key.location",
      "ssl.key.password",
      "ssl.key.pem",
      "ssl.keystore.password",
      "ssl_key",
  };
  const std::string lower = absl::AsciiStrToLower(name);
  for (absl::string_view secret : kSecret) {
    if (lower == secret) return true;
  }
  return absl::StrContains(lower, "password") ||
         absl::StrContains(lower, "secret");
}

std::string Redacted(absl::string_view name, absl::string_view value) {
  return IsSecretProperty(name) ? std::string(kRedacted) : std::string(value);
}

}  // namespace kitchen::kafka
