// File: waiter/main.cc
//
// waiter: places pizza orders on the Kafka topic pizza-order. Flags, validation of
// what the person typed, and printing; sending is order_sender.h.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/command_line.h"
#include "logging/log.h"
#include "orders/order_record.h"
#include "waiter/menu.h"
#include "waiter/order_sender.h"

ABSL_FLAG(std::string, pizza, "", "The pizza to order, from the menu.");
ABSL_FLAG(std::string, table, "", "The table ordering it, a number from --min_table to "
          "--max_table.");
ABSL_FLAG(bool, menu, false, "List the menu and exit.");
ABSL_FLAG(std::string, menu_file, "",
          "A menu file (one pizza per line, '#' comments) replacing the built-in menu. "
          "Environment: MENU_FILE.");
ABSL_FLAG(int, min_table, 1, "Lowest table number. Environment: MIN_TABLE.");
ABSL_FLAG(int, max_table, 100, "Highest table number. Environment: MAX_TABLE.");
ABSL_FLAG(std::string, topic, kitchen::orders::kOrderTopic,
          "Topic to place orders on. Environment: TOPIC.");
ABSL_FLAG(absl::Duration, delivery_timeout, absl::Seconds(10),
          "How long to wait for the broker to acknowledge an order before reporting it "
          "failed (e.g. 10s, 500ms). Environment: DELIVERY_TIMEOUT.");

namespace {

using kitchen::cli::kExitKafka;
using kitchen::cli::kExitOk;
using kitchen::cli::kExitUsage;

constexpr char kUsage[] = R"(waiter: places pizza orders with the kitchen.

Each order becomes a kitchen.v1.Order on the Kafka topic pizza-order, keyed by its
table, and is reported once the broker has acknowledged it.

Usage:
  waiter --pizza margherita --table 17
  waiter margherita 17
  waiter --menu

Exit status: 0 every order acknowledged; 1 bad flag, argument or input (nothing
sent); 2 an order was not acknowledged (broker unreachable, delivery failed).
Kafka: --brokers (KAFKA_BOOTSTRAP_SERVERS), --kafka_config_file, -X name=value.
)";

int UsageError(absl::string_view message) {
  std::fprintf(stderr, "waiter: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("waiter");
  absl::StatusOr<kitchen::cli::ParsedCommandLine> args = kitchen::cli::ParseCommandLine(
      argc, argv, kUsage,
      {{"menu_file", "MENU_FILE"},
       {"min_table", "MIN_TABLE"},
       {"max_table", "MAX_TABLE"},
       {"topic", "TOPIC"},
       {"delivery_timeout", "DELIVERY_TIMEOUT"}});
  if (!args.ok()) return UsageError(args.status().message());

  kitchen::waiter::Menu menu = kitchen::waiter::Menu::Default();
  if (std::string path = absl::GetFlag(FLAGS_menu_file); !path.empty()) {
    absl::StatusOr<kitchen::waiter::Menu> from_file =
        kitchen::waiter::Menu::ReadFile(path);
    if (!from_file.ok()) return UsageError(from_file.status().message());
    menu = *std::move(from_file);
  }
  if (absl::GetFlag(FLAGS_menu)) {
    for (const std::string& pizza : menu.pizzas()) std::printf("%s\n", pizza.c_str());
    return kExitOk;
  }

  // The order: flags, or the positional form `waiter margherita 17`.
  std::string pizza_text = absl::GetFlag(FLAGS_pizza);
  std::string table_text = absl::GetFlag(FLAGS_table);
  std::vector<std::string> positional(args->positional.begin() + 1,
                                      args->positional.end());
  if (!positional.empty()) {
    if (!pizza_text.empty() || !table_text.empty()) {
      return UsageError("give the order either as --pizza/--table or as PIZZA TABLE");
    }
    if (positional.size() < 2) return UsageError("missing table: waiter PIZZA TABLE");
    table_text = positional.back();
    positional.pop_back();
    pizza_text = absl::StrJoin(positional, " ");
  }
  if (pizza_text.empty()) return UsageError("missing --pizza (see --menu)");
  absl::StatusOr<std::string> pizza = menu.Find(pizza_text);
  if (!pizza.ok()) return UsageError(pizza.status().message());
  if (table_text.empty()) return UsageError("missing --table");
  int table = 0;
  int min_table = absl::GetFlag(FLAGS_min_table);
  int max_table = absl::GetFlag(FLAGS_max_table);
  if (!absl::SimpleAtoi(table_text, &table)) {
    return UsageError(absl::StrCat("table \"", table_text, "\" is not a number"));
  }
  if (table < min_table || table > max_table) {
    return UsageError(absl::StrCat("table ", table, " is out of range ", min_table,
                                   "-", max_table));
  }

  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      kitchen::cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) return UsageError(kafka.status().message());

  int failed = 0;
  absl::Duration delivery_timeout = absl::GetFlag(FLAGS_delivery_timeout);
  auto sender = kitchen::waiter::OrderSender::Create(
      *kafka, absl::GetFlag(FLAGS_topic), delivery_timeout,
      [&failed](const kitchen::waiter::PlacedOrder& placed) {
        if (!placed.status.ok()) {
          ++failed;
          kitchen::logging::Error("order %s (%s for table %d) NOT placed: %s",
                                  placed.order.order_id(), placed.order.pizza(),
                                  placed.order.table(), placed.status.message());
          return;
        }
        std::printf("order %s: %s for table %d -> %s partition %d offset %lld\n",
                    placed.order.order_id().c_str(), placed.order.pizza().c_str(),
                    placed.order.table(), placed.topic.c_str(), placed.partition,
                    static_cast<long long>(placed.offset));
        std::fflush(stdout);
      });
  if (!sender.ok()) return UsageError(sender.status().message());

  kitchen::v1::Order order = kitchen::orders::NewOrder(*pizza, table, absl::Now());
  if (absl::Status placed = (*sender)->Place(order); !placed.ok()) {
    kitchen::logging::Error("cannot place order: %s", placed.message());
    return kExitKafka;
  }
  // The broker's answer comes within the delivery timeout; a little more for the
  // answer itself to arrive.
  (*sender)->Finish(delivery_timeout + absl::Seconds(2));
  if (failed > 0) {
    kitchen::logging::Error("%d order(s) not delivered", failed);
    return kExitKafka;
  }
  return kExitOk;
}
