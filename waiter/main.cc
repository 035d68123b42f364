// File: waiter/main.cc
//
// waiter: places pizza orders on the Kafka topic pizza-order. Flags to
// options, and a run's outcome to an exit status, here; the modes are
// waiter.h, checking order_form.h, sending order_desk.h.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "cli/command_line.h"
#include "cli/effective_config.h"
#include "cli/stop_signal.h"
#include "kafka/admission.h"
#include "logging/log.h"
#include "orders/order_event.h"
#include "orders/order_record.h"
#include "waiter/menu.h"
#include "waiter/order_desk.h"
#include "waiter/order_sender.h"
#include "waiter/waiter.h"

ABSL_FLAG(std::string, pizza, "", "The pizza to order, from the menu.");
ABSL_FLAG(std::string, table, "",
          "The table ordering it, a number from --min_table to --max_table.");
ABSL_FLAG(
    std::string, file, "",
    "Place the orders in this file, one `PIZZA TABLE` per line ('#' comments, "
    "blank lines ignored); '-' for standard input.");
ABSL_FLAG(
    bool, strict, false,
    "With --file or standard input: stop at the first bad line instead of "
    "skipping it. For a file, nothing is sent if any line is bad.");
ABSL_FLAG(
    int64_t, count, 0,
    "Load mode: place this many orders, pizzas and tables drawn at random.");
ABSL_FLAG(double, rate, 0,
          "Load mode: orders per second (0: as fast as possible).");
ABSL_FLAG(uint64_t, seed, 0,
          "Load mode: random seed, so a run can be repeated (0: a random seed, "
          "printed).");
ABSL_FLAG(bool, menu, false, "List the menu and exit.");
ABSL_FLAG(std::string, menu_file, "",
          "A menu file (one pizza per line, '#' comments) replacing the "
          "built-in menu. "
          "Environment: MENU_FILE.");
ABSL_FLAG(int, min_table, 1, "Lowest table number. Environment: MIN_TABLE.");
ABSL_FLAG(int, max_table, 100, "Highest table number. Environment: MAX_TABLE.");
ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic to place orders on. Environment: TOPIC.");
ABSL_FLAG(absl::Duration, delivery_timeout, absl::Seconds(10),
          "How long to wait for the broker to acknowledge an order before "
          "reporting it "
          "not placed (e.g. 10s, 500ms). Environment: DELIVERY_TIMEOUT.");
ABSL_FLAG(bool, wait, false,
          "Wait for each order's pizza: its READY on --status_topic "
          "(read_committed), watched from before the first order is placed. "
          "Exit 4 if one is not ready within --wait_timeout. Environment: "
          "WAIT.");
ABSL_FLAG(absl::Duration, wait_timeout, absl::Minutes(1),
          "With --wait: how long to wait for the READYs once every order is "
          "acknowledged. Environment: WAIT_TIMEOUT.");
ABSL_FLAG(std::string, status_topic, kitchen::orders::kStatusTopic,
          "With --wait: the topic of the order events. Environment: "
          "STATUS_TOPIC.");

namespace {

using kitchen::waiter::Menu;
using kitchen::waiter::Tally;

constexpr char kUsage[] = R"(places pizza orders with the kitchen.

Each order becomes a kitchen.v1.Order on the Kafka topic pizza-order, keyed by its
table, and is reported once the broker has acknowledged it:
  order 3f2a...: margherita for table 17 -> pizza-order partition 2 offset 0

Usage:
  waiter --pizza margherita --table 17     one order
  waiter margherita 17                     the same
  waiter --file orders.txt                 one `PIZZA TABLE` per line ('-': stdin)
  waiter < orders.txt                      the same; on a terminal it asks for orders
  waiter --count 10000 [--rate 1000]       load mode: random orders, then a summary
  waiter --wait margherita 17              ...and wait for the pizza (any mode):
    ready: margherita for table 17 (order 3f2a...) after 2.1 s, cooked by cook-1
  waiter --menu                            the menu
  waiter --print_kafka_config              the producer's settings, secrets redacted

Exit status: 0 every order acknowledged; 1 bad flag, argument or input (nothing
sent); 2 an order was not acknowledged (broker unreachable, delivery failed);
3 some input lines were not placed: skipped, or with --strict on a stream the bad
line and the rest (every order placed was acknowledged); 4 with --wait, a pizza
was not ready within --wait_timeout.
Kafka: --brokers (KAFKA_BOOTSTRAP_SERVERS), --kafka_config_file, -X name=value.
)";

constexpr int kExitSkipped = 3;

int UsageError(const absl::Status& status) {
  kitchen::logging::Error("%s", status.message());
  return kitchen::cli::kExitUsage;
}

absl::StatusOr<Menu> MenuFromFlags() {
  std::string path = absl::GetFlag(FLAGS_menu_file);
  return path.empty() ? Menu::Default() : Menu::ReadFile(path);
}

kitchen::waiter::WaiterOptions OptionsFromFlags(
    const kitchen::cli::ParsedCommandLine& args, Menu menu) {
  kitchen::waiter::WaiterOptions options;
  options.pizza = absl::GetFlag(FLAGS_pizza);
  options.table = absl::GetFlag(FLAGS_table);
  options.arguments.assign(args.positional.begin() + 1, args.positional.end());
  options.file = absl::GetFlag(FLAGS_file);
  options.strict = absl::GetFlag(FLAGS_strict);
  options.count = absl::GetFlag(FLAGS_count);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.menu = std::move(menu);
  options.tables = {absl::GetFlag(FLAGS_min_table),
                    absl::GetFlag(FLAGS_max_table)};
  options.topic = absl::GetFlag(FLAGS_topic);
  options.delivery_timeout = absl::GetFlag(FLAGS_delivery_timeout);
  options.wait = absl::GetFlag(FLAGS_wait);
  options.wait_timeout = absl::GetFlag(FLAGS_wait_timeout);
  options.status_topic = absl::GetFlag(FLAGS_status_topic);
  return options;
}

// How a run went, as the exit status kUsage documents. A run that placed
// nothing has logged nothing yet about why.
int ExitStatus(const absl::StatusOr<Tally>& placed) {
  if (!placed.ok()) {
    kitchen::logging::Error("%s", placed.status().message());
    return placed.status().code() == absl::StatusCode::kUnavailable
               ? kitchen::cli::kExitKafka
               : kitchen::cli::kExitUsage;
  }
  // The input stopped early: --strict at a bad line, or a line too long or
  // unreadable. The orders before it were placed (a stream is not checked
  // ahead): then the run did something, and says so as any run with lines
  // not placed does (3, or 2 if an order failed).
  const bool stopped_early =
      placed->input_unread ||
      (absl::GetFlag(FLAGS_strict) && placed->skipped > 0);
  if (stopped_early && placed->sent == 0) return kitchen::cli::kExitUsage;
  if (placed->failed > 0) return kitchen::cli::kExitKafka;
  if (placed->not_ready > 0) return kitchen::cli::kExitNotReady;
  if (placed->skipped > 0 || placed->input_unread) return kExitSkipped;
  return kitchen::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("waiter");
  // A reader of standard output that leaves (`waiter --file f | head -1`)
  // must not kill the waiter with orders in flight: writes then fail with
  // EPIPE, and the waiter stops printing (OrderDesk) but places, waits for and
  // reports every order.
  std::signal(SIGPIPE, SIG_IGN);
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.
  absl::StatusOr<kitchen::cli::ParsedCommandLine> args =
      kitchen::cli::ParseCommandLine(
          argc, argv, kUsage,
          {"menu_file", "min_table", "max_table", "topic", "delivery_timeout",
           "wait", "wait_timeout", "status_topic"});
  if (!args.ok()) return UsageError(args.status());

  absl::StatusOr<Menu> menu = MenuFromFlags();
  if (!menu.ok()) return UsageError(menu.status());
  if (absl::GetFlag(FLAGS_menu)) {
    for (const std::string& pizza : menu->pizzas()) {
      std::printf("%s\n", pizza.c_str());
    }
    return kitchen::cli::kExitOk;
  }

  // Everything the person typed is checked before anything connects.
  auto waiter = kitchen::waiter::Waiter::Create(
      OptionsFromFlags(*args, *std::move(menu)));
  if (!waiter.ok()) return UsageError(waiter.status());
  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      kitchen::cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) return UsageError(kafka.status());

  if (absl::GetFlag(FLAGS_print_kafka_config)) {
    absl::Status printed = kitchen::cli::PrintEffectiveKafkaConfig(
        *kafka,
        kitchen::waiter::WaiterProducerDefaults(
            absl::GetFlag(FLAGS_delivery_timeout)),
        stdout);
    return printed.ok() ? kitchen::cli::kExitOk : UsageError(printed);
  }
  // Let in? Refused credentials or TLS stop here, named (kafka/admission.h);
  // within the delivery timeout, which bounds everything the waiter waits for.
  if (absl::Status admitted = kitchen::kafka::CheckAdmission(
          *kafka, std::min(kitchen::kafka::kAdmissionTimeout,
                           absl::GetFlag(FLAGS_delivery_timeout)));
      !admitted.ok()) {
    if (absl::IsInvalidArgument(admitted)) return UsageError(admitted);
    kitchen::logging::Error("%s", admitted.message());
    return kitchen::cli::kExitKafka;
  }
  return ExitStatus((*waiter)->Run(*kafka, stop_signal.stop()));
}
