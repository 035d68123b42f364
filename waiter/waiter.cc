// File: waiter/waiter.cc

#include "waiter/waiter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/line_reader.h"
#include "kafka/topic_name.h"
#include "logging/log.h"
#include "proto/order.pb.h"
#include "waiter/load.h"
#include "waiter/ready_watch.h"

namespace kitchen::waiter {
namespace {

// What became of one input line.
enum class LineOutcome { kPlaced, kNotAnOrder, kStop };

}  // namespace

absl::StatusOr<std::unique_ptr<Waiter>> Waiter::Create(WaiterOptions options) {
  std::unique_ptr<Waiter> waiter(new Waiter(std::move(options)));
  if (absl::Status checked = waiter->CheckMode(); !checked.ok()) return checked;
  if (absl::Status opened = waiter->OpenInput(); !opened.ok()) return opened;
  return waiter;
}

Waiter::~Waiter() {
  if (owns_input_) ::close(input_);
}

absl::Status Waiter::CheckMode() {
  const WaiterOptions& o = options_;
  if (o.tables.min < 1 || o.tables.max < o.tables.min) {
    return absl::InvalidArgumentError(
        absl::StrCat("table range ", o.tables.min, "-", o.tables.max,
                     " is empty or not positive"));
  }
  if (absl::Status valid = kafka::ValidateTopicName(o.topic); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--topic: ", valid.message()));
  }
  if (o.delivery_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--delivery_timeout must be positive");
  }
  if (o.wait) {
    if (absl::Status valid = kafka::ValidateTopicName(o.status_topic);
        !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--status_topic: ", valid.message()));
    }
    if (o.wait_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--wait_timeout must be positive");
    }
  }
  // Exactly one of one order, a file, load; or standard input.
  const bool one_order =
      !o.pizza.empty() || !o.table.empty() || !o.arguments.empty();
  if (o.count < 0) {
    return absl::InvalidArgumentError("--count must not be negative");
  }
  if (o.rate < 0) {
    return absl::InvalidArgumentError("--rate must not be negative");
  }
  if (int(one_order) + int(!o.file.empty()) + int(o.count > 0) > 1) {
    return absl::InvalidArgumentError(
        "give one of: an order (--pizza/--table or PIZZA TABLE), --file, "
        "--count");
  }
  mode_ = o.count > 0 ? Mode::kLoad
          : one_order ? Mode::kOneOrder
                      : Mode::kLines;
  if (mode_ != Mode::kOneOrder) return absl::OkStatus();

  std::string pizza = o.pizza;
  std::string table = o.table;
  if (!o.arguments.empty()) {
    if (!pizza.empty() || !table.empty()) {
      return absl::InvalidArgumentError(
          "give the order either as --pizza/--table or as PIZZA TABLE");
    }
    if (o.arguments.size() < 2) {
      return absl::InvalidArgumentError("missing table: waiter PIZZA TABLE");
    }
    // "quattro formaggi 4": the last argument is the table, the rest the pizza.
    table = o.arguments.back();
    pizza = absl::StrJoin(o.arguments.begin(), o.arguments.end() - 1, " ");
  }
  absl::StatusOr<OrderRequest> order =
      CheckOrder(pizza, table, o.menu, o.tables);
  if (!order.ok()) return order.status();
  order_ = *std::move(order);
  return absl::OkStatus();
}

absl::Status Waiter::OpenInput() {
  if (mode_ != Mode::kLines) return absl::OkStatus();
  const std::string& file = options_.file;
  if (file.empty() || file == "-") {
    input_ = options_.input;
    return absl::OkStatus();
  }
  input_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (input_ < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", file));
  }
  owns_input_ = true;
  source_ = file;
  return absl::OkStatus();
}

absl::StatusOr<Tally> Waiter::Run(const kafka::ClientConfig& kafka,
                                  absl::Notification& stop) {
  if (mode_ == Mode::kLines) {
    if (absl::Status checked = CheckOrderFile(stop); !checked.ok()) {
      return checked;
    }
  }
  // Load mode reports only its summary: a line per order would be the load.
  FILE* per_order = mode_ == Mode::kLoad ? nullptr : options_.out;
  // Watching before anything is placed: no READY of these orders is missed.
  std::unique_ptr<ReadyWatch> watch;
  if (options_.wait) {
    absl::StatusOr<std::unique_ptr<ReadyWatch>> opened =
        ReadyWatch::Open(kafka, options_.status_topic, per_order);
    if (!opened.ok()) return opened.status();  // Unavailable: nothing placed.
    watch = *std::move(opened);
  }
  absl::StatusOr<std::unique_ptr<OrderDesk>> desk = OrderDesk::Create(
      kafka, options_.topic, options_.delivery_timeout, per_order);
  if (!desk.ok()) {
    // Whatever librdkafka's code, it is the configuration that is wrong.
    return absl::InvalidArgumentError(desk.status().message());
  }
  if (watch != nullptr) {
    (*desk)->OnAcknowledged([&watch](const PlacedOrder& placed) {
      kitchen::v1::Order order;
      (void)order.ParseFromArray(placed.value.data(),
                                 static_cast<int>(placed.value.size()));
      watch->Expect(placed.partition, placed.offset, order.pizza(),
                    order.table(), order.order_id(),
                    absl::Now() - placed.latency);
    });
  }
  switch (mode_) {
    case Mode::kOneOrder:
      if (absl::Status placed = PlaceOneOrder(**desk); !placed.ok()) {
        return placed;
      }
      break;
    case Mode::kLoad:
      PlaceLoad(**desk, stop);
      break;
    case Mode::kLines:
      PlaceLines(**desk, stop);
      break;
  }
  if (watch != nullptr) {
    if (absl::Status waited = watch->WaitForAll(options_.wait_timeout, stop);
        !waited.ok()) {
      logging::Error("--wait: %s", waited.message());
    }
    (*desk)->SetNotReady(watch->tally().not_ready);
    std::string summary =
        FormatReadySummary(watch->tally(), options_.wait_timeout);
    if (mode_ == Mode::kLoad) {
      absl::FPrintF(options_.out, "%s\n", summary);
      std::fflush(options_.out);
    } else if (mode_ == Mode::kLines) {
      logging::Info("%s", summary);
    }
  }
  return (*desk)->tally();
}

absl::Status Waiter::PlaceOneOrder(OrderDesk& desk) {
  if (absl::Status placed = desk.Place(order_.pizza, order_.table);
      !placed.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot place order: ", placed.message()));
  }
  desk.Finish(answer_timeout());
  return absl::OkStatus();
}

void Waiter::PlaceLoad(OrderDesk& desk, absl::Notification& stop) {
  LoadOptions load;
  load.count = options_.count;
  load.rate = options_.rate;
  load.seed = options_.seed != 0 ? options_.seed : std::random_device()();
  load.progress = ::isatty(STDERR_FILENO);
  logging::Info("load: %d orders%s, seed %d", load.count,
                load.rate > 0 ? absl::StrCat(" at ", load.rate, "/s") : "",
                load.seed);
  RunLoad(desk, options_.menu, options_.tables, load, stop);
  desk.Finish(answer_timeout());
  const std::string summary = FormatSummary(desk.tally());
  if (absl::FPrintF(options_.out, "%s\n", summary) < 0 ||
      std::fflush(options_.out) != 0) {
    // A closed pipe, say: the summary goes to the log instead.
    logging::Warning("cannot write to standard output (%s)",
                     std::strerror(errno));
    logging::Info("%s", summary);
  }
}

absl::Status Waiter::CheckOrderFile(absl::Notification& stop) {
  struct stat info {};
  if (!options_.strict || ::fstat(input_, &info) != 0 ||
      !S_ISREG(info.st_mode)) {
    return absl::OkStatus();
  }
  cli::LineReader reader(input_);
  size_t line_number = 0;
  while (absl::optional<std::string> line = reader.Next(stop)) {
    ++line_number;
    auto order = ParseOrderLine(*line, options_.menu, options_.tables);
    if (!order.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ":", line_number, ": ",
                       order.status().message(), " (--strict: nothing sent)"));
    }
  }
  if (!reader.status().ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ": ", reader.status().message(), " (--strict: nothing sent)"));
  }
  if (::lseek(input_, 0, SEEK_SET) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot read ", source_, " again"));
  }
  return absl::OkStatus();
}

namespace {

// Places the order on one input line, if it holds one.
LineOutcome PlaceLine(OrderDesk& desk, const WaiterOptions& options,
                      absl::string_view source, size_t line_number,
                      absl::string_view line) {
  auto order = ParseOrderLine(line, options.menu, options.tables);
  if (!order.ok()) {
    logging::Error("%s:%d: %s%s", source, line_number, order.status().message(),
                   options.strict ? " (--strict: stopping)" : "; line skipped");
    desk.Skip();
    return options.strict ? LineOutcome::kStop : LineOutcome::kNotAnOrder;
  }
  if (!order->has_value()) return LineOutcome::kNotAnOrder;  // Blank.
  if (absl::Status placed = desk.Place((*order)->pizza, (*order)->table);
      !placed.ok()) {
    logging::Error("cannot place order: %s", placed.message());
    return LineOutcome::kStop;
  }
  desk.Poll(0);
  return LineOutcome::kPlaced;
}

}  // namespace

void Waiter::PlaceLines(OrderDesk& desk, absl::Notification& stop) {
  const bool interactive = ::isatty(input_);
  cli::LineReader reader(input_);
  size_t line_number = 0;
  auto next_line = [&]() -> absl::optional<std::string> {
    if (interactive) {
      std::fputs("order (PIZZA TABLE; Ctrl-D to finish)> ", options_.prompt);
      std::fflush(options_.prompt);
    }
    // Acknowledgements are printed while the input is quiet, not at its next
    // line.
    return reader.Next(stop, [&desk] { desk.Poll(0); });
  };
  while (absl::optional<std::string> line = next_line()) {
    ++line_number;
    LineOutcome outcome =
        PlaceLine(desk, options_, source_, line_number, *line);
    if (outcome == LineOutcome::kStop) break;
    if (outcome == LineOutcome::kPlaced && interactive) {
      // A person waits for each answer before typing the next order.
      absl::Time deadline = absl::Now() + answer_timeout();
      while (desk.pending() > 0 && absl::Now() < deadline) desk.Poll(50);
    }
  }
  if (interactive) std::fputs("\n", options_.prompt);
  if (!reader.status().ok()) {
    // The orders placed so far are still waited for and reported below.
    logging::Error("%s: %s", source_, reader.status().message());
    desk.InputUnread();
  }
  desk.Finish(answer_timeout());
  logging::Info("%s", FormatSummary(desk.tally()));
}

}  // namespace kitchen::waiter
