// File: waiter/menu_test.cc

#include "waiter/menu.h"

#include "gtest/gtest.h"

namespace kitchen::waiter {
namespace {

TEST(MenuTest, FindsRegardlessOfCaseAndSpaces) {
  EXPECT_EQ(Menu::Default().Find("  Margherita ").value(), "margherita");
  EXPECT_EQ(Menu::Default().Find("quattro \t  Formaggi").value(),
            "quattro formaggi");
  EXPECT_EQ(Menu::Default().Find("QUATTRO FORMAGGI").value(),
            "quattro formaggi");
}

TEST(MenuTest, SuggestsTheClosestPizzaForATypo) {
  absl::Status status = Menu::Default().Find("margarita").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "\"margarita\" is not on the menu; did you mean margherita?");
}

TEST(MenuTest, DoesNotSuggestSomethingUnrelated) {
  EXPECT_EQ(Menu::Default().Find("sushi").status().message(),
            "\"sushi\" is not on the menu (waiter --menu lists it)");
}

TEST(MenuTest, ParsesAFileAndRejectsDuplicatesAndEmptyMenus) {
  absl::StatusOr<Menu> menu =
      Menu::Parse("# house menu\nMarinara\n\nbianca\n", "m.txt");
  ASSERT_TRUE(menu.ok()) << menu.status();
  EXPECT_EQ(menu->pizzas(), (std::vector<std::string>{"marinara", "bianca"}));
  EXPECT_EQ(Menu::Parse("bianca\nBianca\n", "m.txt").status().message(),
            "m.txt:2: bianca is on the menu twice");
  EXPECT_EQ(Menu::Parse("# nothing\n", "m.txt").status().message(),
            "m.txt: the menu is empty");
}

TEST(MenuTest, QuotesWhatWasTypedEscapedAndCut) {
  EXPECT_EQ(Menu::Default().Find("pizza\x01\xff").status().message(),
            "\"pizza\\x01\\xff\" is not on the menu (waiter --menu lists it)");
  EXPECT_EQ(Menu::Default().Find(std::string(100, 'z')).status().message(),
            "\"" + std::string(40, 'z') +
                "...\" is not on the menu (waiter --menu lists it)");
}

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("diavola", "diavola"), 0);
}

}  // namespace
}  // namespace kitchen::waiter
