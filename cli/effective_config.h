// File: cli/effective_config.h
//
// The Kafka settings a service would run with, printed without connecting
// (`--print_kafka_config`): each property its defaults, the properties file,
// -X and --brokers set, with the value librdkafka holds for it once they are
// all applied in BuildConf's order, one `name=value` per line, sorted by name.
// Secret values (passwords, keys, SASL/OAuth secrets: kafka::IsSecretProperty)
// print as kafka::kRedacted, so the output is safe to paste into an issue.
//
// The flag is defined here, like --brokers in command_line.h: every service
// that links this library has it (and shows it in --help).
//
// Usage (in main, after ParseCommandLine and KafkaClientConfig):
//   if (absl::GetFlag(FLAGS_print_kafka_config)) {
//     absl::Status printed =
//         PrintEffectiveKafkaConfig(*kafka, ServiceDefaults(), stdout);
//     return printed.ok() ? kExitOk : UsageError(printed.message());
//   }

#ifndef KITCHEN_CLI_EFFECTIVE_CONFIG_H_
#define KITCHEN_CLI_EFFECTIVE_CONFIG_H_

#include <librdkafka/rdkafka.h>

#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kafka/config.h"

ABSL_DECLARE_FLAG(bool, print_kafka_config);

namespace kitchen::cli {

// The properties set on a client configured as kafka::BuildConf(config,
// service_defaults) configures it, with librdkafka's reading of each value
// (later settings win; a property librdkafka's default already has is shown
// when something set it), redacted, sorted by name. Fails as BuildConf fails:
// a property librdkafka rejects, no bootstrap servers.
absl::StatusOr<kafka::Properties> EffectiveKafkaConfig(
    const kafka::ClientConfig& config,
    const kafka::Properties& service_defaults);

// For a configuration built elsewhere: every property of `conf` (global and
// default topic level) whose value differs from librdkafka's default, under
// librdkafka's own names (linger.ms shows as queue.buffering.max.ms),
// redacted, sorted by name.
kafka::Properties ChangedProperties(const rd_kafka_conf_t& conf);

// Writes one `name=value` line per property, in the order given.
void PrintProperties(const kafka::Properties& properties, FILE* out);

// EffectiveKafkaConfig, printed: what --print_kafka_config shows.
absl::Status PrintEffectiveKafkaConfig(
    const kafka::ClientConfig& config,
    const kafka::Properties& service_defaults, FILE* out);

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_EFFECTIVE_CONFIG_H_
