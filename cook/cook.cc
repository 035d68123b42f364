// File: cook/cook.cc

#include "cook/cook.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_record.h"

namespace kitchen::cook {
namespace {

// "order 3f2a..., pizza-order/3@12": what lets a person follow one order.
std::string Where(absl::string_view order_id, const service::Position& at) {
  return absl::StrFormat("order %s, %s/%d@%d",
                         order_id.empty() ? "(no id)" : order_id, at.topic,
                         at.partition, at.offset);
}

}  // namespace

absl::Status Cook::Handle(const kitchen::v1::Order& order,
                          const service::Position& at,
                          absl::Notification& stop) {
  std::string waited = "placed at an unknown time";
  if (absl::optional<absl::Time> placed = orders::PlacedAt(order)) {
    waited = absl::StrCat("placed ",
                          absl::FormatDuration(absl::Trunc(
                              absl::Now() - *placed, absl::Microseconds(1))),
                          " ago");
  }
  const std::string where = Where(order.order_id(), at);
  logging::Info("cooking %s for table %d (%s, %s)", order.pizza(),
                order.table(), where, waited);
  if (prep_time_ > absl::ZeroDuration() &&
      stop.WaitForNotificationWithTimeout(prep_time_)) {
    logging::Warning(
        "abandoned %s for table %d (%s): stopping; it is not marked done and "
        "will be cooked again",
        order.pizza(), order.table(), where);
    return absl::CancelledError("stopped while cooking");
  }
  ++cooked_;
  logging::Info("ready: %s for table %d (%s)", order.pizza(), order.table(),
                where);
  return absl::OkStatus();
}

void Cook::OnLag(const std::vector<kafka::PartitionLag>& lags) {
  for (const kafka::PartitionLag& lag : lags) {
    if (lag.from < 0 || lag.low < 0 || lag.high < 0) continue;  // Unknown.
    if (lag.from > lag.high) {
      logging::Warning(
          "%s/%d: committed offset %d is beyond the log's end (%d): the log "
          "is not the one these orders were committed in (topic re-created, "
          "broker data lost), so it is cooked from its start (offset %d, "
          "auto.offset.reset=earliest); orders it shares with the old log are "
          "cooked again",
          lag.topic, lag.partition, lag.from, lag.high, lag.low);
    } else if (lag.from < lag.low) {
      logging::Warning(
          "%s/%d: offsets %d to %d (%d orders) were removed from the log "
          "(retention) before this group cooked them; going on from %d",
          lag.topic, lag.partition, lag.from, lag.low - 1, lag.low - lag.from,
          lag.low);
    }
  }
}

std::string Cook::Summary() const { return absl::StrCat(cooked_, " cooked"); }

}  // namespace kitchen::cook
