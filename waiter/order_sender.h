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
// Built for load: placing an order allocates nothing once the buffers have
// grown but what librdkafka needs for the record, and the orders waiting for
// an answer are kept compactly, in the order they were placed.

#ifndef KITCHEN_WAITER_ORDER_SENDER_H_
#define KITCHEN_WAITER_ORDER_SENDER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/node_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "orders/order_record.h"

namespace kitchen::waiter {

// One order's result. The views are valid during the callback only.
struct PlacedOrder {
  absl::string_view order_id;
  absl::string_view pizza;
  int32_t table = 0;
  absl::Status status;  // OK: acknowledged by the broker.
  absl::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;     // -1: acknowledged, but the broker did not say.
  absl::Duration latency;  // From Place() to the broker's answer.
};

// The producer settings the waiter relies on; see README.md "Delivery".
kafka::Properties WaiterProducerDefaults(absl::Duration delivery_timeout);

class OrderSender {
 public:
  using ResultCallback = std::function<void(const PlacedOrder&)>;

  static absl::StatusOr<std::unique_ptr<OrderSender>> Create(
      const kafka::ClientConfig& config, std::string topic,
      absl::Duration delivery_timeout, ResultCallback on_result);

  // Queues one order with a fresh id, placed now; waits (serving results)
  // while the local queue is full.
  absl::Status Place(absl::string_view pizza, int32_t table);

  // Serves results, waiting at most `timeout_ms` for one.
  void Poll(int timeout_ms);

  // Waits at most `timeout` for every result; orders still unanswered then are
  // reported failed. Afterwards pending() is 0.
  void Finish(absl::Duration timeout);

  // Orders placed and not yet answered.
  int pending() const { return unanswered_; }

 private:
  struct Pending {
    orders::OrderId order_id;
    const std::string* pizza;  // In pizza_names_.
    int32_t table;
    bool answered;
    absl::Time sent_at;
  };

  OrderSender(std::string topic, ResultCallback on_result)
      : topic_(std::move(topic)), on_result_(std::move(on_result)) {}
  void OnDelivery(const kafka::Delivery& delivery);
  void Report(const Pending& pending, PlacedOrder& placed);

  std::string topic_;
  ResultCallback on_result_;
  // The orders placed, oldest first, from the oldest one not answered: the
  // token of pending_[i] is first_token_ + i. Answers come back in about the
  // order placed, so the answered ones are dropped from the front.
  std::deque<Pending> pending_;
  uint64_t first_token_ = 1;
  int unanswered_ = 0;
  // Each pizza name once: a few menu entries, however many orders.
  absl::node_hash_set<std::string> pizza_names_;
  // The time of the first answer served by the current Poll(): the answers one
  // poll serves were all waiting, so one clock read does for all of them.
  absl::Time answers_served_at_;
  bool clock_read_ = false;
  orders::EncodedOrder record_;  // Reused: its buffers keep their capacity.
  std::unique_ptr<kafka::Producer> producer_;  // Last: destroyed first.
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_ORDER_SENDER_H_
