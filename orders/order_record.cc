// File: orders/order_record.cc

#include "orders/order_record.h"

#include <random>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kitchen::orders {

std::string NewOrderId() {
  // absl::BitGen is seeded from the OS once per thread and is fast; ids only
  // need to be unique, not secret.
  thread_local absl::BitGen bits;
  uint64_t high = absl::Uniform<uint64_t>(bits);
  uint64_t low = absl::Uniform<uint64_t>(bits);
  high = (high & ~0xF000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  // 8-4-4-4-12 hex digits; written by hand because this runs once per order.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  int position = 0;
  auto put = [&](uint64_t bits, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      id[static_cast<size_t>(position++)] = kHex[(bits >> (4 * i)) & 0xF];
    }
  };
  put(high >> 32, 8);
  ++position;
  put(high >> 16, 4);
  ++position;
  put(high, 4);
  ++position;
  put(low >> 48, 4);
  ++position;
  put(low, 12);
  return id;
}

kitchen::v1::Order NewOrder(absl::string_view pizza, int32_t table,
                            absl::Time placed_at) {
  kitchen::v1::Order order;
  order.set_pizza(std::string(pizza));
  order.set_table(table);
  order.set_order_id(NewOrderId());
  timespec placed = absl::ToTimespec(placed_at);
  order.mutable_placed_at()->set_seconds(placed.tv_sec);
  order.mutable_placed_at()->set_nanos(static_cast<int32_t>(placed.tv_nsec));
  return order;
}

std::string TableKey(int32_t table) { return absl::StrCat(table); }

EncodedOrder EncodeOrder(const kitchen::v1::Order& order) {
  EncodedOrder record;
  EncodeOrderInto(order, record);
  return record;
}

void EncodeOrderInto(const kitchen::v1::Order& order, EncodedOrder& record) {
  record.key.clear();
  absl::StrAppend(&record.key, order.table());
  order.SerializeToString(&record.value);
  size_t count = order.order_id().empty() ? 1 : 2;
  record.headers.resize(count);
  if (count == 2) {
    record.headers[0].name = kOrderIdHeader;
    record.headers[0].value = order.order_id();
  }
  record.headers[count - 1].name = kContentTypeHeader;
  record.headers[count - 1].value = kOrderContentType;
}

absl::Status ValidateOrder(const kitchen::v1::Order& order) {
  if (order.pizza().empty()) {
    return absl::InvalidArgumentError("order has no pizza");
  }
  if (order.table() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "order has table ", order.table(), ", not a positive number"));
  }
  return absl::OkStatus();
}

absl::StatusOr<kitchen::v1::Order> DecodeOrder(absl::string_view value) {
  kitchen::v1::Order order;
  if (!order.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is not a kitchen.v1.Order (", value.size(),
                     " bytes of protobuf that do not parse)"));
  }
  if (absl::Status valid = ValidateOrder(order); !valid.ok()) return valid;
  return order;
}

absl::optional<absl::Time> PlacedAt(const kitchen::v1::Order& order) {
  if (!order.has_placed_at()) return absl::nullopt;
  return absl::FromUnixSeconds(order.placed_at().seconds()) +
         absl::Nanoseconds(order.placed_at().nanos());
}

}  // namespace kitchen::orders
