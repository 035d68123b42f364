// File: kafka/config.cc

#include "kafka/config.h"

#include <algorithm>
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

namespace {

// What may make up a property's name: librdkafka's names and Java clients'
// (sasl.jaas.config) are all of these.
bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '-';
}

bool IsPropertyName(absl::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), IsNameCharacter);
}

bool IsKnownPropertyName(absl::string_view name);  // Below.

// The error for text that is not name=value. It never shows the text, which
// may be a secret ("sasl.password: hunter2"); only a leading word that is a
// property librdkafka (or a Java client) knows, so the user sees which line.
absl::Status NotNameEqualsValue(absl::string_view text) {
  absl::string_view word = text.substr(
      0, static_cast<size_t>(
             std::find_if_not(text.begin(), text.end(), IsNameCharacter) -
             text.begin()));
  if (IsKnownPropertyName(word)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka property ", word,
                     " has no '=' (name=value; the rest is not shown)"));
  }
  return absl::InvalidArgumentError(
      "a Kafka property is not of the form name=value (not shown: it may "
      "hold a secret)");
}

}  // namespace

absl::StatusOr<Property> ParseProperty(absl::string_view text) {
  size_t equals = text.find('=');
  if (equals == absl::string_view::npos) return NotNameEqualsValue(text);
  absl::string_view name = absl::StripAsciiWhitespace(text.substr(0, equals));
  absl::string_view value = absl::StripAsciiWhitespace(text.substr(equals + 1));
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "a Kafka property has an empty name (=value; the value is not shown)");
  }
  // "sasl.jaas.config ... password=\"...\"": the first '=' is inside the
  // value, and the "name" would show part of it.
  if (!IsPropertyName(name)) return NotNameEqualsValue(text);
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
    property->source = absl::StrCat(source, ":", line_number);
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

namespace {

// librdkafka's message for a value rd_kafka_conf_set refused, without the
// value: some messages quote it whole or one element of a list (Invalid value
// "..." for configuration property, value N is outside allowed range), others
// a plugin's path. A quoted value is taken out; a message that still holds
// the value or an element of it is replaced whole.
std::string WithoutValue(std::string message, absl::string_view name,
                         absl::string_view value) {
  message = std::string(absl::StripAsciiWhitespace(message));
  if (value.empty()) return message;
  // `value "..." ` → `value `, whatever is quoted.
  for (size_t at = message.find("value \""); at != std::string::npos;
       at = message.find("value \"", at)) {
    size_t close = message.find('"', at + 7);
    if (close == std::string::npos) break;
    message.erase(at + 5, close + 1 - (at + 5));  // Keeps "value".
  }
  // "Configuration property "x" value 0 is outside allowed range 1..3600000".
  if (size_t at = message.find("\" value "); at != std::string::npos) {
    size_t number = at + 8;
    size_t end = message.find(" is outside", number);
    if (end != std::string::npos) message.erase(number - 1, end - number + 1);
  }
  // A few characters are found in any message by chance ("1" in a range);
  // longer ones, or any of a secret, found anywhere are the value.
  const bool secret = IsSecretProperty(name);
  std::vector<absl::string_view> parts =
      absl::StrSplit(value, absl::ByAnyChar(",; \t"), absl::SkipEmpty());
  parts.push_back(value);
  for (absl::string_view part : parts) {
    if ((part.size() >= 4 || secret) && absl::StrContains(message, part)) {
      return "librdkafka refuses its value";
    }
  }
  return message;
}

// "client.properties:3: " or "-X: " before an error about `property`.
std::string Where(const Property& property) {
  return property.source.empty() ? std::string()
                                 : absl::StrCat(property.source, ": ");
}

// librdkafka's reading of `name` on `conf`; empty when unset.
std::string ValueOn(const rd_kafka_conf_t* conf, const std::string& name) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, name.c_str(), value, &size) != RD_KAFKA_CONF_OK) {
    return "";
  }
  return value;
}

// A property a kitchen client owns: the file and -X may not change it.
struct OwnedProperty {
  const char* name;
  // Owned even when the service does not set it, with librdkafka's default
  // as its value; nullptr: owned only when the service sets it.
  const char* unless_set;
  const char* why;  // Said after the service's value; may be empty.
};

// What each service sets (kafka::ConsumerDefaults, the waiter's and the
// dead-letter producer's defaults) and relies on: the group (from --group),
// at-least-once progress (offsets stored only when done, committed
// automatically), where a new group starts, what a consumer reads, and the
// idempotent, fully acknowledged writes. Nothing in the kitchen is a
// transactional producer, and a consumer reads committed records only.
constexpr OwnedProperty kOwnedProperties[] = {
    {"group.id", nullptr, "choose the group with --group"},
    {"enable.auto.commit", nullptr, ""},
    {"enable.auto.offset.store", nullptr, ""},
    {"auto.offset.reset", nullptr, ""},
    {"acks", nullptr, ""},
    {"enable.idempotence", nullptr, ""},
    {"isolation.level", "read_committed", ""},
    {"transactional.id", "", ""},
};

}  // namespace

absl::Status SetProperty(rd_kafka_conf_t* conf, absl::string_view name,
                         absl::string_view value) {
  char error[512];
  std::string name_string(name);
  std::string value_string(value);
  if (rd_kafka_conf_set(conf, name_string.c_str(), value_string.c_str(), error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    // librdkafka's message names the property and what is wrong; the value,
    // which may be a secret, is never shown.
    return absl::InvalidArgumentError(absl::StrCat(
        "Kafka property ", name, ": ", WithoutValue(error, name, value)));
  }
  return absl::OkStatus();
}

absl::Status CheckOwnedProperties(const ClientConfig& config,
                                  const Properties& service_defaults) {
  for (const OwnedProperty& owned : kOwnedProperties) {
    const Property* set_by_service = nullptr;
    for (const Property& property : service_defaults) {
      if (property.name == owned.name) set_by_service = &property;
    }
    if (set_by_service == nullptr && owned.unless_set == nullptr) continue;
    // The service's value as librdkafka reads it, and each user property
    // applied after it: one that changes it (under its own name or an alias,
    // request.required.acks for acks) is refused.
    ConfPtr service(rd_kafka_conf_new());
    if (set_by_service != nullptr &&
        rd_kafka_conf_set(service.get(), owned.name,
                          set_by_service->value.c_str(), nullptr,
                          0) != RD_KAFKA_CONF_OK) {
      continue;  // BuildConf names the service's own mistake.
    }
    const std::string service_value = ValueOn(service.get(), owned.name);
    for (const Property& property : config.properties) {
      ConfPtr changed(rd_kafka_conf_dup(service.get()));
      if (rd_kafka_conf_set(changed.get(), property.name.c_str(),
                            property.value.c_str(), nullptr,
                            0) != RD_KAFKA_CONF_OK) {
        continue;  // BuildConf names it.
      }
      if (ValueOn(changed.get(), owned.name) == service_value) continue;
      std::string theirs =
          service_value.empty()
              ? std::string(
                    "none: the kitchen's producers are not "
                    "transactional")
              : absl::StrCat(owned.name, "=",
                             set_by_service != nullptr
                                 ? Redacted(owned.name, set_by_service->value)
                                 : Redacted(owned.name, service_value));
      return absl::InvalidArgumentError(absl::StrCat(
          Where(property), property.name, " is the service's own (", theirs,
          *owned.why != '\0' ? absl::StrCat("; ", owned.why) : "",
          "): a different value is refused"));
    }
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
      return absl::InvalidArgumentError(
          absl::StrCat(Where(property), status.message()));
    }
  }
  if (absl::Status owned = CheckOwnedProperties(config, service_defaults);
      !owned.ok()) {
    return owned;
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

const absl::flat_hash_map<std::string, bool>& ConsumerOnlyTable() {
  static const auto* table =
      new absl::flat_hash_map<std::string, bool>(ReadConsumerOnlyProperties());
  return *table;
}

// A name librdkafka's table has, or sasl.jaas.config (Java clients' files
// carry it). Not "any name with secret in it": such a word may be the secret.
bool IsKnownPropertyName(absl::string_view name) {
  return ConsumerOnlyTable().contains(name) ||
         absl::EqualsIgnoreCase(name, "sasl.jaas.config");
}

}  // namespace

bool IsConsumerOnlyProperty(absl::string_view name) {
  auto found = ConsumerOnlyTable().find(name);
  return found != ConsumerOnlyTable().end() && found->second;
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
