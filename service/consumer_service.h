// File: service/consumer_service.h
//
// Everything a consumer service's main() does besides its own flags and its
// handler (service/handler.h), in the order it must happen:
//   1. the command line: cli's (--brokers, --kafka_config_file, -X) and the
//      flags every consumer has, defined here: --topic, --dead_letter_topic,
//      --health_file, --metrics_port and --metrics_listen (service/metrics.h),
//      and --print_kafka_config (cli/effective_config.h);
//   2. the checks, each a line naming what is wrong and exit 1, before anything
//      connects: the group, the topics, the Kafka properties (a cooperative
//      assignor is refused: kafka::CheckAssignmentStrategy), the health file;
//      with --print_kafka_config, the consumer's settings are printed instead
//      of running (exit 0);
//   3. the consumer configuration, its fetch wait chosen for the brokers
//      (kafka::ConsumerDefaultsFor asks them once);
//   4. the handler, from the caller's factory, now that everything the user
//      said is good (the manager opens its ledger there: a locked ledger keeps
//      it out of the group);
//   5. the dead-letter queue, the consumer, and the loop (service/loop.h)
//      until `stop` is notified;
//   6. close (commit, leave the group) and one stop line.
// Exit statuses (cli/exit_codes.h): 0 stopped cleanly; 1 bad flag or
// configuration; 2 Kafka failed; `handler_failure_exit` when the handler could
// not be made or failed (the manager: 3, its ledger).
//
// Usage (in main, after cli::StopSignal):
//   auto args = ParseCommandLine(argc, argv, kUsage, {"group", "prep_time"});
//   if (!args.ok()) return UsageError(args.status().message());
//   ServiceOptions options;
//   options.name = "cook";
//   options.group = absl::GetFlag(FLAGS_group);
//   return Run(options, args->kafka_properties, stop_signal.stop(),
//              [] { return std::make_unique<Cook>(); });

#ifndef KITCHEN_SERVICE_CONSUMER_SERVICE_H_
#define KITCHEN_SERVICE_CONSUMER_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "cli/command_line.h"
#include "cli/exit_codes.h"
#include "kafka/config.h"
#include "service/handler.h"
#include "service/loop.h"
#include "service/metrics.h"
#include "service/transaction.h"

ABSL_DECLARE_FLAG(std::string, topic);
ABSL_DECLARE_FLAG(std::string, dead_letter_topic);
ABSL_DECLARE_FLAG(std::string, health_file);

namespace kitchen::service {

struct ServiceOptions {
  std::string name;    // "cook": its start and stop lines say it.
  std::string group;   // Its consumer group (--group).
  std::string detail;  // In the start line, e.g. "prep time 2s"; may be empty.
  // This instance's name in its group ("cook-1"), announced with the
  // partitions it holds (service/presence.h); empty: not announced.
  std::string member;
  // How the loop runs; its health_file comes from --health_file.
  LoopOptions loop;
  int handler_failure_exit = cli::kExitKafka;
  // Consumer defaults of this service's own, over kafka::ConsumerDefaults
  // (the manager: auto.offset.reset=error, see manager/main.cc).
  kafka::Properties consumer_defaults;
  // Not empty: the handler keeps its progress in Kafka transactions
  // (kOffsetsInTransaction) of a producer with this transactional id, made
  // before the handler and given to it (ServiceContext); the consumer does not
  // auto-commit, and on the dev broker commits the same offsets plainly after
  // each transaction.
  std::string transactional_id;
};

using HandlerFactory =
    std::function<absl::StatusOr<std::unique_ptr<Handler>>()>;

// What a handler may use besides its own flags.
struct ServiceContext {
  const kafka::ClientConfig& kafka;    // The user's Kafka configuration.
  TransactionalProducer* transaction;  // With transactional_id only.
  // The service's metrics, for the handler's own (service/metrics.h); served
  // at /metrics with --metrics_port. Outlives the handler.
  Metrics* metrics = nullptr;
};
using ContextHandlerFactory =
    std::function<absl::StatusOr<std::unique_ptr<Handler>>(
        const ServiceContext& context)>;

// cli::ParseCommandLine, with the flags every consumer shares bound to their
// environment variables besides `own_flags`.
absl::StatusOr<cli::ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::string_view usage,
    std::vector<std::string> own_flags);

// GET /metrics of `metrics` when --metrics_port is given (null otherwise);
// InvalidArgument for a port that is not one or cannot be had.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(
    const Metrics& metrics);

// Logs `message` and returns kExitUsage: for main()'s own checks.
int UsageError(absl::string_view message);

// The group and topics a consumer is given: a group that is not empty, valid
// topic names, and a dead-letter topic that is not the topic it serves.
absl::Status CheckGroupAndTopics(absl::string_view group,
                                 absl::string_view topic,
                                 absl::string_view dead_letter_topic);

// Steps 2 to 6 above for the service `options` describes, its Kafka
// properties from the command line `command_line_properties` (-X) and the
// shared flags. Returns the exit status.
int Run(ServiceOptions options,
        const kafka::Properties& command_line_properties,
        absl::Notification& stop, const HandlerFactory& make_handler);
// The same, for a handler that uses the service's context.
int Run(ServiceOptions options,
        const kafka::Properties& command_line_properties,
        absl::Notification& stop, const ContextHandlerFactory& make_handler);

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_CONSUMER_SERVICE_H_
