// File: orders/order_record.cc

#include "orders/order_record.h"

#include <cstring>
#include <random>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kitchen::orders {

namespace {

// The two hex digits of each byte value: kHexPairs.of[0xa7] is "a7".
struct HexPairs {
  constexpr HexPairs() {
    constexpr char kHex[] = "0123456789abcdef";
    for (int byte = 0; byte < 256; ++byte) {
      of[byte][0] = kHex[byte >> 4];
      of[byte][1] = kHex[byte & 0xF];
    }
  }
  char of[256][2] = {};
};
constexpr HexPairs kHexPairs;

}  // namespace

OrderId OrderId::New() {
  // absl::BitGen is seeded from the OS once per thread and is fast; ids only
  // need to be unique, not secret.
  thread_local absl::BitGen bits;
  uint64_t high = bits();  // 64 uniformly random bits each.
  uint64_t low = bits();
  high = (high & ~0xF000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  // Written by hand, two hex digits a byte from a table, because this runs
  // once per order. Where each byte's digits go in "8-4-4-4-12":
  static constexpr size_t kDigitsAt[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                           19, 21, 24, 26, 28, 30, 32, 34};
  OrderId id;
  id.chars_.fill('-');
  for (int i = 0; i < 8; ++i) {
    std::memcpy(&id.chars_[kDigitsAt[i]], kHexPairs.of[(high >> 56) & 0xFF], 2);
    std::memcpy(&id.chars_[kDigitsAt[i + 8]], kHexPairs.of[(low >> 56) & 0xFF],
                2);
    high <<= 8;
    low <<= 8;
  }
  return id;
}

std::string NewOrderId() { return std::string(OrderId::New().view()); }

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

namespace {

// to = from; a plain copy when the sizes match, not std::string's general
// replace (measured with the waiter's headers and key: 625 instructions an
// order before, 255 after).
void Overwrite(absl::string_view from, std::string& to) {
  if (to.size() != from.size()) {
    to.assign(from.data(), from.size());
  } else if (!from.empty()) {
    std::memcpy(&to[0], from.data(), from.size());
  }
}

// The key (the table as a decimal string) and headers of the order `order_id`
// at `table` traced by `traceparent`, into `record`, reusing its buffers.
void SetKeyAndHeaders(int32_t table, absl::string_view order_id,
                      absl::string_view traceparent, EncodedOrder& record) {
  record.key.clear();
  absl::StrAppend(&record.key, table);
  // With the same record each time, the headers' names and values have the
  // sizes they had (the ids are of fixed length): copied over in place.
  size_t count = 0;
  auto set = [&record, &count](absl::string_view name,
                               absl::string_view value) {
    if (record.headers.size() <= count) record.headers.emplace_back();
    kafka::Header& header = record.headers[count++];
    Overwrite(name, header.name);
    Overwrite(value, header.value);
  };
  if (!order_id.empty()) set(kOrderIdHeader, order_id);
  if (!traceparent.empty()) set(kTraceparentHeader, traceparent);
  set(kContentTypeHeader, kOrderContentType);
  record.headers.resize(count);
}

}  // namespace

EncodedOrder EncodeOrder(const kitchen::v1::Order& order) {
  EncodedOrder record;
  SetKeyAndHeaders(order.table(), order.order_id(), {}, record);
  order.SerializeToString(&record.value);
  return record;
}

namespace {

// Protocol buffers' wire format, as much of it as kitchen.v1.Order needs
// (https://protobuf.dev/programming-guides/encoding/). Each Put* writes at
// `out` and returns where it stopped; the caller has made room for the most it
// can write.

constexpr uint8_t kVarint = 0;
constexpr uint8_t kLengthDelimited = 2;
constexpr size_t kMostVarintBytes = 10;
// Seconds (tag, varint) and nanos (tag, below 10^9: a varint of 5 bytes).
constexpr size_t kMostTimestampBytes = 1 + kMostVarintBytes + 1 + 5;

char* PutTag(int field, uint8_t wire_type, char* out) {
  *out = static_cast<char>((field << 3) | wire_type);
  return out + 1;
}

char* PutVarint(uint64_t value, char* out) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

// proto3 leaves out a field that holds its default value (0, ""), and writes a
// negative int32 or int64 as its 64-bit two's complement.
char* PutIntField(int field, int64_t value, char* out) {
  if (value == 0) return out;
  return PutVarint(static_cast<uint64_t>(value), PutTag(field, kVarint, out));
}

char* PutBytesField(int field, absl::string_view bytes, char* out) {
  if (bytes.empty()) return out;
  out = PutVarint(bytes.size(), PutTag(field, kLengthDelimited, out));
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

// google.protobuf.Timestamp {int64 seconds = 1; int32 nanos = 2;}, as a set
// message field: written even when both are 0.
char* PutTimestampField(int field, absl::Time time, char* out) {
  timespec parts = absl::ToTimespec(time);
  out = PutTag(field, kLengthDelimited, out);
  // The message's length goes before it: one byte, as it is at most
  // kMostTimestampBytes.
  char* length = out++;
  out = PutIntField(1, parts.tv_sec, out);
  out = PutIntField(2, parts.tv_nsec, out);
  *length = static_cast<char>(out - length - 1);
  return out;
}

}  // namespace

void EncodeOrderInto(const OrderFields& order, EncodedOrder& record) {
  SetKeyAndHeaders(order.table, order.order_id, order.traceparent, record);
  // The fields of kitchen.v1.Order by number, as protobuf writes them, into
  // room for the most they can take; then cut to what they took.
  std::string& value = record.value;
  value.resize(3 * (1 + kMostVarintBytes) + order.pizza.size() +
               order.order_id.size() + 2 + kMostTimestampBytes);
  char* out = value.data();
  out = PutBytesField(1, order.pizza, out);
  out = PutIntField(2, order.table, out);
  out = PutBytesField(3, order.order_id, out);
  out = PutTimestampField(4, order.placed_at, out);
  value.resize(static_cast<size_t>(out - value.data()));
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
  if (absl::Status decoded = DecodeOrderInto(value, order); !decoded.ok()) {
    return decoded;
  }
  return order;
}

absl::Status DecodeOrderInto(absl::string_view value,
                             kitchen::v1::Order& order) {
  // ParseFromArray clears the order first; its strings keep their capacity.
  if (!order.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is not a kitchen.v1.Order (", value.size(),
                     " bytes of protobuf that do not parse)"));
  }
  return ValidateOrder(order);
}

absl::optional<absl::Time> PlacedAt(const kitchen::v1::Order& order) {
  if (!order.has_placed_at()) return absl::nullopt;
  return absl::FromUnixSeconds(order.placed_at().seconds()) +
         absl::Nanoseconds(order.placed_at().nanos());
}

}  // namespace kitchen::orders
