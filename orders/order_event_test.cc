// File: orders/order_event_test.cc

#include "orders/order_event.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "orders/order_record.h"

namespace kitchen::orders {
namespace {

using kitchen::v1::OrderEvent;

TEST(OrderEventTest, ARecordRoundTripsWithKeyAndHeaders) {
  const absl::Time placed = absl::FromUnixMillis(1700000000123);
  kitchen::v1::Order order = NewOrder("margherita", 17, placed);
  const absl::Time at = placed + absl::Milliseconds(2100);
  OrderEvent ready = NewEvent(order, 3, 12, OrderEvent::READY, "cook-1", at);

  EncodedEvent record = EncodeEvent(ready);
  EXPECT_EQ(record.key, "17");
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_EQ(record.headers[0].name, kOrderIdHeader);
  EXPECT_EQ(record.headers[0].value, order.order_id());
  EXPECT_EQ(record.headers[1].value, kEventContentType);

  absl::StatusOr<OrderEvent> back = DecodeEvent(record.value);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->order_id(), order.order_id());
  EXPECT_EQ(back->table(), 17);
  EXPECT_EQ(back->pizza(), "margherita");
  EXPECT_EQ(back->state(), OrderEvent::READY);
  EXPECT_EQ(back->cook(), "cook-1");
  EXPECT_EQ(back->order_partition(), 3);
  EXPECT_EQ(back->order_offset(), 12);
  EXPECT_EQ(EventTime(*back), at);
  EXPECT_EQ(EventPlacedAt(*back), placed);
}

TEST(OrderEventTest, TheWireNumbersAreTheContract) {
  // Other teams decode these bytes: field and state numbers never change.
  OrderEvent event;
  event.set_state(OrderEvent::READY);
  event.set_table(1);
  std::string bytes;
  event.SerializeToString(&bytes);
  // Field 2 (table) varint 1, field 4 (state) varint 2.
  EXPECT_EQ(bytes, std::string("\x10\x01\x20\x02", 4));
  EXPECT_EQ(OrderEvent::COOKING, 1);
  EXPECT_EQ(OrderEvent::ABANDONED, 3);
  EXPECT_EQ(StateName(OrderEvent::COOKING), "COOKING");
}

TEST(OrderEventTest, AForeignOrderWithoutIdOrTimeHasNeither) {
  kitchen::v1::Order order;
  order.set_pizza("funghi");
  order.set_table(4);
  EncodedEvent record = EncodeEvent(
      NewEvent(order, 0, 0, OrderEvent::COOKING, "cook-2", absl::Now()));
  ASSERT_EQ(record.headers.size(), 1u);  // content-type only
  absl::StatusOr<OrderEvent> back = DecodeEvent(record.value);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->order_id().empty());
  EXPECT_FALSE(EventPlacedAt(*back).has_value());
}

TEST(OrderEventTest, WhatIsNotAnEventIsRefusedSayingWhy) {
  EXPECT_NE(DecodeEvent("\xff\xff garbage")
                .status()
                .message()
                .find("not a kitchen.v1.OrderEvent"),
            std::string::npos);
  OrderEvent no_state;
  no_state.set_table(3);
  EXPECT_NE(DecodeEvent(no_state.SerializeAsString())
                .status()
                .message()
                .find("no state"),
            std::string::npos);
  OrderEvent no_table;
  no_table.set_state(OrderEvent::READY);
  EXPECT_NE(DecodeEvent(no_table.SerializeAsString())
                .status()
                .message()
                .find("table 0"),
            std::string::npos);
  OrderEvent no_position;
  no_position.set_state(OrderEvent::READY);
  no_position.set_table(3);
  no_position.set_order_offset(-1);
  EXPECT_NE(DecodeEvent(no_position.SerializeAsString())
                .status()
                .message()
                .find("no position"),
            std::string::npos);
}

}  // namespace
}  // namespace kitchen::orders
