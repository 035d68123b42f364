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
//   absl::Time now = absl::Now();
//   (*sender)->Place(orders::NewOrder("margherita", 17, now), now);
//   (*sender)->Finish(absl::Seconds(15));

#ifndef KITCHEN_WAITER_ORDER_SENDER_H_
#define KITCHEN_WAITER_ORDER_SENDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "orders/order_record.h"
#include "proto/order.pb.h"

namespace kitchen::waiter {

struct PlacedOrder {
  kitchen::v1::Order order;
  absl::Status status;  // OK: acknowledged by the broker.
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
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

  // Queues one order placed at `sent_at`; waits (serving results) while the
  // local queue is full.
  absl::Status Place(kitchen::v1::Order order, absl::Time sent_at);

  // Serves results, waiting at most `timeout_ms` for one.
  void Poll(int timeout_ms) { producer_->Poll(timeout_ms); }

  // Waits at most `timeout` for every result; orders still unanswered then are
  // reported failed. Afterwards pending() is 0.
  void Finish(absl::Duration timeout);

  int pending() const { return static_cast<int>(pending_.size()); }

 private:
  struct Pending {
    kitchen::v1::Order order;
    absl::Time sent_at;
  };

  OrderSender(std::string topic, ResultCallback on_result)
      : topic_(std::move(topic)), on_result_(std::move(on_result)) {}
  void OnDelivery(const kafka::Delivery& delivery);

  std::string topic_;
  ResultCallback on_result_;
  uint64_t next_token_ = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  orders::EncodedOrder record_;  // Reused: its buffers keep their capacity.
  std::unique_ptr<kafka::Producer> producer_;  // Last: destroyed first.
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_ORDER_SENDER_H_
