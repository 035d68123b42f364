// File: cook/main.cc
//
// cook: a member of the consumer group that cooks the orders on pizza-order.
// Flags, signals and wiring here; the cooking is cook.h, the rest of a
// consumer service service/consumer_service.h.

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/stop_signal.h"
#include "cook/cook.h"
#include "kafka/topic_name.h"
#include "logging/log.h"
#include "orders/order_event.h"
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

ABSL_FLAG(std::string, cook_id, "",
          "Names this cook instance in its events; its transactional id is "
          "GROUP-COOK_ID. Give each instance its own, stable across its "
          "restarts (a restart then fences its predecessor at once). Default: "
          "HOSTNAME-PID. Environment: COOK_ID.");
ABSL_FLAG(std::string, status_topic, kitchen::orders::kStatusTopic,
          "Topic of the order events (COOKING, READY, ABANDONED). "
          "Environment: STATUS_TOPIC.");
ABSL_FLAG(absl::Duration, batch_max_delay, absl::Milliseconds(100),
          "How long orders may share one transaction (READY becomes visible to "
          "read_committed readers when it commits). Environment: "
          "BATCH_MAX_DELAY.");
ABSL_FLAG(absl::Duration, test_hold_transaction, absl::ZeroDuration(),
          "TEST HOOK, never for production: keep each batch's transaction "
          "open this long (READY sent, not committed) before committing it, "
          "so that a test can kill the cook inside an open transaction.");

namespace {

constexpr char kUsage[] = R"(cooks the kitchen's orders.

Joins a Kafka consumer group (default "cook") on pizza-order and publishes each order's
progress on order-status: COOKING when it starts, READY in a Kafka transaction with the
consumed offsets (exactly one READY per order for read_committed readers on real Kafka),
ABANDONED if it stops mid-way. Cooking itself is at-least-once. Run several cooks, each
with its own --cook_id, to share the work.

Usage: cook [--group cook] [--cook_id cook-1] [--prep_time 2s] [--brokers localhost:9092]
Stop with Ctrl-C or SIGTERM: the order being cooked is abandoned (cooked again later),
progress is committed and the cook leaves the group.
)";

}  // namespace

int main(int argc, char** argv) {
  namespace service = kitchen::service;
  kitchen::logging::SetServiceName("cook");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.

  auto args =
      service::ParseCommandLine(argc, argv, kUsage,
                                {"group", "prep_time", "lag_interval",
                                 "cook_id", "status_topic", "batch_max_delay"});
  if (!args.ok()) return service::UsageError(args.status().message());
  if (args->positional.size() > 1) {
    return service::UsageError(absl::StrFormat(
        "unexpected argument \"%s\"; see --help", args->positional[1]));
  }
  const absl::Duration prep_time = absl::GetFlag(FLAGS_prep_time);
  if (prep_time < absl::ZeroDuration()) {
    return service::UsageError("--prep_time must not be negative");
  }

  kitchen::cook::CookOptions cook;
  cook.prep_time = prep_time;
  cook.cook_id = absl::GetFlag(FLAGS_cook_id);
  if (cook.cook_id.empty()) {
    char host[256] = "cook";
    (void)gethostname(host, sizeof(host) - 1);
    cook.cook_id = absl::StrCat(host, "-", getpid());
  }
  cook.status_topic = absl::GetFlag(FLAGS_status_topic);
  if (absl::Status valid = kitchen::kafka::ValidateTopicName(cook.status_topic);
      !valid.ok()) {
    return service::UsageError(
        absl::StrCat("--status_topic: ", valid.message()));
  }
  cook.hold_transaction = absl::GetFlag(FLAGS_test_hold_transaction);
  const absl::Duration batch_max_delay = absl::GetFlag(FLAGS_batch_max_delay);
  if (batch_max_delay < absl::ZeroDuration() ||
      batch_max_delay > absl::Seconds(5)) {
    return service::UsageError(
        "--batch_max_delay must be between 0 and 5s (a transaction must end "
        "well inside its 10 s timeout)");
  }

  service::ServiceOptions options;
  options.name = "cook";
  options.group = absl::GetFlag(FLAGS_group);
  options.member = cook.cook_id;
  options.transactional_id = absl::StrCat(options.group, "-", cook.cook_id);
  options.detail =
      absl::StrCat("prep time ", absl::FormatDuration(prep_time), ", cook ",
                   cook.cook_id, ", transactional id ",
                   options.transactional_id, ", events on ", cook.status_topic);
  options.loop.log_lag = true;
  options.loop.lag_interval = absl::GetFlag(FLAGS_lag_interval);
  options.loop.batch_max_records = 1000;
  options.loop.batch_max_delay = batch_max_delay;
  if (cook.hold_transaction > absl::ZeroDuration()) {
    kitchen::logging::Warning(
        "TEST HOOK --test_hold_transaction=%s is set: every transaction is "
        "held open that long",
        absl::FormatDuration(cook.hold_transaction));
  }
  return service::Run(
      options, args->kafka_properties, stop_signal.stop(),
      service::ContextHandlerFactory(
          [&cook](const service::ServiceContext& context)
              -> absl::StatusOr<std::unique_ptr<service::Handler>> {
            auto made = kitchen::cook::Cook::Create(
                cook, context.kafka, context.transaction, context.metrics);
            if (!made.ok()) return made.status();
            return std::unique_ptr<service::Handler>(*std::move(made));
          }));
}
