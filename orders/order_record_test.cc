// File: orders/order_record_test.cc

#include "orders/order_record.h"

#include <set>

#include "gtest/gtest.h"

namespace kitchen::orders {
namespace {

TEST(NewOrderIdTest, IsAVersion4UuidAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewOrderId();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id[8], '-');
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
