// File: waiter/main.cc
//
// waiter: places pizza orders on the Kafka topic pizza-order. Flags, the choice
// of mode (one order, lines from a file or standard input, load), and exit
// statuses here; checking is order_form.h, sending order_desk.h, load mode
// load.h.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command_line.h"
#include "cli/line_reader.h"
#include "cli/stop_signal.h"
#include "kafka/topic_name.h"
#include "logging/log.h"
#include "orders/order_record.h"
#include "waiter/load.h"
#include "waiter/menu.h"
#include "waiter/order_desk.h"
#include "waiter/order_form.h"

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

namespace {

using kitchen::cli::LineReader;
using kitchen::waiter::Menu;
using kitchen::waiter::OrderDesk;
using kitchen::waiter::OrderRequest;
using kitchen::waiter::TableRange;

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
  waiter --menu                            the menu

Exit status: 0 every order acknowledged; 1 bad flag, argument or input (nothing
sent); 2 an order was not acknowledged (broker unreachable, delivery failed);
3 some input lines were skipped (every order placed was acknowledged).
Kafka: --brokers (KAFKA_BOOTSTRAP_SERVERS), --kafka_config_file, -X name=value.
)";

constexpr int kExitSkipped = 3;

int UsageError(absl::string_view message) {
  kitchen::logging::Error("%s", message);
  return kitchen::cli::kExitUsage;
}

// The status a finished run exits with.
int ExitStatus(const kitchen::waiter::Tally& tally) {
  if (tally.failed > 0) return kitchen::cli::kExitKafka;
  if (tally.skipped > 0) return kExitSkipped;
  return kitchen::cli::kExitOk;
}

// Places the orders read from `fd` line by line. A regular file is checked
// whole first, so that --strict sends nothing from a file with a bad line.
int PlaceLines(int fd, const std::string& source, const Menu& menu,
               const TableRange& range, OrderDesk& desk,
               absl::Notification& stop, absl::Duration delivery_timeout) {
  const bool interactive = ::isatty(fd);
  const bool strict = absl::GetFlag(FLAGS_strict);
  struct stat info {};
  const bool regular_file = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);

  LineReader reader(fd);
  std::vector<std::string> lines;
  if (regular_file) {
    while (absl::optional<std::string> line = reader.Next(stop))
      lines.push_back(*line);
    if (!reader.status().ok()) return UsageError(reader.status().message());
    if (strict) {
      for (size_t i = 0; i < lines.size(); ++i) {
        auto order = kitchen::waiter::ParseOrderLine(lines[i], menu, range);
        if (!order.ok()) {
          return UsageError(absl::StrCat(source, ":", i + 1, ": ",
                                         order.status().message(),
                                         " (--strict: nothing sent)"));
        }
      }
    }
  }

  size_t line_number = 0;
  auto next_line = [&]() -> absl::optional<std::string> {
    if (interactive) {
      std::fputs("order (PIZZA TABLE; Ctrl-D to finish)> ", stderr);
      std::fflush(stderr);
    }
    if (regular_file) {
      if (line_number >= lines.size() || stop.HasBeenNotified())
        return absl::nullopt;
      return lines[line_number];
    }
    // Acknowledgements are printed while the input is quiet, not at its next
    // line.
    return reader.Next(stop, [&desk] { desk.Poll(0); });
  };
  while (absl::optional<std::string> line = next_line()) {
    ++line_number;
    auto order = kitchen::waiter::ParseOrderLine(*line, menu, range);
    if (!order.ok()) {
      kitchen::logging::Error(
          "%s:%d: %s%s", source, line_number, order.status().message(),
          strict ? " (--strict: stopping)" : "; line skipped");
      desk.Skip();
      if (strict) break;
      continue;
    }
    if (!order->has_value()) continue;
    if (absl::Status placed = desk.Place((*order)->pizza, (*order)->table);
        !placed.ok()) {
      kitchen::logging::Error("cannot place order: %s", placed.message());
      break;
    }
    desk.Poll(0);
    if (interactive) {
      // A person waits for each answer before typing the next order.
      absl::Time deadline = absl::Now() + delivery_timeout + absl::Seconds(2);
      while (desk.pending() > 0 && absl::Now() < deadline) desk.Poll(50);
    }
  }
  if (interactive) std::fputs("\n", stderr);
  if (!reader.status().ok())
    kitchen::logging::Error("%s", reader.status().message());
  desk.Finish(delivery_timeout + absl::Seconds(2));
  kitchen::logging::Info("%s", kitchen::waiter::FormatSummary(desk.tally()));
  if (strict && desk.tally().skipped > 0) return kitchen::cli::kExitUsage;
  return ExitStatus(desk.tally());
}

}  // namespace

int main(int argc, char** argv) {
  kitchen::logging::SetServiceName("waiter");
  kitchen::cli::StopSignal stop_signal;  // Before any other thread starts.
  absl::StatusOr<kitchen::cli::ParsedCommandLine> args =
      kitchen::cli::ParseCommandLine(
          argc, argv, kUsage,
          {"menu_file", "min_table", "max_table", "topic", "delivery_timeout"});
  if (!args.ok()) return UsageError(args.status().message());

  Menu menu = Menu::Default();
  if (std::string path = absl::GetFlag(FLAGS_menu_file); !path.empty()) {
    absl::StatusOr<Menu> from_file = Menu::ReadFile(path);
    if (!from_file.ok()) return UsageError(from_file.status().message());
    menu = *std::move(from_file);
  }
  if (absl::GetFlag(FLAGS_menu)) {
    for (const std::string& pizza : menu.pizzas())
      std::printf("%s\n", pizza.c_str());
    return kitchen::cli::kExitOk;
  }
  const TableRange range{absl::GetFlag(FLAGS_min_table),
                         absl::GetFlag(FLAGS_max_table)};
  if (range.min < 1 || range.max < range.min) {
    return UsageError(absl::StrCat("table range ", range.min, "-", range.max,
                                   " is empty or not positive"));
  }
  if (absl::Status valid =
          kitchen::kafka::ValidateTopicName(absl::GetFlag(FLAGS_topic));
      !valid.ok()) {
    return UsageError(absl::StrCat("--topic: ", valid.message()));
  }
  const absl::Duration delivery_timeout = absl::GetFlag(FLAGS_delivery_timeout);
  if (delivery_timeout <= absl::ZeroDuration()) {
    return UsageError("--delivery_timeout must be positive");
  }

  // Which mode: exactly one of one order, a file, load; or standard input.
  std::vector<std::string> positional(args->positional.begin() + 1,
                                      args->positional.end());
  const bool single = !absl::GetFlag(FLAGS_pizza).empty() ||
                      !absl::GetFlag(FLAGS_table).empty() ||
                      !positional.empty();
  const std::string file = absl::GetFlag(FLAGS_file);
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (count < 0) return UsageError("--count must not be negative");
  if (absl::GetFlag(FLAGS_rate) < 0)
    return UsageError("--rate must not be negative");
  if (int(single) + int(!file.empty()) + int(count > 0) > 1) {
    return UsageError(
        "give one of: an order (--pizza/--table or PIZZA TABLE), --file, "
        "--count");
  }

  // Everything the person typed is checked before anything connects.
  OrderRequest single_order;
  if (single) {
    std::string pizza = absl::GetFlag(FLAGS_pizza);
    std::string table = absl::GetFlag(FLAGS_table);
    if (!positional.empty()) {
      if (!pizza.empty() || !table.empty()) {
        return UsageError(
            "give the order either as --pizza/--table or as PIZZA TABLE");
      }
      if (positional.size() < 2)
        return UsageError("missing table: waiter PIZZA TABLE");
      table = positional.back();
      positional.pop_back();
      pizza = absl::StrJoin(positional, " ");
    }
    absl::StatusOr<OrderRequest> order =
        kitchen::waiter::CheckOrder(pizza, table, menu, range);
    if (!order.ok()) return UsageError(order.status().message());
    single_order = *std::move(order);
  }
  int input_fd = STDIN_FILENO;
  std::string source = "stdin";
  if (!file.empty() && file != "-") {
    input_fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (input_fd < 0) {
      return UsageError(
          absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", file))
              .message());
    }
    source = file;
  }

  absl::StatusOr<kitchen::kafka::ClientConfig> kafka =
      kitchen::cli::KafkaClientConfig(args->kafka_properties);
  if (!kafka.ok()) return UsageError(kafka.status().message());
  auto desk = OrderDesk::Create(*kafka, absl::GetFlag(FLAGS_topic),
                                delivery_timeout, count > 0 ? nullptr : stdout);
  if (!desk.ok()) return UsageError(desk.status().message());
  absl::Notification& stop = stop_signal.stop();

  if (single) {
    if (absl::Status placed =
            (*desk)->Place(single_order.pizza, single_order.table);
        !placed.ok()) {
      kitchen::logging::Error("cannot place order: %s", placed.message());
      return kitchen::cli::kExitKafka;
    }
    (*desk)->Finish(delivery_timeout + absl::Seconds(2));
    return ExitStatus((*desk)->tally());
  }
  if (count > 0) {
    kitchen::waiter::LoadOptions load;
    load.count = count;
    load.rate = absl::GetFlag(FLAGS_rate);
    load.seed = absl::GetFlag(FLAGS_seed);
    if (load.seed == 0) load.seed = std::random_device()();
    load.progress = ::isatty(STDERR_FILENO);
    kitchen::logging::Info(
        "load: %d orders%s, seed %d", count,
        load.rate > 0 ? absl::StrCat(" at ", load.rate, "/s") : "", load.seed);
    kitchen::waiter::RunLoad(**desk, menu, range, load, stop);
    (*desk)->Finish(delivery_timeout + absl::Seconds(2));
    std::printf("%s\n",
                kitchen::waiter::FormatSummary((*desk)->tally()).c_str());
    return ExitStatus((*desk)->tally());
  }
  return PlaceLines(input_fd, source, menu, range, **desk, stop,
                    delivery_timeout);
}
