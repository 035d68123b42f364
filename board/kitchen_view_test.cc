// File: board/kitchen_view_test.cc

#include "board/kitchen_view.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "orders/order_record.h"

namespace kitchen::board {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

kitchen::v1::Order Margherita(int32_t table) {
  return orders::NewOrder("margherita", table, kStart);
}

TEST(KitchenViewTest, CardMovesThroughTheStages) {
  KitchenView view(100);
  view.OnOrder(3, 12, Margherita(17), kStart);
  ASSERT_NE(view.Find(3, 12), nullptr);
  EXPECT_EQ(view.Find(3, 12)->stage(), Stage::kPlaced);
  view.OnCooking(3, 12, "cook-1", kStart + absl::Seconds(1));
  EXPECT_EQ(view.Find(3, 12)->stage(), Stage::kCooking);
  view.OnReady(3, 12, "cook-1", kStart + absl::Seconds(3));
  EXPECT_EQ(view.Find(3, 12)->stage(), Stage::kReady);
  view.OnCommitted(kManagerGroup, 3, 13, kStart + absl::Seconds(4));
  const Card& card = *view.Find(3, 12);
  EXPECT_EQ(card.stage(), Stage::kRecorded);
  EXPECT_EQ(card.cook, "cook-1");
  EXPECT_EQ(*card.recorded, kStart + absl::Seconds(4));
  EXPECT_EQ(card.table, 17);
  EXPECT_EQ(card.pizza, "margherita");
}

TEST(KitchenViewTest, RecordedButNotCookedStaysOnThePass) {
  // The manager does not wait for the cook: with no cook running, orders are
  // recorded and still placed.
  KitchenView view(100);
  view.OnOrder(0, 0, Margherita(1), kStart);
  view.OnCommitted(kManagerGroup, 0, 1, kStart);
  EXPECT_TRUE(view.Find(0, 0)->recorded.has_value());
  EXPECT_EQ(view.Find(0, 0)->stage(), Stage::kPlaced);
}

TEST(KitchenViewTest, EventsBeforeTheOrderFindTheirCard) {
  KitchenView view(100);
  view.OnReady(2, 5, "cook-2", kStart + absl::Seconds(2));
  view.OnCooking(2, 5, "cook-2", kStart + absl::Seconds(1));
  view.OnOrder(2, 5, Margherita(4), kStart);
  const Card& card = *view.Find(2, 5);
  EXPECT_EQ(card.stage(), Stage::kReady);
  EXPECT_EQ(card.table, 4);
  EXPECT_EQ(*card.cooking, kStart + absl::Seconds(1));
}

TEST(KitchenViewTest, SecondAttemptCountsAsRecookedAndReadyOnce) {
  KitchenView view(100);
  view.OnOrder(1, 0, Margherita(2), kStart);
  view.OnCooking(1, 0, "cook-1", kStart + absl::Seconds(1));
  view.OnCooking(1, 0, "cook-2", kStart + absl::Seconds(5));
  view.OnReady(1, 0, "cook-2", kStart + absl::Seconds(6));
  view.OnReady(1, 0, "cook-2", kStart + absl::Seconds(7));
  EXPECT_EQ(view.Find(1, 0)->attempts, 2);
  EXPECT_EQ(*view.Find(1, 0)->ready, kStart + absl::Seconds(6));
  nlohmann::json summary = view.Summary(kStart + absl::Seconds(8));
  EXPECT_EQ(summary["counts"]["recooked"], 1);
  EXPECT_EQ(summary["counts"]["ready"], 1);
}

TEST(KitchenViewTest, DeadLetterWins) {
  KitchenView view(100);
  view.OnUnreadable(0, 7, kStart);
  view.OnDeadLetter(0, 7, "not an order", kStart + absl::Seconds(1));
  view.OnDeadLetter(0, 7, "not an order", kStart + absl::Seconds(2));
  view.OnCommitted(kManagerGroup, 0, 8, kStart + absl::Seconds(3));
  const Card& card = *view.Find(0, 7);
  EXPECT_EQ(card.stage(), Stage::kDeadLettered);
  EXPECT_FALSE(card.recorded.has_value());
  EXPECT_EQ(view.Summary(kStart)["counts"]["dead_lettered"], 1);
}

TEST(KitchenViewTest, OrderReadAfterTheManagerPassedItIsRecordedEarlier) {
  KitchenView view(100);
  view.OnCommitted(kManagerGroup, 0, 10, kStart);
  view.OnOrder(0, 4, Margherita(1), kStart);
  EXPECT_EQ(view.Find(0, 4)->stage(), Stage::kPlaced);
  EXPECT_EQ(*view.Find(0, 4)->recorded, absl::InfinitePast());
  EXPECT_EQ(view.ChangesSince(0)["cards"][0]["recorded"], 0);
  EXPECT_EQ(view.Summary(kStart)["counts"]["recorded"], 1);
}

TEST(KitchenViewTest, ChangesSinceGivesEachChangedCardOnceInItsLatestState) {
  KitchenView view(100);
  view.OnOrder(0, 0, Margherita(1), kStart);
  view.OnOrder(0, 1, Margherita(1), kStart);
  const int64_t seen = view.version();
  view.OnCooking(0, 0, "cook-1", kStart);
  view.OnReady(0, 0, "cook-1", kStart);
  view.OnOrder(0, 2, Margherita(1), kStart);
  nlohmann::json changes = view.ChangesSince(seen);
  EXPECT_FALSE(changes["reset"]);
  ASSERT_EQ(changes["cards"].size(), 2u);
  EXPECT_EQ(changes["cards"][0]["offset"], 0);
  EXPECT_EQ(changes["cards"][0]["stage"], "ready");
  EXPECT_EQ(changes["cards"][1]["offset"], 2);
  EXPECT_EQ(view.ChangesSince(view.version())["cards"].size(), 0u);
}

TEST(KitchenViewTest, KeepsAtMostMaxCardsAndResetsPagesTooFarBehind) {
  KitchenView view(3);
  for (int offset = 0; offset < 5; ++offset) {
    view.OnOrder(0, offset, Margherita(1), kStart);
  }
  EXPECT_EQ(view.cards(), 3u);
  EXPECT_EQ(view.Find(0, 0), nullptr);
  nlohmann::json changes = view.ChangesSince(1);
  EXPECT_TRUE(changes["reset"]);
  EXPECT_EQ(changes["cards"].size(), 3u);
  // Counts are of everything seen, not only what is kept.
  EXPECT_EQ(view.Summary(kStart)["counts"]["placed"], 5);
  // A page that knew a later version knew a board since restarted.
  EXPECT_TRUE(view.ChangesSince(view.version() + 1)["reset"]);
}

TEST(KitchenViewTest, LagInRecordsAndSecondsPerGroup) {
  KitchenView view(100);
  for (int offset = 0; offset < 4; ++offset) {
    const absl::Time placed = kStart + absl::Seconds(offset);
    view.OnOrder(5, offset, orders::NewOrder("margherita", 1, placed), placed);
  }
  view.OnEndOffset(5, 4);
  view.OnCommitted(kCookGroup, 5, 1, kStart);
  nlohmann::json summary = view.Summary(kStart + absl::Seconds(11));
  const nlohmann::json& cook = summary["groups"]["cook"];
  EXPECT_EQ(cook["lag"], 3);
  EXPECT_EQ(cook["partitions"][0]["lag"], 3);
  // The oldest order not cooked, at offset 1, was placed 10 s before.
  EXPECT_DOUBLE_EQ(cook["partitions"][0]["lag_seconds"], 10.0);
  // Nothing committed by the manager: all 4 behind.
  EXPECT_EQ(summary["groups"]["manager"]["lag"], 4);
  EXPECT_EQ(summary["groups"]["manager"]["partitions"][0]["committed"], -1);
}

TEST(KitchenViewTest, MembersComeAndGo) {
  KitchenView view(100);
  view.OnMember(kCookGroup, "cook-1", {5, 1, 3}, kStart, false);
  view.OnMember(kCookGroup, "cook-2", {0, 2, 4}, kStart, false);
  nlohmann::json members = view.Summary(kStart)["groups"]["cook"]["members"];
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0]["partitions"], nlohmann::json({1, 3, 5}));
  view.OnMember(kCookGroup, "cook-1", {}, kStart, true);
  EXPECT_EQ(view.Summary(kStart)["groups"]["cook"]["members"].size(), 1u);
}

TEST(KitchenViewTest, ThroughputOverTheLastTenSeconds) {
  KitchenView view(1000);
  for (int i = 0; i < 50; ++i) {
    const absl::Time placed = kStart + absl::Milliseconds(100 * i);
    view.OnOrder(0, i, orders::NewOrder("margherita", 1, placed), placed);
  }
  nlohmann::json summary = view.Summary(kStart + absl::Seconds(5));
  EXPECT_DOUBLE_EQ(summary["per_second"]["placed"], 5.0);
  EXPECT_DOUBLE_EQ(
      view.Summary(kStart + absl::Seconds(30))["per_second"]["placed"], 0.0);
}

}  // namespace
}  // namespace kitchen::board
