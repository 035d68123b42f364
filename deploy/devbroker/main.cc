// File: deploy/devbroker/main.cc
//
// devbroker: a Kafka cluster in one process, in memory, for development and
// tests. Flags and signals here; the broker itself is dev_broker.h.

#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/exit_codes.h"
#include "deploy/devbroker/dev_broker.h"
#include "logging/log.h"

ABSL_FLAG(
    int, port, 9092,
    "Bootstrap port on localhost. 0 picks a free port; the address served is "
    "printed on standard output, alone on a line, once the broker is ready.");
ABSL_FLAG(int, broker_count, 3, "Number of brokers in the cluster.");
ABSL_FLAG(int, partitions, 6, "Partitions of pizza-order and pizza-order.dlq.");

namespace {

constexpr char kUsage[] =
    R"(devbroker: a Kafka cluster in memory, for the kitchen.

librdkafka's mock cluster serves the real Kafka protocol; the kitchen's services, kcat
and any Kafka client can use it. Topics pizza-order and pizza-order.dlq are created at
start. Everything is in memory and lost when it stops.

Usage: devbroker [--port 9092] [--broker_count 3] [--partitions 6]
)";

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("devbroker");
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::fprintf(stderr, "devbroker: unexpected argument \"%s\"; see --help\n",
                 positional[1]);
    return kitchen::cli::kExitUsage;
  }

  // Block the stop signals before any thread starts, so that only sigwait sees
  // them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  kitchen::devbroker::DevBrokerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.broker_count = absl::GetFlag(FLAGS_broker_count);
  int partitions = absl::GetFlag(FLAGS_partitions);
  if (partitions < 1) {
    std::fprintf(stderr, "devbroker: --partitions must be at least 1, not %d\n",
                 partitions);
    return kitchen::cli::kExitUsage;
  }
  for (auto& topic : options.topics) topic.partitions = partitions;

  auto broker = kitchen::devbroker::DevBroker::Start(options);
  if (!broker.ok()) {
    kitchen::logging::Error("cannot start: %s", broker.status().message());
    return kitchen::cli::kExitKafka;
  }
  std::vector<std::string> topics;
  for (const auto& topic : options.topics) {
    topics.push_back(
        absl::StrCat(topic.name, " (", topic.partitions, " partitions)"));
  }
  kitchen::logging::Info("%d brokers at %s; topics %s", options.broker_count,
                         (*broker)->broker_addresses(),
                         absl::StrJoin(topics, ", "));
  kitchen::logging::Info(
      "IN MEMORY ONLY: everything is lost when devbroker stops. Retention, as "
      "librdkafka 2.0.2's mock keeps it: at most 5 MiB or 100,000 batches per "
      "partition, older records dropped (a consumer that far behind loses "
      "them, as "
      "with a real broker's retention)");
  kitchen::logging::Info("ready: clients bootstrap from %s; Ctrl-C stops",
                         (*broker)->bootstrap_servers());
  std::printf("%s\n", (*broker)->bootstrap_servers().c_str());
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  kitchen::logging::Info("%s received, stopping", strsignal(received));
  broker->reset();
  kitchen::logging::Info("stopped");
  return kitchen::cli::kExitOk;
}
