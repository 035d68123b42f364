// File: deploy/devbroker/main.cc
//
// devbroker: a Kafka cluster in one process, in memory, for development and
// tests. Flags, signals and the control channel's input here; the broker is
// mock_cluster.h, the commands control.h.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/exit_codes.h"
#include "cli/line_reader.h"
#include "cli/stop_signal.h"
#include "cli/usage.h"
#include "deploy/devbroker/control.h"
#include "deploy/devbroker/mock_cluster.h"
#include "logging/log.h"

ABSL_FLAG(
    int, port, 9092,
    "Bootstrap port on localhost. 0 picks a free port; the address served is "
    "printed on standard output, alone on a line, once the broker is ready.");
ABSL_FLAG(int, broker_count, 3, "Number of brokers in the cluster.");
ABSL_FLAG(int, partitions, 6,
          "Partitions of pizza-order, pizza-order.dlq and order-status.");
ABSL_FLAG(bool, control, true,
          "Read fault-injection commands from standard input (when it is a "
          "pipe, or a "
          "terminal devbroker runs in the foreground of); type `help`.");

namespace {

constexpr char kUsage[] =
    R"(a Kafka cluster in memory, for the kitchen.

librdkafka's mock cluster serves the real Kafka protocol; the kitchen's services, kcat
and any Kafka client can use it. Topics pizza-order, pizza-order.dlq, order-status and
kitchen-members (1 partition) are created at start. Everything is in memory and lost when it stops.

Usage: devbroker [--port 9092] [--broker_count 3] [--partitions 6]

Faults, one command per line on standard input (answered `ok ...` or `error ...`):
  broker down ID | broker up ID        take a broker off the network and back
  leader TOPIC PARTITION ID            move a partition's leader
  coordinator group GROUP ID           move a consumer group's coordinator
  errors API COUNT ERROR               fail the next COUNT (at most 10000) requests of API
                                       (e.g. errors Produce 3 NOT_LEADER_FOR_PARTITION)
  rtt ID MILLISECONDS                  add latency to a broker's answers
)";

// A terminal is only read when devbroker is its foreground job: a background
// job that reads its terminal is stopped by the shell (SIGTTIN).
bool ControlInputUsable() {
  if (!::isatty(STDIN_FILENO)) return true;
  return ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
}

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("devbroker");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.
  kitchen::cli::ConfigureHelp(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    kitchen::logging::Error("unexpected argument \"%s\"; see --help",
                            positional[1]);
    return kitchen::cli::kExitUsage;
  }

  kitchen::devbroker::MockClusterOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.broker_count = absl::GetFlag(FLAGS_broker_count);
  int partitions = absl::GetFlag(FLAGS_partitions);
  if (partitions < 1) {
    kitchen::logging::Error("--partitions must be at least 1, not %d",
                            partitions);
    return kitchen::cli::kExitUsage;
  }
  // kitchen-members keeps its one partition: its readers want one order.
  for (auto& topic : options.topics) {
    if (topic.partitions > 1) topic.partitions = partitions;
  }

  auto broker = kitchen::devbroker::MockCluster::Start(options);
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

  absl::Notification& stop = stop_signal.stop();
  std::thread control;
  if (absl::GetFlag(FLAGS_control) && ControlInputUsable()) {
    control = std::thread([&] {
      kitchen::cli::LineReader input(STDIN_FILENO);
      while (absl::optional<std::string> line = input.Next(stop)) {
        if (line->find_first_not_of(" \t\r") == std::string::npos) continue;
        absl::StatusOr<std::string> done =
            kitchen::devbroker::RunControlCommand((*broker)->cluster(),
                                                  options.broker_count, *line);
        if (done.ok()) {
          kitchen::logging::Info("control: %s", *done);
          std::printf("ok %s\n", done->c_str());
        } else {
          kitchen::logging::Warning("control: %s", done.status().message());
          std::printf("error %s\n",
                      std::string(done.status().message()).c_str());
        }
        std::fflush(stdout);
      }
      if (!input.status().ok()) {
        kitchen::logging::Warning("control: %s; no more commands are read",
                                  input.status().message());
      }
    });
  }

  stop.WaitForNotification();
  if (control.joinable()) control.join();
  broker->reset();
  kitchen::logging::Info("stopped");
  return kitchen::cli::kExitOk;
}
