// File: orders/order_record_test.cc

#include "orders/order_record.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kitchen::orders {
namespace {

TEST(NewOrderIdTest, IsAVersion4UuidAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewOrderId();
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t i = 0; i < id.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        EXPECT_EQ(id[i], '-') << id;
      } else {
        EXPECT_TRUE(absl::ascii_isxdigit(id[i]) && !absl::ascii_isupper(id[i]))
            << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' ||
                id[19] == 'b')
        << id;
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
  }
}

TEST(EncodeOrderTest, KeyIsTableAndHeadersNameIdAndType) {
  kitchen::v1::Order order =
      NewOrder("margherita", 17, absl::FromUnixSeconds(1700000000));
  EncodedOrder record = EncodeOrder(order);
  EXPECT_EQ(record.key, "17");
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_EQ(record.headers[0].name, "order-id");
  EXPECT_EQ(record.headers[0].value, order.order_id());
  EXPECT_EQ(record.headers[1].name, "content-type");
  EXPECT_EQ(record.headers[1].value,
            "application/x-protobuf; messageType=kitchen.v1.Order");
}

TEST(DecodeOrderTest, RoundTripsEveryField) {
  absl::Time placed = absl::FromUnixMicros(1700000000123456);
  kitchen::v1::Order order = NewOrder("quattro formaggi", 3, placed);
  absl::StatusOr<kitchen::v1::Order> decoded =
      DecodeOrder(EncodeOrder(order).value);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->pizza(), "quattro formaggi");
  EXPECT_EQ(decoded->table(), 3);
  EXPECT_EQ(decoded->order_id(), order.order_id());
  EXPECT_EQ(PlacedAt(*decoded), placed);
}

// EncodeOrderInto writes kitchen.v1.Order's wire format by hand. If a field is
// added to proto/order.proto, this test fails: teach EncodeOrderInto the new
// field, then update the list here.
TEST(EncodeOrderIntoTest, KnowsEveryFieldOfTheOrderMessage) {
  const google::protobuf::Descriptor* order = kitchen::v1::Order::descriptor();
  ASSERT_EQ(order->field_count(), 4)
      << "kitchen.v1.Order changed: update EncodeOrderInto";
  using Field = google::protobuf::FieldDescriptor;
  EXPECT_EQ(order->FindFieldByNumber(1)->type(), Field::TYPE_STRING);
  EXPECT_EQ(order->FindFieldByNumber(2)->type(), Field::TYPE_INT32);
  EXPECT_EQ(order->FindFieldByNumber(3)->type(), Field::TYPE_STRING);
  EXPECT_EQ(order->FindFieldByNumber(4)->message_type()->full_name(),
            "google.protobuf.Timestamp");
}

TEST(EncodeOrderIntoTest, WritesWhatProtobufWritesByteForByte) {
  const std::string long_pizza(300, 'p');  // A two-byte length.
  const std::vector<std::string> pizzas = {"margherita", "x", long_pizza,
                                           "quattro stagioni \xe2\x81\x82", ""};
  const std::vector<int32_t> tables = {
      1, 17, 127, 128, 16384, 2147483647, 0, -1, -2147483647 - 1};
  const std::vector<absl::Time> times = {
      absl::FromUnixNanos(1700000000123456789),
      absl::FromUnixSeconds(1),
      absl::FromUnixNanos(1),
      absl::UnixEpoch(),
      absl::FromUnixNanos(-1500000001),  // Before 1970: negative seconds.
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone())};
  const std::vector<std::string> ids = {NewOrderId(), ""};
  EncodedOrder reused;  // Every case through the same record, as a sender.
  for (const std::string& pizza : pizzas) {
    for (int32_t table : tables) {
      for (absl::Time placed_at : times) {
        for (const std::string& id : ids) {
          kitchen::v1::Order order = NewOrder(pizza, table, placed_at);
          order.set_order_id(id);
          EncodedOrder expected = EncodeOrder(order);
          EncodeOrderInto({id, pizza, table, placed_at}, reused);
          SCOPED_TRACE(order.ShortDebugString());
          ASSERT_EQ(reused.value, expected.value);
          ASSERT_EQ(reused.key, expected.key);
          ASSERT_EQ(reused.headers.size(), expected.headers.size());
          for (size_t i = 0; i < expected.headers.size(); ++i) {
            EXPECT_EQ(reused.headers[i].name, expected.headers[i].name);
            EXPECT_EQ(reused.headers[i].value, expected.headers[i].value);
          }
        }
      }
    }
  }
}

TEST(EncodeOrderIntoTest, CarriesTheTraceparentBetweenIdAndContentType) {
  const std::string traceparent = TraceContext::New().header();
  EncodedOrder record;
  // Traced, untraced, traced again, without an id: the reused record follows.
  for (int round = 0; round < 2; ++round) {
    EncodeOrderInto({"id-1", "margherita", 3, absl::Now(), traceparent},
                    record);
    ASSERT_EQ(record.headers.size(), 3u);
    EXPECT_EQ(record.headers[0].name, "order-id");
    EXPECT_EQ(record.headers[0].value, "id-1");
    EXPECT_EQ(record.headers[1].name, "traceparent");
    EXPECT_EQ(record.headers[1].value, traceparent);
    EXPECT_EQ(record.headers[2].name, "content-type");
    EncodeOrderInto({"id-2", "margherita", 3, absl::Now()}, record);
    ASSERT_EQ(record.headers.size(), 2u);
    EXPECT_EQ(record.headers[0].value, "id-2");
    EXPECT_EQ(record.headers[1].name, "content-type");
    EXPECT_EQ(record.headers[1].value, kOrderContentType);
    EncodeOrderInto({"", "margherita", 3, absl::Now(), traceparent}, record);
    ASSERT_EQ(record.headers.size(), 2u);
    EXPECT_EQ(record.headers[0].name, "traceparent");
    EXPECT_EQ(record.headers[1].name, "content-type");
    EXPECT_EQ(record.headers[1].value, kOrderContentType);
  }
}

TEST(DecodeOrderTest, PlainPizzaAndTableFromAnOlderProducerIsValid) {
  // Bytes of `pizza: "margherita" table: 17`, as protoc --encode gives them.
  const std::string bytes("\x0a\x0amargherita\x10\x11", 14);
  absl::StatusOr<kitchen::v1::Order> decoded = DecodeOrder(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->pizza(), "margherita");
  EXPECT_EQ(decoded->table(), 17);
  EXPECT_TRUE(decoded->order_id().empty());
  EXPECT_FALSE(PlacedAt(*decoded).has_value());
  EXPECT_EQ(EncodeOrder(*decoded).headers.size(), 1u);  // No order-id header.
}

TEST(DecodeOrderTest, AReusedOrderKeepsNothingOfThePreviousOne) {
  kitchen::v1::Order order;
  ASSERT_TRUE(
      DecodeOrderInto(
          EncodeOrder(NewOrder("quattro formaggi", 3, absl::Now())).value,
          order)
          .ok());
  const std::string plain("\x0a\x0amargherita\x10\x11", 14);
  ASSERT_TRUE(DecodeOrderInto(plain, order).ok());
  EXPECT_EQ(order.pizza(), "margherita");
  EXPECT_EQ(order.table(), 17);
  EXPECT_TRUE(order.order_id().empty());
  EXPECT_FALSE(PlacedAt(order).has_value());
  EXPECT_FALSE(DecodeOrderInto("\xff\xff", order).ok());
}

TEST(DecodeOrderTest, RejectsBytesThatAreNotAnOrder) {
  absl::StatusOr<kitchen::v1::Order> decoded =
      DecodeOrder("\xff\xff\xff not protobuf");
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("not a kitchen.v1.Order"),
            std::string::npos);
}

TEST(DecodeOrderTest, RejectsMissingPizzaAndBadTables) {
  kitchen::v1::Order order;
  order.set_table(4);
  EXPECT_EQ(DecodeOrder(order.SerializeAsString()).status().message(),
            "order has no pizza");
  order.set_pizza("marinara");
  order.set_table(0);
  EXPECT_EQ(DecodeOrder(order.SerializeAsString()).status().message(),
            "order has table 0, not a positive number");
  order.set_table(-3);
  EXPECT_FALSE(DecodeOrder(order.SerializeAsString()).ok());
}

}  // namespace
}  // namespace kitchen::orders
