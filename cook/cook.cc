// File: cook/cook.cc

#include "cook/cook.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_event.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"

namespace kitchen::cook {
namespace {

using kitchen::v1::OrderEvent;

// "order 3f2a..., pizza-order/3@12, trace 4bf9...": what lets a person
// follow one order, here and across services.
std::string Where(absl::string_view order_id, const service::Position& at,
                  const orders::TraceContext& trace) {
  return absl::StrFormat("order %s, %s/%d@%d, trace %s",
                         order_id.empty() ? "(no id)" : order_id, at.topic,
                         at.partition, at.offset, trace.trace_id());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cook>> Cook::Create(
    CookOptions options, const kafka::ClientConfig& kafka,
    service::TransactionalProducer* transaction, service::Metrics* metrics) {
  if (transaction == nullptr) {
    return absl::InvalidArgumentError(
        "the cook needs a transactional producer for READY");
  }
  std::unique_ptr<Cook> cook(new Cook(std::move(options), transaction));
  if (metrics != nullptr) {
    cook->metrics_ = Exported{
        &metrics->Counter("kitchen_orders_cooked_total",
                          "Orders cooked (READY sent)."),
        &metrics->Histogram("kitchen_order_placed_to_cooking_seconds",
                            "From an order's placed_at to its cook starting.",
                            service::OrderLatencyBuckets()),
        &metrics->Histogram("kitchen_order_placed_to_ready_seconds",
                            "From an order's placed_at to READY sent.",
                            service::OrderLatencyBuckets()),
        &metrics->Histogram(
            "kitchen_producer_delivery_seconds",
            "From sending an order event (COOKING, ABANDONED) to the "
            "broker's acknowledgement.",
            service::IoLatencyBuckets()),
        &metrics->Counter("kitchen_producer_delivery_errors_total",
                          "Order events the broker did not take."),
    };
  }
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(kafka::ForProducer(kafka),
                       {{"enable.idempotence", "true"}, {"linger.ms", "0"}});
  if (!conf.ok()) return conf.status();
  Cook* self = cook.get();
  auto events = kafka::Producer::Create(
      *std::move(conf), [self](const kafka::Delivery& delivery) {
        if (self->metrics_.has_value()) {
          if (delivery.status.ok()) {
            self->metrics_->delivery_seconds->Observe(absl::ToDoubleSeconds(
                absl::Now() -
                absl::FromUnixNanos(static_cast<int64_t>(delivery.token))));
          } else {
            self->metrics_->delivery_errors->Increment();
          }
        }
        // An event lost is a gap in what readers see, not a lost order.
        if (!delivery.status.ok() && self->events_failed_++ == 0) {
          logging::Warning("an order event was not delivered: %s",
                           delivery.status.message());
        }
      });
  if (!events.ok()) return events.status();
  cook->events_ = *std::move(events);
  cook->events_->TopicHandle(cook->options_.status_topic);
  return cook;
}

void Cook::Publish(const kitchen::v1::Order& order, const service::Position& at,
                   const orders::TraceContext& trace, int state) {
  orders::EncodedEvent record = orders::EncodeEvent(orders::NewEvent(
      order, at.partition, at.offset, static_cast<OrderEvent::State>(state),
      options_.cook_id, absl::Now()));
  // The event is the cook's word in the order's trace.
  record.headers.push_back({orders::kTraceparentHeader, trace.header()});
  kafka::OutgoingRecord outgoing{options_.status_topic, record.key,
                                 record.value, &record.headers};
  absl::Status sent;
  if (state == OrderEvent::READY) {
    sent = transaction_->Send(outgoing);
  } else {
    const auto sent_at = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    while (absl::IsResourceExhausted(sent = events_->Send(outgoing, sent_at))) {
      events_->Poll(10);
    }
    events_->Poll(0);
  }
  if (!sent.ok() && metrics_.has_value())
    metrics_->delivery_errors->Increment();
  if (!sent.ok() && events_failed_++ == 0) {
    logging::Warning("cannot send an order event: %s", sent.message());
  }
}

absl::Status Cook::Handle(const kitchen::v1::Order& order,
                          const service::Position& at,
                          absl::Notification& stop) {
  stop_ = &stop;
  std::string waited = "placed at an unknown time";
  const absl::optional<absl::Time> placed_at = orders::PlacedAt(order);
  if (placed_at.has_value() && metrics_.has_value()) {
    metrics_->placed_to_cooking->Observe(
        absl::ToDoubleSeconds(absl::Now() - *placed_at));
  }
  if (absl::optional<absl::Time> placed = placed_at) {
    waited = absl::StrCat("placed ",
                          absl::FormatDuration(absl::Trunc(
                              absl::Now() - *placed, absl::Microseconds(1))),
                          " ago");
  }
  // The loop's continuation of the record's trace; a trace of its own for a
  // caller that gives none.
  const orders::TraceContext trace =
      at.trace != nullptr ? *at.trace : orders::TraceContext::New();
  const std::string where = Where(order.order_id(), at, trace);
  logging::Info("cooking %s for table %d (%s, %s)", order.pizza(),
                order.table(), where, waited);
  Publish(order, at, trace, OrderEvent::COOKING);
  if (options_.prep_time > absl::ZeroDuration() &&
      stop.WaitForNotificationWithTimeout(options_.prep_time)) {
    logging::Warning(
        "abandoned %s for table %d (%s): stopping; it is not marked done and "
        "will be cooked again",
        order.pizza(), order.table(), where);
    Publish(order, at, trace, OrderEvent::ABANDONED);
    return absl::CancelledError("stopped while cooking");
  }
  ++cooked_;
  Publish(order, at, trace, OrderEvent::READY);
  if (metrics_.has_value()) {
    metrics_->cooked->Increment();
    if (placed_at.has_value()) {
      metrics_->placed_to_ready->Observe(
          absl::ToDoubleSeconds(absl::Now() - *placed_at));
    }
  }
  logging::Info("ready: %s for table %d (%s)", order.pizza(), order.table(),
                where);
  return absl::OkStatus();
}

absl::Status Cook::Flush() {
  events_->Poll(0);
  if (options_.hold_transaction > absl::ZeroDuration() &&
      transaction_->open()) {
    logging::Warning(
        "TEST HOOK --test_hold_transaction: holding the open transaction "
        "(READY sent, not committed) for %s",
        absl::FormatDuration(options_.hold_transaction));
    if (stop_ != nullptr) {
      stop_->WaitForNotificationWithTimeout(options_.hold_transaction);
    } else {
      absl::SleepFor(options_.hold_transaction);
    }
  }
  return absl::OkStatus();
}

void Cook::OnIdle() { events_->Poll(0); }

std::string Cook::Summary() const {
  return absl::StrCat(cooked_, " cooked, ", transaction_->committed(),
                      " transactions committed, ", transaction_->aborted(),
                      " aborted");
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

}  // namespace kitchen::cook
