// File: manager/main.cc
//
// manager: keeps the kitchen's ledger of every order, exactly once, and reports
// on it. Flags, signals and wiring here; the handler is recorder.h, the report
// report.h, the rest of a consumer service service/consumer_service.h.

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "cli/stop_signal.h"
#include "logging/log.h"
#include "manager/recorder.h"
#include "manager/report.h"
#include "service/consumer_service.h"
#include "service/presence.h"

ABSL_FLAG(std::string, ledger, "ledger.jsonl",
          "The ledger file: one JSON line per order. Environment: LEDGER.");
ABSL_FLAG(std::string, group, "manager",
          "Consumer group. Run one manager per group and ledger. Environment: "
          "GROUP.");
// 2,000, not 10,000: a batch's orders and their lines are held until its
// fsync (~700 B an order), and 10,000 cost the manager 5 MiB more at its peak
// (27.4 against 23.3 MiB catching up 200,000 orders on the dev broker, 28.9
// against 24.9 on one Kafka node) for the same speed.
ABSL_FLAG(int, sync_max_records, 2000,
          "Group commit: at most this many orders per fsync (1: one fsync per "
          "order). Environment: SYNC_MAX_RECORDS.");
ABSL_FLAG(absl::Duration, sync_max_delay, absl::Milliseconds(100),
          "Group commit: an order waits at most this long for its fsync. "
          "Environment: SYNC_MAX_DELAY.");
ABSL_FLAG(int64_t, sync_max_bytes, 8 << 20,
          "Group commit: at most this many bytes of orders per fsync (their "
          "keys and values as read; the ledger lines are held until then). "
          "Environment: SYNC_MAX_BYTES.");
ABSL_FLAG(bool, json, false, "With `report`: print JSON for machines.");

namespace {

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
used (locked by another manager, damaged, unwritable, disk full, deleted or
renamed while running, or written from another log than the topic's).
)";

constexpr int kExitLedger = 3;

}  // namespace

int main(int argc, char** argv) {
  // Two malloc arenas, not glibc's 8 a core. librdkafka's broker threads
  // allocate the fetched records and the main thread frees them: with an
  // arena per thread each keeps its own high-water mark. Catching up 200,000
  // orders on the dev broker peaked at 27 to 29 MiB with 16 arenas, 24 to 27
  // with 2 and 22 with 1, but one arena (every malloc and free of every
  // thread behind one lock) was 20 to 40% slower: 33,000 and 54,000 orders/s
  // against 63,000 and 70,000 with 2 (bench/README.md, "What bounds the
  // manager's memory"). MALLOC_ARENA_MAX in the environment wins, as glibc's
  // own setting.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  namespace manager = kitchen::manager;
  namespace service = kitchen::service;
  kitchen::logging::SetServiceName("manager");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.

  auto args = service::ParseCommandLine(argc, argv, kUsage,
                                        {"ledger", "group", "sync_max_records",
                                         "sync_max_delay", "sync_max_bytes"});
  if (!args.ok()) return service::UsageError(args.status().message());
  const std::string ledger = absl::GetFlag(FLAGS_ledger);
  if (args->positional.size() == 2 && args->positional[1] == "report") {
    absl::Status printed =
        manager::PrintReport(ledger, absl::GetFlag(FLAGS_json), stdout);
    if (printed.ok()) return kitchen::cli::kExitOk;
    std::fprintf(stderr, "manager report: %s\n",
                 std::string(printed.message()).c_str());
    return kExitLedger;
  }
  if (args->positional.size() > 1) {
    return service::UsageError(absl::StrFormat(
        "unknown command \"%s\"; see --help", args->positional[1]));
  }

  service::ServiceOptions options;
  options.name = "manager";
  options.group = absl::GetFlag(FLAGS_group);
  options.member = service::DefaultMemberName();
  options.loop.batch_max_records = absl::GetFlag(FLAGS_sync_max_records);
  options.loop.batch_max_delay = absl::GetFlag(FLAGS_sync_max_delay);
  options.loop.batch_max_bytes = absl::GetFlag(FLAGS_sync_max_bytes);
  options.handler_failure_exit = kExitLedger;
  // A position not in the log stops the manager (service/loop.h) instead of
  // a jump to the log's start that would skip a new log's orders.
  options.consumer_defaults = {{"auto.offset.reset", "error"}};
  if (options.loop.batch_max_records < 1 ||
      options.loop.batch_max_delay < absl::ZeroDuration() ||
      options.loop.batch_max_bytes < 1) {
    return service::UsageError(
        "--sync_max_records and --sync_max_bytes must be at least 1 and "
        "--sync_max_delay not negative");
  }
  // The ledger is opened once the configuration is good, before the group is
  // joined: locked or damaged, the manager never joins it.
  return service::Run(
      options, args->kafka_properties, stop_signal.stop(),
      service::ContextHandlerFactory(
          [&ledger](const service::ServiceContext& context)
              -> absl::StatusOr<std::unique_ptr<service::Handler>> {
            auto recorder = manager::Recorder::Open(ledger);
            if (!recorder.ok()) return recorder.status();
            if (context.metrics != nullptr) {
              (*recorder)->ExportMetrics(*context.metrics);
            }
            return std::unique_ptr<service::Handler>(*std::move(recorder));
          }));
}
