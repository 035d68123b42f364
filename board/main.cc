// File: board/main.cc
//
// board: a live web page of the kitchen. Flags, signals and wiring here; the
// service is run.h.

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "board/run.h"
#include "cli/command_line.h"
#include "cli/exit_codes.h"
#include "cli/stop_signal.h"
#include "kafka/admission.h"
#include "kafka/topic_name.h"
#include "logging/log.h"
#include "orders/order_event.h"
#include "orders/order_record.h"

ABSL_FLAG(std::string, listen, "127.0.0.1",
          "Address to serve the page on (0.0.0.0: every interface). "
          "Environment: LISTEN.");
ABSL_FLAG(int, port, 8080,
          "Port to serve the page on (0: any free port; the URL is printed). "
          "Environment: PORT.");
ABSL_FLAG(std::vector<std::string>, allowed_hosts, {},
          "Host names the page may be reached by besides 127.0.0.1, localhost "
          "and --listen (comma-separated, NAME or NAME:PORT: a proxy's or a "
          "Kubernetes Service's). Orders are refused from any other. "
          "Environment: ALLOWED_HOSTS.");
ABSL_FLAG(int, max_streams, 32,
          "Live pages (event streams) served at once; each holds a thread. "
          "One more is refused (503). Environment: MAX_STREAMS.");
ABSL_FLAG(int, metrics_port, 0,
          "Serve Prometheus metrics at http://METRICS_LISTEN:PORT/metrics (0: "
          "off). Environment: METRICS_PORT.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1",
          "The address /metrics listens on. Environment: METRICS_LISTEN.");
ABSL_FLAG(int, max_cards, 2000,
          "Orders the board keeps on its cards (the most recently changed). "
          "Environment: MAX_CARDS.");

ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic of the orders. Environment: TOPIC.");
ABSL_FLAG(std::string, status_topic, kitchen::orders::kStatusTopic,
          "Topic of the order events. Environment: STATUS_TOPIC.");
ABSL_FLAG(std::string, dead_letter_topic, kitchen::orders::kDeadLetterTopic,
          "Topic of the dead letters. Environment: DEAD_LETTER_TOPIC.");
ABSL_FLAG(std::string, members_topic, "kitchen-members",
          "Topic where the services announce their partitions. Environment: "
          "MEMBERS_TOPIC.");
ABSL_FLAG(std::string, cook_group, "cook",
          "The cooks' consumer group. Environment: COOK_GROUP.");
ABSL_FLAG(std::string, manager_group, "manager",
          "The manager's consumer group. Environment: MANAGER_GROUP.");

namespace {

constexpr char kUsage[] = R"(serves a live web page of the kitchen.

Reads pizza-order, order-status and the dead-letter topic (in no consumer group: it
takes no work and moves no offsets) and the cook and manager groups' committed
offsets, and shows each order moving placed -> cooking -> ready -> recorded, the
groups' members and lag, and counts. Orders placed on the page go through the
waiter's menu and checks.

Usage: board [--port 8080] [--listen 127.0.0.1] [--brokers localhost:9092]
Prints "board: http://HOST:PORT/" once it serves. Stop with Ctrl-C or SIGTERM.
)";

int UsageError(absl::string_view message) {
  kitchen::logging::Error("%s", message);
  return kitchen::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = kitchen::cli;
  kitchen::logging::SetServiceName("board");
  cli::StopSignal stop_signal;  // Before any other thread starts.

  auto args = cli::ParseCommandLine(
      argc, argv, kUsage,
      {"listen", "port", "allowed_hosts", "max_streams", "max_cards", "topic",
       "status_topic", "dead_letter_topic", "members_topic", "cook_group",
       "manager_group", "metrics_port", "metrics_listen"});
  if (!args.ok()) return UsageError(args.status().message());
  if (args->positional.size() > 1) {
    return UsageError(absl::StrFormat("unexpected argument \"%s\"; see --help",
                                      args->positional[1]));
  }
  kitchen::board::RunOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port = absl::GetFlag(FLAGS_port);
  if (options.port < 0 || options.port > 65535) {
    return UsageError("--port must be 0 to 65535");
  }
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  if (options.metrics_port < 0 || options.metrics_port > 65535) {
    return UsageError("--metrics_port must be 1 to 65535 (0: off)");
  }
  const int max_cards = absl::GetFlag(FLAGS_max_cards);
  if (max_cards < 1) return UsageError("--max_cards must be at least 1");
  options.board.max_cards = static_cast<size_t>(max_cards);
  options.server.allowed_hosts = absl::GetFlag(FLAGS_allowed_hosts);
  options.server.max_streams = absl::GetFlag(FLAGS_max_streams);
  if (options.server.max_streams < 1 || options.server.max_streams > 1000) {
    return UsageError("--max_streams must be 1 to 1000");
  }
  options.topics = {absl::GetFlag(FLAGS_topic),
                    absl::GetFlag(FLAGS_status_topic),
                    absl::GetFlag(FLAGS_dead_letter_topic),
                    absl::GetFlag(FLAGS_members_topic)};
  for (const std::string* topic :
       {&options.topics.orders, &options.topics.status,
        &options.topics.dead_letters, &options.topics.members}) {
    if (absl::Status valid = kitchen::kafka::ValidateTopicName(*topic);
        !valid.ok()) {
      return UsageError(valid.message());
    }
  }
  options.board.cook_group = absl::GetFlag(FLAGS_cook_group);
  options.board.manager_group = absl::GetFlag(FLAGS_manager_group);
  if (options.board.cook_group.empty() || options.board.manager_group.empty()) {
    return UsageError("--cook_group and --manager_group must not be empty");
  }
  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) return UsageError(kafka.status().message());
  // Let in? Refused credentials or TLS stop here, named (kafka/admission.h).
  if (absl::Status admitted = kitchen::kafka::CheckAdmission(*kafka);
      !admitted.ok()) {
    if (absl::IsInvalidArgument(admitted)) {
      return UsageError(admitted.message());
    }
    kitchen::logging::Error("%s", admitted.message());
    return cli::kExitKafka;
  }
  return kitchen::board::RunBoard(options, *kafka, stop_signal.stop());
}
