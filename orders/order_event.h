// File: orders/order_event.h
//
// An order's progress as a Kafka record (README, "Order events"), in one place:
//   topic   order-status (6 partitions; retention 24 h)
//   key     the order's table as a decimal string, as on pizza-order
//   value   a serialized kitchen.v1.OrderEvent (proto/order_event.proto)
//   headers order-id (when the order has one); content-type names the type
// An order is identified by its position on the order topic (order_partition,
// order_offset), not by its id: a foreign producer's order may have none.
//
// Usage:
//   kitchen::v1::OrderEvent ready = NewEvent(order, {"pizza-order", 3, 12},
//       kitchen::v1::OrderEvent::READY, "cook-1", absl::Now());
//   EncodedEvent record = EncodeEvent(ready);  // key, value, headers
//   absl::StatusOr<kitchen::v1::OrderEvent> back = DecodeEvent(record.value);

#ifndef KITCHEN_ORDERS_ORDER_EVENT_H_
#define KITCHEN_ORDERS_ORDER_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/message.h"
#include "proto/order.pb.h"
#include "proto/order_event.pb.h"

namespace kitchen::orders {

inline constexpr char kStatusTopic[] = "order-status";
inline constexpr char kEventContentType[] =
    "application/x-protobuf; messageType=kitchen.v1.OrderEvent";

struct EncodedEvent {
  std::string key;
  std::string value;
  kafka::Headers headers;
};

// The event `state` of `order`, read at `partition`/`offset` of the order
// topic, by cook `cook` at `at`.
kitchen::v1::OrderEvent NewEvent(const kitchen::v1::Order& order,
                                 int32_t partition, int64_t offset,
                                 kitchen::v1::OrderEvent::State state,
                                 absl::string_view cook, absl::Time at);

EncodedEvent EncodeEvent(const kitchen::v1::OrderEvent& event);

// What makes an event an event: a known state (not STATE_UNSPECIFIED), a table
// above zero, a position (order_partition and order_offset not negative).
absl::Status ValidateEvent(const kitchen::v1::OrderEvent& event);

// Parses and validates a record value. InvalidArgument says what is wrong.
absl::StatusOr<kitchen::v1::OrderEvent> DecodeEvent(absl::string_view value);

// `at` and `placed_at` as absl::Time; nullopt when not set.
absl::optional<absl::Time> EventTime(const kitchen::v1::OrderEvent& event);
absl::optional<absl::Time> EventPlacedAt(const kitchen::v1::OrderEvent& event);

// "COOKING", "READY", ...
std::string StateName(kitchen::v1::OrderEvent::State state);

}  // namespace kitchen::orders

#endif  // KITCHEN_ORDERS_ORDER_EVENT_H_
