// File: cli/command_line.h
//
// The command line every kitchen service shares (12-factor style):
//   --brokers             Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS,
//                         default localhost:9092)
//   --kafka_config_file   librdkafka properties file, like kcat -F
//                         (env KAFKA_CONFIG_FILE)
//   -X name=value         one librdkafka property, like kcat -X (repeatable)
// plus each service's own flags, each of which may also come from an
// environment variable of the same name in capitals (--prep_time <- PREP_TIME).
// Precedence: the command line, then the environment, then the default.
//
// Usage (in main):
//   absl::StatusOr<ParsedCommandLine> args =
//       ParseCommandLine(argc, argv, kUsage, {"group", "prep_time"});
//   absl::StatusOr<kafka::ClientConfig> kafka =
//       KafkaClientConfig(args->kafka_properties);

#ifndef KITCHEN_CLI_COMMAND_LINE_H_
#define KITCHEN_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/exit_codes.h"
#include "kafka/config.h"

ABSL_DECLARE_FLAG(std::string, brokers);
ABSL_DECLARE_FLAG(std::string, kafka_config_file);

namespace kitchen::cli {

// A flag that may also be set from the environment.
struct EnvBinding {
  std::string flag;  // "prep_time"
  std::string env;   // "PREP_TIME"
};

struct ParsedCommandLine {
  std::vector<std::string>
      positional;  // Arguments that are not flags (argv[0] first).
  kafka::Properties kafka_properties;  // From -X, in order.
};

// Takes the -X pairs out of argv, sets each flag of `env` (and the shared
// --brokers and --kafka_config_file) from its environment variable, then parses
// the rest with absl::ParseCommandLine, which overrides the environment,
// handles --help and exits on an unknown flag. A bad -X or environment value is
// an error naming it.
absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::string_view usage,
    const std::vector<std::string>& env_flags);

// Splits "-X name=value" pairs out of `args` (argv without argv[0]); exposed
// for tests.
absl::StatusOr<kafka::Properties> ExtractKafkaProperties(
    std::vector<std::string>& args);

// FLAG_NAME for --flag_name: the environment variable a flag is read from.
std::string EnvironmentName(absl::string_view flag);

// Sets each flag whose environment variable is set and not empty.
absl::Status ApplyEnvironment(const std::vector<EnvBinding>& env);

// The Kafka client configuration the shared flags describe: the properties
// file, then the -X properties, and the bootstrap servers.
absl::StatusOr<kafka::ClientConfig> KafkaClientConfig(
    const kafka::Properties& command_line_properties);

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_COMMAND_LINE_H_
