// File: manager/main.cc
//
// manager: keeps the kitchen's ledger of every order, exactly once, and reports
// on it. Flags, signals and wiring here; the ledger is ledger.h, the loop
// recorder.h, the report report.h.

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "cli/command_line.h"
#include "cli/health_file.h"
#include "cli/stop_signal.h"
#include "kafka/consumer.h"
#include "logging/log.h"
#include "manager/ledger.h"
#include "manager/recorder.h"
#include "manager/report.h"
#include "orders/dead_letter.h"
#include "orders/order_record.h"

ABSL_FLAG(std::string, ledger, "ledger.jsonl",
          "The ledger file: one JSON line per order. Environment: LEDGER.");
ABSL_FLAG(std::string, group, "manager",
          "Consumer group. Run one manager per group and ledger. Environment: "
          "GROUP.");
ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic to record orders from. Environment: TOPIC.");
ABSL_FLAG(
    std::string, dead_letter_topic, kitchen::orders::kDeadLetterTopic,
    "Where records that are not orders go. Environment: DEAD_LETTER_TOPIC.");
ABSL_FLAG(int, sync_max_records, 10000,
          "Group commit: at most this many orders per fsync (1: one fsync per "
          "order). "
          "Environment: SYNC_MAX_RECORDS.");
ABSL_FLAG(absl::Duration, sync_max_delay, absl::Milliseconds(100),
          "Group commit: an order waits at most this long for its fsync. "
          "Environment: SYNC_MAX_DELAY.");
ABSL_FLAG(
    std::string, health_file, "",
    "A file rewritten every second while the manager runs: `ready` once it has "
    "partitions, else `starting` (for container probes). Environment: "
    "HEALTH_FILE.");
ABSL_FLAG(bool, json, false, "With `report`: print JSON for machines.");

namespace {

using kitchen::cli::kExitKafka;
using kitchen::cli::kExitOk;
using kitchen::cli::kExitUsage;

constexpr char kUsage[] =
    R"(keeps the kitchen's book of every order, exactly once.

Usage:
  manager [--ledger ledger.jsonl] [--group manager]   record orders from pizza-order
  manager report [--ledger ledger.jsonl] [--json]     summarize a ledger (no broker)

Each order becomes one JSON line in the ledger, fsync'ed before its offset is
committed. The ledger, not Kafka, says where reading resumes, so a manager killed at
any moment and restarted records every order exactly once. A torn last line left by a
crash is moved aside to LEDGER.torn-<ms> and the ledger repaired.

Exit status: 0 done; 1 bad flag or argument; 2 Kafka failed; 3 the ledger cannot be
used (locked by another manager, damaged, unwritable, disk full).
)";

constexpr int kExitLedger = 3;

int Report(const std::string& path) {
  absl::StatusOr<kitchen::manager::LedgerReport> report =
      kitchen::manager::ReportOnLedger(path);
  if (!report.ok()) {
    std::fprintf(stderr, "manager report: %s\n",
                 std::string(report.status().message()).c_str());
    return kExitLedger;
  }
  std::string text = absl::GetFlag(FLAGS_json)
                         ? kitchen::manager::FormatReportJson(*report)
                         : kitchen::manager::FormatReportText(*report);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("manager");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.
  absl::StatusOr<kitchen::cli::ParsedCommandLine> args =
      kitchen::cli::ParseCommandLine(
          argc, argv, kUsage,
          {"ledger", "group", "topic", "dead_letter_topic", "sync_max_records",
           "sync_max_delay", "health_file"});
  if (!args.ok()) {
    kitchen::logging::Error("%s", args.status().message());
    return kExitUsage;
  }
  const std::string ledger_path = absl::GetFlag(FLAGS_ledger);
  if (args->positional.size() == 2 &&
      args->positional[1] == std::string("report")) {
    return Report(ledger_path);
  }
  if (args->positional.size() > 1) {
    kitchen::logging::Error("unknown command \"%s\"; see --help",
                            args->positional[1]);
    return kExitUsage;
  }

  kitchen::manager::RecorderOptions options;
  options.group = absl::GetFlag(FLAGS_group);
  options.sync_max_records = absl::GetFlag(FLAGS_sync_max_records);
  options.sync_max_delay = absl::GetFlag(FLAGS_sync_max_delay);
  options.health_file = absl::GetFlag(FLAGS_health_file);
  if (options.sync_max_records < 1 ||
      options.sync_max_delay < absl::ZeroDuration()) {
    kitchen::logging::Error(
        "--sync_max_records must be at least 1 and --sync_max_delay not "
        "negative");
    return kExitUsage;
  }
  if (options.group.empty()) {
    kitchen::logging::Error("--group must not be empty");
    return kExitUsage;
  }
  if (absl::Status valid = kitchen::orders::ValidateTopics(
          absl::GetFlag(FLAGS_topic), absl::GetFlag(FLAGS_dead_letter_topic));
      !valid.ok()) {
    kitchen::logging::Error("%s", valid.message());
    return kExitUsage;
  }
  if (absl::Status prepared =
          kitchen::cli::HealthFile::Prepare(options.health_file);
      !prepared.ok()) {
    kitchen::logging::Error("%s", prepared.message());
    return kExitUsage;
  }
  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      kitchen::cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) {
    kitchen::logging::Error("%s", kafka.status().message());
    return kExitUsage;
  }
  auto conf = kitchen::kafka::BuildConf(
      *kafka, kitchen::kafka::ConsumerDefaultsFor(*kafka, options.group));
  if (!conf.ok()) {
    kitchen::logging::Error("%s", conf.status().message());
    return kExitUsage;
  }

  // The ledger first: if it is locked or damaged, nothing joins the group.
  auto ledger = kitchen::manager::Ledger::Open(ledger_path);
  if (!ledger.ok()) {
    kitchen::logging::Error("%s", ledger.status().message());
    return kExitLedger;
  }
  kitchen::logging::Info("ledger %s: %d orders recorded so far", ledger_path,
                         (*ledger)->lines());

  auto dead_letters = kitchen::orders::DeadLetterQueue::Create(
      *kafka, absl::GetFlag(FLAGS_dead_letter_topic), options.group);
  if (!dead_letters.ok()) {
    kitchen::logging::Error("%s", dead_letters.status().message());
    return kExitUsage;
  }
  kitchen::manager::Recorder recorder(options, ledger->get(),
                                      dead_letters->get());
  auto consumer = kitchen::kafka::Consumer::Create(
      *std::move(conf), {absl::GetFlag(FLAGS_topic)}, &recorder);
  if (!consumer.ok()) {
    kitchen::logging::Error("%s", consumer.status().message());
    return kExitKafka;
  }
  recorder.set_consumer(consumer->get());
  kitchen::logging::Info("manager started in group %s on %s, brokers %s",
                         options.group, absl::GetFlag(FLAGS_topic),
                         kafka->bootstrap_servers);

  absl::Status result = recorder.Run(stop_signal.stop());
  if (!result.ok()) {
    // Leave the group without committing anything past what is durable: the
    // stored offsets only ever cover synced lines, so closing is safe.
    kitchen::logging::Error("%s", result.message());
    (void)(*consumer)->Close();
    return recorder.ledger_failed() ? kExitLedger : kExitKafka;
  }
  absl::Status closed = (*consumer)->Close();
  kitchen::logging::Info(
      "manager stopped: %d orders recorded, %d dead-lettered%s",
      recorder.recorded(), (*dead_letters)->parked(),
      closed.ok() ? "" : absl::StrCat("; ", closed.message()));
  return kExitOk;
}
