// File: cook/main.cc
//
// cook: a member of the consumer group that cooks the orders on pizza-order.
// Flags, signals and wiring here; the cooking is cook.h, the rest of a
// consumer service service/consumer_service.h.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/stop_signal.h"
#include "cook/cook.h"
#include "logging/log.h"
#include "service/consumer_service.h"

ABSL_FLAG(
    std::string, group, "cook",
    "Consumer group. Cooks in one group share the orders; another group sees "
    "every order again. Environment: GROUP.");
ABSL_FLAG(
    absl::Duration, prep_time, absl::Seconds(2),
    "How long cooking one pizza takes (e.g. 2s, 0 for tests and benchmarks). "
    "Environment: PREP_TIME.");
ABSL_FLAG(
    absl::Duration, lag_interval, absl::Seconds(30),
    "How often to log the consumer lag per partition (0: only at shutdown). "
    "Environment: LAG_INTERVAL.");

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
  namespace service = kitchen::service;
  kitchen::logging::SetServiceName("cook");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.

  auto args = service::ParseCommandLine(argc, argv, kUsage,
                                        {"group", "prep_time", "lag_interval"});
  if (!args.ok()) return service::UsageError(args.status().message());
  if (args->positional.size() > 1) {
    return service::UsageError(absl::StrFormat(
        "unexpected argument \"%s\"; see --help", args->positional[1]));
  }
  const absl::Duration prep_time = absl::GetFlag(FLAGS_prep_time);
  if (prep_time < absl::ZeroDuration()) {
    return service::UsageError("--prep_time must not be negative");
  }

  service::ServiceOptions options;
  options.name = "cook";
  options.group = absl::GetFlag(FLAGS_group);
  options.detail = absl::StrCat("prep time ", absl::FormatDuration(prep_time));
  options.loop.log_lag = true;
  options.loop.lag_interval = absl::GetFlag(FLAGS_lag_interval);
  return service::Run(
      options, args->kafka_properties, stop_signal.stop(),
      [prep_time] { return std::make_unique<kitchen::cook::Cook>(prep_time); });
}
