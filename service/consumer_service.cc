// File: service/consumer_service.cc

#include "service/consumer_service.h"

#include <cstdio>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/effective_config.h"
#include "cli/health_file.h"
#include "kafka/admission.h"
#include "kafka/consumer.h"
#include "logging/log.h"
#include "orders/dead_letter.h"
#include "orders/order_record.h"
#include "service/presence.h"

ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic to take orders from. Environment: TOPIC.");
ABSL_FLAG(
    std::string, dead_letter_topic, kitchen::orders::kDeadLetterTopic,
    "Where records that are not orders go. Environment: DEAD_LETTER_TOPIC.");
ABSL_FLAG(std::string, members_topic, kitchen::service::kMembersTopic,
          "Where this member announces the partitions it holds, for the board "
          "(empty: nowhere). Environment: MEMBERS_TOPIC.");
ABSL_FLAG(std::string, health_file, "",
          "A file rewritten every second while the service runs: `ready` once "
          "it has partitions, else `starting` (for container probes). "
          "Environment: HEALTH_FILE.");

ABSL_FLAG(int, metrics_port, 0,
          "Serve Prometheus metrics at http://METRICS_LISTEN:PORT/metrics (0: "
          "off). Environment: METRICS_PORT.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1",
          "The address /metrics listens on (0.0.0.0 in a container). "
          "Environment: METRICS_LISTEN.");

namespace kitchen::service {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(
    const Metrics& metrics) {
  const int port = absl::GetFlag(FLAGS_metrics_port);
  if (port == 0) return std::unique_ptr<MetricsEndpoint>();
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_port ", port, " is not a port (1 to 65535; 0: off)"));
  }
  const std::string host = absl::GetFlag(FLAGS_metrics_listen);
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start(metrics, host, port);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(endpoint.status().message());
  }
  logging::Info("metrics at http://%s:%d/metrics", host, (*endpoint)->port());
  return endpoint;
}

absl::StatusOr<cli::ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::string_view usage,
    std::vector<std::string> own_flags) {
  own_flags.insert(own_flags.end(),
                   {"topic", "dead_letter_topic", "health_file",
                    "members_topic", "metrics_port", "metrics_listen"});
  return cli::ParseCommandLine(argc, argv, usage, own_flags);
}

int UsageError(absl::string_view message) {
  logging::Error("%s", message);
  return cli::kExitUsage;
}

absl::Status CheckGroupAndTopics(absl::string_view group,
                                 absl::string_view topic,
                                 absl::string_view dead_letter_topic) {
  if (group.empty()) {
    return absl::InvalidArgumentError("--group must not be empty");
  }
  return orders::ValidateTopics(topic, dead_letter_topic);
}

int Run(ServiceOptions options,
        const kafka::Properties& command_line_properties,
        absl::Notification& stop, const HandlerFactory& make_handler) {
  return Run(std::move(options), command_line_properties, stop,
             ContextHandlerFactory([&make_handler](const ServiceContext&) {
               return make_handler();
             }));
}

int Run(ServiceOptions options,
        const kafka::Properties& command_line_properties,
        absl::Notification& stop, const ContextHandlerFactory& make_handler) {
  const std::string topic = absl::GetFlag(FLAGS_topic);
  const std::string dead_letter_topic = absl::GetFlag(FLAGS_dead_letter_topic);
  options.loop.health_file = absl::GetFlag(FLAGS_health_file);
  if (absl::Status valid =
          CheckGroupAndTopics(options.group, topic, dead_letter_topic);
      !valid.ok()) {
    return UsageError(valid.message());
  }
  absl::StatusOr<kafka::ClientConfig> kafka =
      cli::KafkaClientConfig(command_line_properties);
  if (!kafka.ok()) return UsageError(kafka.status().message());
  if (absl::Status eager = kafka::CheckAssignmentStrategy(*kafka);
      !eager.ok()) {
    return UsageError(eager.message());
  }
  if (absl::GetFlag(FLAGS_print_kafka_config)) {
    // Without asking the brokers, so with the fetch wait for Kafka; on the dev
    // broker the running service takes 2 ms (kafka::ConsumerDefaultsFor).
    kafka::Properties defaults = kafka::ConsumerDefaults(options.group);
    defaults.insert(defaults.end(), options.consumer_defaults.begin(),
                    options.consumer_defaults.end());
    absl::Status printed =
        cli::PrintEffectiveKafkaConfig(*kafka, defaults, stdout);
    return printed.ok() ? cli::kExitOk : UsageError(printed.message());
  }
  if (absl::Status prepared =
          cli::HealthFile::Prepare(options.loop.health_file);
      !prepared.ok()) {
    return UsageError(prepared.message());
  }
  // Before anything connects: a port that cannot be had is a bad flag.
  Metrics metrics;
  options.loop.metrics = &metrics;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      StartMetricsEndpoint(metrics);
  if (!endpoint.ok()) return UsageError(endpoint.status().message());
  // Let in? Refused credentials or TLS stop here, named (kafka/admission.h).
  if (absl::Status admitted = kafka::CheckAdmission(*kafka); !admitted.ok()) {
    if (absl::IsInvalidArgument(admitted)) {
      return UsageError(admitted.message());
    }
    logging::Error("%s", admitted.message());
    return cli::kExitKafka;
  }
  kafka::Properties consumer_defaults =
      kafka::ConsumerDefaultsFor(*kafka, options.group);
  consumer_defaults.insert(consumer_defaults.end(),
                           options.consumer_defaults.begin(),
                           options.consumer_defaults.end());
  const bool transactional = !options.transactional_id.empty();
  // Offsets go in the transactions only.
  if (transactional)
    consumer_defaults.push_back({"enable.auto.commit", "false"});
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(*kafka, consumer_defaults);
  if (!conf.ok()) return UsageError(conf.status().message());

  std::unique_ptr<TransactionalProducer> transaction;
  if (transactional) {
    auto made = TransactionalProducer::Create(kafka::ForProducer(*kafka),
                                              {options.transactional_id});
    if (!made.ok()) {
      logging::Error("%s", made.status().message());
      return cli::kExitKafka;
    }
    transaction = *std::move(made);
    options.loop.transaction = transaction.get();
    options.loop.commit_after_transaction =
        kafka::IsDevBroker(*kafka, absl::Seconds(3));
    if (options.loop.commit_after_transaction) {
      logging::Info(
          "the brokers are the dev broker, whose transactions keep no offsets: "
          "each transaction's offsets are also committed plainly after it "
          "(at-least-once there)");
    }
  }
  absl::StatusOr<std::unique_ptr<Handler>> handler =
      make_handler(ServiceContext{*kafka, transaction.get(), &metrics});
  if (!handler.ok()) {
    logging::Error("%s", handler.status().message());
    return options.handler_failure_exit;
  }
  auto dead_letters =
      orders::DeadLetterQueue::Create(*kafka, dead_letter_topic, options.group);
  if (!dead_letters.ok()) return UsageError(dead_letters.status().message());
  // Announced for the board; best effort, never a reason not to work.
  std::unique_ptr<Presence> presence;
  if (const std::string members_topic = absl::GetFlag(FLAGS_members_topic);
      !members_topic.empty() && !options.member.empty()) {
    absl::StatusOr<std::unique_ptr<Presence>> started =
        Presence::Start(*kafka, members_topic,
                        {options.group, options.member, options.name, topic});
    if (started.ok()) {
      presence = *std::move(started);
      options.loop.on_assignment =
          [&presence](const std::vector<kafka::TopicPartition>& assignment) {
            presence->Announce(assignment);
          };
    } else {
      logging::Warning("not announcing this member: %s",
                       started.status().message());
    }
  }
  Loop loop(options.loop, **handler, **dead_letters);
  auto consumer = kafka::Consumer::Create(*std::move(conf), {topic}, &loop);
  if (!consumer.ok()) {
    logging::Error("%s", consumer.status().message());
    return cli::kExitKafka;
  }
  logging::Info(
      "%s started in group %s on %s%s, brokers %s", options.name, options.group,
      topic,
      options.detail.empty() ? "" : absl::StrCat(" (", options.detail, ")"),
      kafka->bootstrap_servers);

  absl::Status result = loop.Run(**consumer, stop);
  // Whatever stopped the loop, leaving is safe: the offsets kept only ever
  // cover what the handler finished (and flushed).
  absl::Status closed = (*consumer)->Close();
  logging::Info("%s stopped: %s, %d dead-lettered%s", options.name,
                (*handler)->Summary(), (*dead_letters)->parked(),
                closed.ok() ? "" : absl::StrCat("; ", closed.message()));
  if (!result.ok()) {
    logging::Error("%s", result.message());
    return loop.handler_failed() ? options.handler_failure_exit
                                 : cli::kExitKafka;
  }
  return cli::kExitOk;
}

}  // namespace kitchen::service
