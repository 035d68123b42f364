// File: cook/cook.cc

#include "cook/cook.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging/log.h"
#include "orders/order_record.h"

namespace kitchen::cook {
namespace {

// "order 3f2a..., pizza-order/3@12": what lets a person follow one order.
std::string Where(absl::string_view order_id, const kafka::Message& message) {
  return absl::StrFormat(
      "order %s, %s/%d@%d", order_id.empty() ? "(no id)" : order_id,
      message.topic(), message.partition(), message.offset());
}

}  // namespace

absl::Status Cook::Run(absl::Notification& stop) {
  bool was_assigned = false;
  while (!stop.HasBeenNotified()) {
    health_.Beat([this] { return !consumer_->Assignment().empty(); });
    LogLagIfDue();
    absl::StatusOr<absl::optional<kafka::Message>> polled =
        consumer_->Poll(100);
    if (!polled.ok()) return polled.status();
    // Partitions arrive inside Poll, possibly with a first record: the backlog
    // is said before that record is cooked, from the group's committed
    // offsets, so it is what a cook that was stopped has to catch up on (and
    // what kafka-consumer-groups --describe shows).
    bool assigned = !consumer_->Assignment().empty();
    if (assigned && !was_assigned) {
      logging::Info("lag at assignment: %s",
                    kafka::DescribeLag(
                        consumer_->Lag(kafka::LagFrom::kCommittedOffsets)));
    }
    was_assigned = assigned;
    if (!polled->has_value()) continue;
    if (!Handle(**polled, stop)) break;
  }
  logging::Info("lag at shutdown: %s", kafka::DescribeLag(consumer_->Lag()));
  return absl::OkStatus();
}

void Cook::LogLagIfDue() {
  if (options_.lag_interval <= absl::ZeroDuration() ||
      absl::Now() < next_lag_log_) {
    return;
  }
  next_lag_log_ = absl::Now() + options_.lag_interval;
  std::vector<kafka::PartitionLag> lags = consumer_->Lag();
  if (!lags.empty()) logging::Info("lag: %s", kafka::DescribeLag(lags));
}

bool Cook::Handle(const kafka::Message& message, absl::Notification& stop) {
  absl::StatusOr<kitchen::v1::Order> order =
      orders::DecodeOrder(message.value());
  if (!order.ok()) {
    // A poison record: park it on the dead-letter topic and move past it, but
    // never move past it unparked (a later offset stored would commit past it).
    if (!dead_letters_->SendPatiently(message, order.status(), stop).ok()) {
      return false;  // Stopping: not stored, so it is handled again later.
    }
    (void)consumer_->StoreOffset(message);
    return true;
  }

  std::string waited = "placed at an unknown time";
  if (absl::optional<absl::Time> placed = orders::PlacedAt(*order)) {
    waited = absl::StrCat("placed ",
                          absl::FormatDuration(absl::Trunc(
                              absl::Now() - *placed, absl::Microseconds(1))),
                          " ago");
  }
  logging::Info("cooking %s for table %d (%s, %s)", order->pizza(),
                order->table(), Where(order->order_id(), message), waited);
  if (options_.prep_time > absl::ZeroDuration() &&
      stop.WaitForNotificationWithTimeout(options_.prep_time)) {
    logging::Warning(
        "abandoned %s for table %d (%s): stopping; it is not marked done and "
        "will be cooked again",
        order->pizza(), order->table(), Where(order->order_id(), message));
    return false;
  }
  ++cooked_;
  logging::Info("ready: %s for table %d (%s)", order->pizza(), order->table(),
                Where(order->order_id(), message));
  if (absl::Status stored = consumer_->StoreOffset(message); !stored.ok()) {
    // The partition moved to another cook meanwhile; it will cook this order
    // again.
    logging::Warning("%s", stored.message());
  }
  return true;
}

}  // namespace kitchen::cook
