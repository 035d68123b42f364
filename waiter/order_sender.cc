// File: waiter/order_sender.cc

#include "waiter/order_sender.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"

namespace kitchen::waiter {

kafka::Properties WaiterProducerDefaults(absl::Duration delivery_timeout) {
  return {
      // Exactly one copy of each order in the log, in the order placed, even
      // when librdkafka retries: the idempotent producer (implies acks=all).
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // One produce request in flight per broker, not librdkafka's 5: with
      // more, librdkafka 2.0.2's idempotent producer fails for good ("rewound
      // sequence number", its bug #4438, fixed in 2.3.0) when a partition's
      // leader dies under a request that may have been written. Seen in 2 of
      // 3 chaos runs on 3 nodes (tools/chaos --kafka --kafka_nodes 3); with 1,
      // the same seed passed. Batching (linger.ms, below) still fills requests.
      {"max.in.flight.requests.per.connection", "1"},
      // One millisecond of batching: under load the queue fills batches anyway
      // (measured: as fast as 5 ms, twice as fast as 0), and an order waits at
      // most 1 ms for company. lz4 is cheap to compress and to decompress.
      {"linger.ms", "1"},
      {"batch.num.messages", "10000"},
      {"compression.type", "lz4"},
      // Bounds memory: each record librdkafka holds (queued, in flight, or
      // waiting for its answer to be served) takes about 550 bytes with its
      // headers. librdkafka's 100,000 made a load run peak at 30 to 60 MiB;
      // 20,000 keeps it near 20 MiB and was measured as fast.
      {"queue.buffering.max.messages", "20000"},
      // An order not acknowledged within this time is reported failed
      // (librdkafka's default is 5 minutes: far too long for a person at a
      // terminal).
      {"message.timeout.ms",
       absl::StrCat(absl::ToInt64Milliseconds(delivery_timeout))},
  };
}

absl::string_view PlacedOrder::trace_id() const {
  if (delivery == nullptr) return {};
  // The header Place() wrote: not parsed again.
  absl::optional<absl::string_view> traceparent =
      delivery->header(orders::kTraceparentHeader);
  return traceparent.has_value()
             ? orders::TraceContext::TraceIdOfOwn(*traceparent)
             : absl::string_view();
}

absl::StatusOr<std::unique_ptr<OrderSender>> OrderSender::Create(
    const kafka::ClientConfig& config, std::string topic,
    absl::Duration delivery_timeout, ResultCallback on_result) {
  std::unique_ptr<OrderSender> sender(
      new OrderSender(std::move(topic), std::move(on_result)));
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(config, WaiterProducerDefaults(delivery_timeout));
  if (!conf.ok()) return conf.status();
  OrderSender* raw = sender.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(*std::move(conf),
                              [raw](const kafka::Delivery& delivery) {
                                raw->OnDelivery(delivery);
                              });
  if (!producer.ok()) return producer.status();
  sender->producer_ = *std::move(producer);
  // Known from the start, or the first order may wait up to a second for
  // metadata (see Producer::TopicHandle).
  if (sender->producer_->TopicHandle(sender->topic_) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use topic \"", sender->topic_, "\""));
  }
  // Finish() decides how long to wait; the destructor should not wait again.
  sender->producer_->set_close_timeout(absl::ZeroDuration());
  return sender;
}

namespace {

// The wall clock from one vDSO call. absl::Now() keeps a calibrated cycle
// counter and now and then takes a slow path: measured, it cost twice as much
// per order.
absl::Time WallClockNow() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return absl::TimeFromTimespec(now);
}

}  // namespace

absl::Status OrderSender::Place(absl::string_view pizza, int32_t table) {
  const absl::Time now = WallClockNow();
  const orders::OrderId order_id = orders::OrderId::New();
  const orders::TraceContext trace = orders::TraceContext::New();
  const absl::string_view traceparent = trace.traceparent();
  orders::EncodeOrderInto({order_id.view(), pizza, table, now, traceparent},
                          record_);
  // The token comes back with the answer: when the order was placed.
  const auto token = static_cast<uint64_t>(absl::ToUnixNanos(now));
  while (true) {
    absl::Status sent = producer_->Send(
        {topic_, record_.key, record_.value, &record_.headers}, token);
    if (sent.ok()) {
      ++unanswered_;
      return sent;
    }
    if (sent.code() != absl::StatusCode::kResourceExhausted) return sent;
    Poll(10);  // The queue is full: let answers drain it.
  }
}

void OrderSender::Poll(int timeout_ms) {
  clock_read_ = false;
  producer_->Poll(timeout_ms);
}

int64_t OrderSender::Finish(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (unanswered_ > 0 && absl::Now() < deadline) {
    Poll(static_cast<int>(std::min<int64_t>(
        100, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1)));
  }
  if (unanswered_ == 0) return 0;
  // What is left will not be answered while we wait: take it back, and let
  // librdkafka answer for each record, failed. It does so at once for queued
  // records, and for records on their way once its broker threads let go of
  // them: a short wait.
  gave_up_after_ = timeout;
  producer_->Purge();
  absl::Time purged_by = absl::Now() + absl::Seconds(1);
  while (unanswered_ > 0 && absl::Now() < purged_by) Poll(10);
  int64_t never_answered = unanswered_;
  if (never_answered > 0) {
    // Counted here: should librdkafka answer for them after all, drop that.
    counted_up_to_ = absl::Now();
    unanswered_ = 0;
  }
  return never_answered;
}

void OrderSender::OnDelivery(const kafka::Delivery& delivery) {
  const absl::Time placed_at =
      absl::FromUnixNanos(static_cast<int64_t>(delivery.token));
  if (placed_at <= counted_up_to_) return;  // Finish() counted it.
  if (!clock_read_) {
    answers_served_at_ = WallClockNow();
    clock_read_ = true;
  }
  --unanswered_;
  PlacedOrder placed;
  placed.value = delivery.value;
  placed.status = delivery.status;
  if (delivery.purged && gave_up_after_.has_value()) {
    placed.status = absl::DeadlineExceededError(absl::StrCat(
        "not acknowledged within ", absl::FormatDuration(*gave_up_after_)));
  }
  placed.topic = topic_;
  placed.partition = delivery.partition;
  placed.offset = delivery.offset;
  placed.latency = answers_served_at_ - placed_at;
  placed.delivery = &delivery;
  if (on_result_) on_result_(placed);
}

}  // namespace kitchen::waiter
