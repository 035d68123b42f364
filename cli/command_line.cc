// File: cli/command_line.cc

#include "cli/command_line.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/usage.h"

ABSL_FLAG(std::string, brokers, "",
          "Kafka bootstrap servers, host:port[,host:port...]. Environment: "
          "KAFKA_BOOTSTRAP_SERVERS. Default: bootstrap.servers from -X or "
          "--kafka_config_file, else localhost:9092.");
ABSL_FLAG(
    std::string, kafka_config_file, "",
    "A file of librdkafka properties, one name=value per line (like kcat -F), "
    "e.g. TLS/SASL settings. Single properties: -X name=value (repeatable). "
    "Environment: KAFKA_CONFIG_FILE.");

namespace kitchen::cli {
namespace {

const std::vector<EnvBinding>& SharedBindings() {
  static const auto* bindings = new std::vector<EnvBinding>{
      {"brokers", "KAFKA_BOOTSTRAP_SERVERS"},
      {"kafka_config_file", "KAFKA_CONFIG_FILE"},
  };
  return *bindings;
}

constexpr char kDefaultBootstrapServers[] = "localhost:9092";

}  // namespace

absl::StatusOr<kafka::Properties> ExtractKafkaProperties(
    std::vector<std::string>& args) {
  kafka::Properties properties;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {  // Everything after is positional.
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    std::string text;
    if (arg == "-X") {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("-X needs a name=value argument");
      }
      text = args[++i];
    } else if (absl::StartsWith(arg, "-X")) {
      text = arg.substr(2);
    } else {
      rest.push_back(arg);
      continue;
    }
    absl::StatusOr<kafka::Property> property = kafka::ParseProperty(text);
    if (!property.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("-X: ", property.status().message()));
    }
    property->source = "-X";
    properties.push_back(*std::move(property));
  }
  args = std::move(rest);
  return properties;
}

std::string EnvironmentName(absl::string_view flag) {
  return absl::AsciiStrToUpper(flag);
}

absl::Status ApplyEnvironment(const std::vector<EnvBinding>& env) {
  for (const EnvBinding& binding : env) {
    const char* value = std::getenv(binding.env.c_str());
    if (value == nullptr || *value == '\0') continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(binding.flag);
    if (flag == nullptr) {
      return absl::InternalError(absl::StrCat("no flag --", binding.flag));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", binding.env, "=\"", value,
                       "\" is not a valid --", binding.flag, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::string_view usage,
    const std::vector<std::string>& env_flags) {
  ConfigureHelp(usage);
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<kafka::Properties> properties = ExtractKafkaProperties(args);
  if (!properties.ok()) return properties.status();

  // The environment first, so that the command line, parsed next, overrides it.
  if (absl::Status status = ApplyEnvironment(SharedBindings()); !status.ok()) {
    return status;
  }
  std::vector<EnvBinding> env;
  for (const std::string& flag : env_flags) {
    env.push_back({flag, EnvironmentName(flag)});
  }
  if (absl::Status status = ApplyEnvironment(env); !status.ok()) return status;

  std::vector<char*> remaining = {argv[0]};
  for (std::string& arg : args) remaining.push_back(arg.data());
  std::vector<char*> positional = absl::ParseCommandLine(
      static_cast<int>(remaining.size()), remaining.data());

  ParsedCommandLine parsed;
  parsed.positional.assign(positional.begin(), positional.end());
  parsed.kafka_properties = *std::move(properties);
  return parsed;
}

absl::StatusOr<kafka::ClientConfig> KafkaClientConfig(
    const kafka::Properties& command_line_properties) {
  kafka::ClientConfig config;
  std::string file = absl::GetFlag(FLAGS_kafka_config_file);
  if (!file.empty()) {
    absl::StatusOr<kafka::Properties> from_file =
        kafka::ReadPropertiesFile(file);
    if (!from_file.ok()) return from_file.status();
    config.properties = *std::move(from_file);
  }
  config.properties.insert(config.properties.end(),
                           command_line_properties.begin(),
                           command_line_properties.end());

  // --brokers (or its environment variable) wins, then a bootstrap.servers
  // property, then the default.
  config.bootstrap_servers = absl::GetFlag(FLAGS_brokers);
  if (config.bootstrap_servers.empty()) {
    config.bootstrap_servers = kDefaultBootstrapServers;
    for (const kafka::Property& property : config.properties) {
      if (property.name == "bootstrap.servers") {
        config.bootstrap_servers = property.value;
      }
    }
  }
  return config;
}

}  // namespace kitchen::cli
