// File: board/kitchen_view.h
//
// What the board knows of the kitchen, built only from what is on Kafka: a card
// per order (placed → cooking → ready → recorded, or dead-lettered) with the
// time of each step, the consumer groups' committed offsets and lag, the
// services that announced themselves, and counts. Nothing here reads Kafka or
// serves HTTP (board/watcher.h feeds it, board/server.h shows it), so the
// board's logic is tested without either.
//
// An order is identified by where it was written, its partition and offset on
// pizza-order (a foreign producer's order may have no id); order events and
// dead letters name that position, so each finds its card whichever topic the
// board happens to read first.
//
// Every change gets a version, increasing, so that a page that lost its
// connection asks for what changed since the last version it saw and gets each
// card that changed once, in its latest state: nothing lost, nothing doubled.
// The view keeps at most `max_cards` cards (the least recently changed go
// first); a page further behind than that gets the whole view again.
//
// Not thread-safe: board/board.h guards it.
//
// Usage:
//   KitchenView view(/*max_cards=*/2000);
//   view.OnOrder(3, 12, order, record_time);
//   view.OnCommitted("manager", 3, 13, absl::Now());  // card 3/12: recorded
//   nlohmann::json changes = view.ChangesSince(version, absl::Now());

#ifndef KITCHEN_BOARD_KITCHEN_VIEW_H_
#define KITCHEN_BOARD_KITCHEN_VIEW_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "nlohmann/json.hpp"
#include "proto/order.pb.h"

namespace kitchen::board {

// The consumer groups whose progress the board shows.
inline constexpr char kCookGroup[] = "cook";
inline constexpr char kManagerGroup[] = "manager";

enum class Stage { kPlaced, kCooking, kReady, kRecorded, kDeadLettered };
absl::string_view StageName(Stage stage);

struct Card {
  int32_t partition = 0;
  int64_t offset = 0;
  bool seen_order = false;  // The order record itself has been read.
  std::string order_id;
  std::string pizza;
  int32_t table = 0;
  absl::optional<absl::Time> placed;
  absl::optional<absl::Time> cooking;
  absl::optional<absl::Time> ready;
  absl::optional<absl::Time> recorded;
  absl::optional<absl::Time> dead_lettered;
  std::string cook;    // Who cooked it (the last attempt).
  int attempts = 0;    // COOKING events seen: more than one is a recook.
  std::string reason;  // Why it was dead-lettered.
  int64_t version = 0;

  Stage stage() const;
};

// One partition of one group: what it committed and how far behind it is.
struct PartitionProgress {
  int64_t committed = -1;  // -1: nothing committed yet.
  int64_t lag_records = 0;
  double lag_seconds = 0;  // Since the oldest record it has not done.
};

class KitchenView {
 public:
  explicit KitchenView(size_t max_cards) : max_cards_(max_cards) {}

  // An order read from pizza-order at partition/offset (already valid).
  void OnOrder(int32_t partition, int64_t offset,
               const kitchen::v1::Order& order, absl::Time record_time);
  // A record of pizza-order at partition/offset that is not an order: it is
  // counted, and its card waits for its dead letter.
  void OnUnreadable(int32_t partition, int64_t offset, absl::Time record_time);
  // A dead letter naming pizza-order's partition/offset.
  void OnDeadLetter(int32_t partition, int64_t offset, absl::string_view reason,
                    absl::Time at);
  // An order event (order-status) about the order at partition/offset.
  void OnCooking(int32_t partition, int64_t offset, absl::string_view cook,
                 absl::Time at);
  void OnReady(int32_t partition, int64_t offset, absl::string_view cook,
               absl::Time at);

  // One past the last record pizza-order's partition holds.
  void OnEndOffset(int32_t partition, int64_t end_offset);
  // A group's committed offset for a partition, seen at `now`. The manager's
  // marks every order below it recorded (it commits only what its ledger
  // synced).
  void OnCommitted(absl::string_view group, int32_t partition,
                   int64_t committed, absl::Time now);

  // A service announced what it holds (board/presence.h): `partitions` empty
  // when it left.
  void OnMember(absl::string_view group, absl::string_view member,
                std::vector<int32_t> partitions, absl::Time at, bool leaving);

  int64_t version() const { return version_; }

  // {"version", "reset" (true when `since` is older than what is kept, and
  // "cards" then holds every card), "cards": [...changed after `since`]}.
  nlohmann::json ChangesSince(int64_t since) const;
  // Groups, members, counts and throughput at `now`.
  nlohmann::json Summary(absl::Time now) const;

  const Card* Find(int32_t partition, int64_t offset) const;
  size_t cards() const { return cards_.size(); }

 private:
  using Key = std::pair<int32_t, int64_t>;
  struct Member {
    std::vector<int32_t> partitions;
    absl::Time at;
  };

  Card& CardAt(int32_t partition, int64_t offset);
  void Touch(Card& card);
  void Evict();
  double LagSeconds(int32_t partition, int64_t committed, absl::Time now) const;

  const size_t max_cards_;
  int64_t version_ = 0;
  // The newest version evicted: a page that saw less must start again.
  int64_t evicted_version_ = 0;
  std::map<Key, Card> cards_;
  std::map<int64_t, Key> by_version_;
  absl::flat_hash_map<int32_t, int64_t> end_offsets_;
  std::map<std::string, std::map<int32_t, int64_t>> committed_;
  // Per partition: every order below it has been marked recorded.
  absl::flat_hash_map<int32_t, int64_t> recorded_below_;
  std::map<std::string, std::map<std::string, Member>> members_;
  // Counts of everything seen, not only the cards kept.
  int64_t placed_ = 0;
  int64_t unreadable_ = 0;
  int64_t ready_ = 0;
  int64_t recorded_ = 0;
  int64_t dead_lettered_ = 0;
  int64_t recooked_ = 0;
  // Times of recent placements and readies, for throughput (the last minute).
  std::deque<absl::Time> recent_placed_;
  std::deque<absl::Time> recent_ready_;
};

}  // namespace kitchen::board

#endif  // KITCHEN_BOARD_KITCHEN_VIEW_H_
