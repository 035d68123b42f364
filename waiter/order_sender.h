// File: waiter/order_sender.h
//
// Sends orders to Kafka and reports, for each one, what the broker answered:
// written at partition/offset, or failed and why. Nothing is reported as placed
// that the broker did not acknowledge (idempotent producer, acks=all). Every
// order placed gets exactly one result: acknowledged, failed, or, when Finish()
// runs out of time, failed as undelivered.
//
// Usage:
//   auto sender = OrderSender::Create(
//       config, "pizza-order", absl::Seconds(10),
//       [](const PlacedOrder& placed) { Print(placed); });
//   (*sender)->Place("margherita", 17);
//   (*sender)->Finish(absl::Seconds(15));
//
// Built for load: the sender keeps no table of the orders waiting for an
// answer. librdkafka holds each record until it answers for it, and its answer
// carries the record (the order as sent) and a token: the time the order was
// placed. Placing an order allocates nothing once the buffers have grown but
// what librdkafka needs for the record.

#ifndef KITCHEN_WAITER_ORDER_SENDER_H_
#define KITCHEN_WAITER_ORDER_SENDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "orders/order_record.h"

namespace kitchen::waiter {

// One order's result. The views are valid during the callback only.
struct PlacedOrder {
  absl::string_view value;  // The order as sent: a kitchen.v1.Order.
  absl::Status status;      // OK: acknowledged by the broker.
  absl::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;     // -1: acknowledged, but the broker did not say.
  absl::Duration latency;  // From Place() to the broker's answer.

  // The trace the order's traceparent header started (32 hex digits; empty if
  // the record has none). Read from the record when asked: in load mode no
  // answer asks, and reading a header for each one took a tenth of the
  // waiter's main thread (perf, real Kafka).
  absl::string_view trace_id() const;
  const kafka::Delivery* delivery = nullptr;  // The answer, for trace_id().
};

// The producer settings the waiter relies on; see README.md "Delivery".
kafka::Properties WaiterProducerDefaults(absl::Duration delivery_timeout);

class OrderSender {
 public:
  using ResultCallback = std::function<void(const PlacedOrder&)>;

  static absl::StatusOr<std::unique_ptr<OrderSender>> Create(
      const kafka::ClientConfig& config, std::string topic,
      absl::Duration delivery_timeout, ResultCallback on_result);

  // Queues one order with a fresh id and a new trace (a traceparent header,
  // orders/trace_context.h), placed now; waits (serving results) while the
  // local queue is full.
  absl::Status Place(absl::string_view pizza, int32_t table);

  // Serves results, waiting at most `timeout_ms` for one.
  void Poll(int timeout_ms);

  // Waits at most `timeout` for every result; orders still unanswered then are
  // taken back from librdkafka and reported failed. Returns how many orders
  // librdkafka never answered for even then (0 unless it misbehaves).
  int64_t Finish(absl::Duration timeout);

  // Orders placed and not yet answered.
  int64_t pending() const { return unanswered_; }

 private:
  OrderSender(std::string topic, ResultCallback on_result)
      : topic_(std::move(topic)), on_result_(std::move(on_result)) {}
  void OnDelivery(const kafka::Delivery& delivery);

  std::string topic_;
  ResultCallback on_result_;
  int64_t unanswered_ = 0;
  // Set when Finish() has run out of time: from then on, librdkafka's answers
  // for the records it takes back say so.
  absl::optional<absl::Duration> gave_up_after_;
  // Orders placed until then that librdkafka never answered for were counted
  // by Finish().
  absl::Time counted_up_to_ = absl::InfinitePast();
  // The time of the first answer served by the current Poll(): the answers one
  // poll serves were all waiting, so one clock read does for all of them.
  absl::Time answers_served_at_;
  bool clock_read_ = false;
  orders::EncodedOrder record_;  // Reused: its buffers keep their capacity.
  std::unique_ptr<kafka::Producer> producer_;  // Last: destroyed first.
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_ORDER_SENDER_H_
