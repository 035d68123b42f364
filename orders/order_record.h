// File: orders/order_record.h
//
// The kitchen's record format on Kafka, in one place:
//   topic   pizza-order (dead letters: pizza-order.dlq)
//   key     the table number as a decimal string, so one table's orders share a
//           partition and keep their order
//   value   a serialized kitchen.v1.Order
//   headers order-id: the order's id; traceparent: the order's W3C trace
//           context (orders/trace_context.h), from senders that trace;
//           content-type: names the message type
//
// Usage:
//   kitchen::v1::Order order = NewOrder("margherita", 17, absl::Now());
//   EncodedOrder record = EncodeOrder(order);        // key, value, headers
//   absl::StatusOr<kitchen::v1::Order> back = DecodeOrder(record.value);

#ifndef KITCHEN_ORDERS_ORDER_RECORD_H_
#define KITCHEN_ORDERS_ORDER_RECORD_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kafka/message.h"
#include "orders/trace_context.h"
#include "proto/order.pb.h"

namespace kitchen::orders {

inline constexpr char kOrderTopic[] = "pizza-order";
inline constexpr char kDeadLetterTopic[] = "pizza-order.dlq";

inline constexpr char kOrderIdHeader[] = "order-id";
inline constexpr char kContentTypeHeader[] = "content-type";
inline constexpr char kOrderContentType[] =
    "application/x-protobuf; messageType=kitchen.v1.Order";

// An order id: a random version 4 UUID, "8-4-4-4-12" hex digits. Held in
// place, not on the heap: the waiter makes one per order, hundreds of thousands
// a second under load.
class OrderId {
 public:
  static OrderId New();
  absl::string_view view() const { return {chars_.data(), chars_.size()}; }

 private:
  OrderId() = default;
  std::array<char, 36> chars_;
};

// A fresh order id as a string.
std::string NewOrderId();

// An order with a fresh id, placed at `placed_at`.
kitchen::v1::Order NewOrder(absl::string_view pizza, int32_t table,
                            absl::Time placed_at);

// The fields of an order, as views: what a sender of many orders encodes
// without building a kitchen::v1::Order first.
struct OrderFields {
  absl::string_view order_id;
  absl::string_view pizza;
  int32_t table = 0;
  absl::Time placed_at;
  absl::string_view traceparent;  // Empty: no traceparent header.
};

struct EncodedOrder {
  std::string key;
  std::string value;
  kafka::Headers headers;
};

EncodedOrder EncodeOrder(const kitchen::v1::Order& order);

// The record of the order with these fields, into `record`, reusing its
// buffers (pass the same record each time, as this left it): the same bytes as
// EncodeOrder() of the kitchen::v1::Order with these fields, at a fraction of
// the cost (the waiter's hot path; a test holds the two together, field by
// field).
void EncodeOrderInto(const OrderFields& order, EncodedOrder& record);

// What makes an order an order: a pizza, and a table above zero. An order
// without order_id or placed_at (an older or foreign producer) is still valid.
absl::Status ValidateOrder(const kitchen::v1::Order& order);

// Parses and validates a record value. InvalidArgument says what is wrong.
absl::StatusOr<kitchen::v1::Order> DecodeOrder(absl::string_view value);
// The same into `order`, reusing its buffers (for readers of many orders).
absl::Status DecodeOrderInto(absl::string_view value,
                             kitchen::v1::Order& order);

// placed_at as absl::Time, or nullopt when the producer did not set it.
absl::optional<absl::Time> PlacedAt(const kitchen::v1::Order& order);

}  // namespace kitchen::orders

#endif  // KITCHEN_ORDERS_ORDER_RECORD_H_
