// File: orders/order_event.cc

#include "orders/order_event.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "orders/order_record.h"

namespace kitchen::orders {
namespace {

void SetTimestamp(absl::Time time, google::protobuf::Timestamp& out) {
  timespec parts = absl::ToTimespec(time);
  out.set_seconds(parts.tv_sec);
  out.set_nanos(static_cast<int32_t>(parts.tv_nsec));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

}  // namespace

kitchen::v1::OrderEvent NewEvent(const kitchen::v1::Order& order,
                                 int32_t partition, int64_t offset,
                                 kitchen::v1::OrderEvent::State state,
                                 absl::string_view cook, absl::Time at) {
  kitchen::v1::OrderEvent event;
  event.set_order_id(order.order_id());
  event.set_table(order.table());
  event.set_pizza(order.pizza());
  event.set_state(state);
  event.set_cook(std::string(cook));
  SetTimestamp(at, *event.mutable_at());
  event.set_order_partition(partition);
  event.set_order_offset(offset);
  if (order.has_placed_at()) *event.mutable_placed_at() = order.placed_at();
  return event;
}

EncodedEvent EncodeEvent(const kitchen::v1::OrderEvent& event) {
  EncodedEvent record;
  record.key = absl::StrCat(event.table());
  event.SerializeToString(&record.value);
  if (!event.order_id().empty()) {
    record.headers.push_back({kOrderIdHeader, event.order_id()});
  }
  record.headers.push_back({kContentTypeHeader, kEventContentType});
  return record;
}

absl::Status ValidateEvent(const kitchen::v1::OrderEvent& event) {
  if (event.state() == kitchen::v1::OrderEvent::STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError("order event has no state");
  }
  if (event.table() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "order event has table ", event.table(), ", not a positive number"));
  }
  if (event.order_partition() < 0 || event.order_offset() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "order event has no position (partition ", event.order_partition(),
        ", offset ", event.order_offset(), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<kitchen::v1::OrderEvent> DecodeEvent(absl::string_view value) {
  kitchen::v1::OrderEvent event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::InvalidArgumentError(
        "record value is not a kitchen.v1.OrderEvent (protobuf parse failed)");
  }
  if (absl::Status valid = ValidateEvent(event); !valid.ok()) return valid;
  return event;
}

absl::optional<absl::Time> EventTime(const kitchen::v1::OrderEvent& event) {
  if (!event.has_at()) return absl::nullopt;
  return FromTimestamp(event.at());
}

absl::optional<absl::Time> EventPlacedAt(const kitchen::v1::OrderEvent& event) {
  if (!event.has_placed_at()) return absl::nullopt;
  return FromTimestamp(event.placed_at());
}

std::string StateName(kitchen::v1::OrderEvent::State state) {
  return kitchen::v1::OrderEvent::State_Name(state);
}

}  // namespace kitchen::orders
