// File: waiter/order_form_test.cc

#include "waiter/order_form.h"

#include "gtest/gtest.h"

namespace kitchen::waiter {
namespace {

const TableRange kRange{1, 100};

TEST(CheckOrderTest, AcceptsAnOrderOnTheMenu) {
  absl::StatusOr<OrderRequest> order =
      CheckOrder(" Margherita ", "17", Menu::Default(), kRange);
  ASSERT_TRUE(order.ok()) << order.status();
  EXPECT_EQ(order->pizza, "margherita");
  EXPECT_EQ(order->table, 17);
}

TEST(CheckOrderTest, NamesEachKindOfBadTable) {
  const Menu menu = Menu::Default();
  EXPECT_EQ(CheckOrder("diavola", "", menu, kRange).status().message(),
            "missing table");
  EXPECT_EQ(CheckOrder("diavola", "seven", menu, kRange).status().message(),
            "table \"seven\" is not a number");
  EXPECT_EQ(CheckOrder("diavola", "0", menu, kRange).status().message(),
            "table 0 is out of range 1-100");
  EXPECT_EQ(CheckOrder("diavola", "-4", menu, kRange).status().message(),
            "table -4 is out of range 1-100");
  EXPECT_EQ(CheckOrder("diavola", "101", menu, kRange).status().message(),
            "table 101 is out of range 1-100");
  EXPECT_EQ(
      CheckOrder("diavola", "99999999999", menu, kRange).status().message(),
      "table 99999999999 is out of range 1-100");
  EXPECT_EQ(CheckOrder("diavola", "3.5", menu, kRange).status().message(),
            "table \"3.5\" is not a number");
}

TEST(CheckOrderTest, NamesAMissingOrUnknownPizza) {
  EXPECT_EQ(CheckOrder("", "3", Menu::Default(), kRange).status().message(),
            "missing pizza (see --menu)");
  EXPECT_EQ(
      CheckOrder("diavolo", "3", Menu::Default(), kRange).status().message(),
      "\"diavolo\" is not on the menu; did you mean diavola?");
}

TEST(ParseOrderLineTest, TakesTheLastWordAsTheTable) {
  auto order = ParseOrderLine("  quattro formaggi   4  # window",
                              Menu::Default(), kRange);
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_TRUE(order->has_value());
  EXPECT_EQ((*order)->pizza, "quattro formaggi");
  EXPECT_EQ((*order)->table, 4);
}

TEST(ParseOrderLineTest, SkipsBlankAndCommentLines) {
  EXPECT_FALSE(ParseOrderLine("", Menu::Default(), kRange)->has_value());
  EXPECT_FALSE(ParseOrderLine("   \t", Menu::Default(), kRange)->has_value());
  EXPECT_FALSE(
      ParseOrderLine("# lunch rush", Menu::Default(), kRange)->has_value());
}

TEST(ParseOrderLineTest, NamesWhatIsMissing) {
  EXPECT_EQ(
      ParseOrderLine("margherita", Menu::Default(), kRange).status().message(),
      "missing table (expected: PIZZA TABLE)");
  EXPECT_EQ(ParseOrderLine("12", Menu::Default(), kRange).status().message(),
            "missing pizza (expected: PIZZA TABLE)");
}

}  // namespace
}  // namespace kitchen::waiter
