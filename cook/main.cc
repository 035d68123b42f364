// File: cook/main.cc
//
// cook: a member of the consumer group that cooks the orders on pizza-order.
// Flags, signals and wiring here; the cooking is cook.h.

#include <string>

#include "absl/flags/flag.h"
#include "cli/command_line.h"
#include "cli/health_file.h"
#include "cli/stop_signal.h"
#include "cook/cook.h"
#include "kafka/consumer.h"
#include "logging/log.h"
#include "orders/dead_letter.h"
#include "orders/order_record.h"

ABSL_FLAG(
    std::string, group, "cook",
    "Consumer group. Cooks in one group share the orders; another group sees "
    "every order again. Environment: GROUP.");
ABSL_FLAG(
    absl::Duration, prep_time, absl::Seconds(2),
    "How long cooking one pizza takes (e.g. 2s, 0 for tests and benchmarks). "
    "Environment: PREP_TIME.");
ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic to take orders from. Environment: TOPIC.");
ABSL_FLAG(
    std::string, dead_letter_topic, kitchen::orders::kDeadLetterTopic,
    "Where records that are not orders go. Environment: DEAD_LETTER_TOPIC.");

ABSL_FLAG(
    absl::Duration, lag_interval, absl::Seconds(30),
    "How often to log the consumer lag per partition (0: only at shutdown). "
    "Environment: LAG_INTERVAL.");
ABSL_FLAG(
    std::string, health_file, "",
    "A file rewritten every second while the cook runs: `ready` once it has "
    "partitions, else `starting` (for container probes). Environment: "
    "HEALTH_FILE.");

namespace {

constexpr char kUsage[] = R"(cooks the kitchen's orders.

Joins a Kafka consumer group (default "cook") on pizza-order and logs each order as it
starts and when it is ready. An order is marked done only once cooked
(at-least-once). Run several cooks to share the work.

Usage: cook [--group cook] [--prep_time 2s] [--brokers localhost:9092]
Stop with Ctrl-C or SIGTERM: the order being cooked is abandoned (cooked again later),
progress is committed and the cook leaves the group.
)";

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("cook");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.

  absl::StatusOr<kitchen::cli::ParsedCommandLine> args =
      kitchen::cli::ParseCommandLine(
          argc, argv, kUsage,
          {"group", "prep_time", "topic", "dead_letter_topic", "lag_interval",
           "health_file"});
  if (!args.ok()) {
    kitchen::logging::Error("%s", args.status().message());
    return kitchen::cli::kExitUsage;
  }
  if (args->positional.size() > 1) {
    kitchen::logging::Error("unexpected argument \"%s\"; see --help",
                            args->positional[1]);
    return kitchen::cli::kExitUsage;
  }
  kitchen::cook::CookOptions options;
  options.group = absl::GetFlag(FLAGS_group);
  options.prep_time = absl::GetFlag(FLAGS_prep_time);
  options.health_file = absl::GetFlag(FLAGS_health_file);
  options.lag_interval = absl::GetFlag(FLAGS_lag_interval);
  if (options.prep_time < absl::ZeroDuration()) {
    kitchen::logging::Error("--prep_time must not be negative");
    return kitchen::cli::kExitUsage;
  }
  if (options.group.empty()) {
    kitchen::logging::Error("--group must not be empty");
    return kitchen::cli::kExitUsage;
  }
  if (absl::Status valid = kitchen::orders::ValidateTopics(
          absl::GetFlag(FLAGS_topic), absl::GetFlag(FLAGS_dead_letter_topic));
      !valid.ok()) {
    kitchen::logging::Error("%s", valid.message());
    return kitchen::cli::kExitUsage;
  }
  if (absl::Status prepared =
          kitchen::cli::HealthFile::Prepare(options.health_file);
      !prepared.ok()) {
    kitchen::logging::Error("%s", prepared.message());
    return kitchen::cli::kExitUsage;
  }

  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      kitchen::cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) {
    kitchen::logging::Error("%s", kafka.status().message());
    return kitchen::cli::kExitUsage;
  }
  auto conf = kitchen::kafka::BuildConf(
      *kafka, kitchen::kafka::ConsumerDefaultsFor(*kafka, options.group));
  if (!conf.ok()) {
    kitchen::logging::Error("%s", conf.status().message());
    return kitchen::cli::kExitUsage;
  }
  auto dead_letters = kitchen::orders::DeadLetterQueue::Create(
      *kafka, absl::GetFlag(FLAGS_dead_letter_topic), options.group);
  if (!dead_letters.ok()) {
    kitchen::logging::Error("%s", dead_letters.status().message());
    return kitchen::cli::kExitUsage;
  }
  auto consumer = kitchen::kafka::Consumer::Create(
      *std::move(conf), {absl::GetFlag(FLAGS_topic)}, nullptr);
  if (!consumer.ok()) {
    kitchen::logging::Error("%s", consumer.status().message());
    return kitchen::cli::kExitKafka;
  }

  kitchen::logging::Info(
      "cook started in group %s on %s (prep time %s), brokers %s",
      options.group, absl::GetFlag(FLAGS_topic),
      absl::FormatDuration(options.prep_time), kafka->bootstrap_servers);
  kitchen::cook::Cook cook(options, consumer->get(), dead_letters->get());
  absl::Status result = cook.Run(stop_signal.stop());

  absl::Status closed = (*consumer)->Close();
  kitchen::logging::Info(
      "cook stopped: %d cooked, %d dead-lettered%s", cook.cooked(),
      (*dead_letters)->parked(),
      closed.ok() ? "" : absl::StrCat("; ", closed.message()).c_str());
  if (!result.ok()) {
    kitchen::logging::Error("%s", result.message());
    return kitchen::cli::kExitKafka;
  }
  return kitchen::cli::kExitOk;
}
