// File: board/kitchen_view.cc

#include "board/kitchen_view.h"

#include <algorithm>
#include <utility>

#include "orders/order_record.h"

namespace kitchen::board {
namespace {

// Throughput is measured over this window; older times are dropped.
constexpr absl::Duration kRateWindow = absl::Seconds(10);
// How long a member may be silent before it is no longer shown.
constexpr absl::Duration kMemberSilence = absl::Seconds(15);

// Milliseconds since the epoch; null: not yet; 0: before the board looked.
nlohmann::json Millis(const absl::optional<absl::Time>& when) {
  if (!when.has_value()) return nullptr;
  if (*when == absl::InfinitePast()) return 0;
  return absl::ToUnixMillis(*when);
}

void Prune(std::deque<absl::Time>& times, absl::Time now) {
  while (!times.empty() && times.front() < now - kRateWindow) {
    times.pop_front();
  }
}

double Rate(std::deque<absl::Time> times, absl::Time now) {
  Prune(times, now);
  return static_cast<double>(times.size()) / absl::ToDoubleSeconds(kRateWindow);
}

nlohmann::json CardJson(const Card& card) {
  return {
      {"partition", card.partition},
      {"offset", card.offset},
      {"order_id", card.order_id},
      {"pizza", card.pizza},
      {"table", card.table},
      {"stage", StageName(card.stage())},
      {"placed", Millis(card.placed)},
      {"cooking", Millis(card.cooking)},
      {"ready", Millis(card.ready)},
      {"recorded", Millis(card.recorded)},
      {"dead_lettered", Millis(card.dead_lettered)},
      {"cook", card.cook},
      {"attempts", card.attempts},
      {"reason", card.reason},
      {"version", card.version},
  };
}

}  // namespace

absl::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kPlaced:
      return "placed";
    case Stage::kCooking:
      return "cooking";
    case Stage::kReady:
      return "ready";
    case Stage::kRecorded:
      return "recorded";
    case Stage::kDeadLettered:
      return "dead-lettered";
  }
  return "placed";
}

Stage Card::stage() const {
  if (dead_lettered.has_value()) return Stage::kDeadLettered;
  // The manager does not wait for the cook: an order recorded but not cooked
  // (no cook running) is still waiting on the pass, and says so.
  if (ready.has_value()) {
    return recorded.has_value() ? Stage::kRecorded : Stage::kReady;
  }
  return cooking.has_value() ? Stage::kCooking : Stage::kPlaced;
}

Card& KitchenView::CardAt(int32_t partition, int64_t offset) {
  auto [it, inserted] = cards_.try_emplace({partition, offset});
  if (inserted) {
    it->second.partition = partition;
    it->second.offset = offset;
  }
  return it->second;
}

void KitchenView::Touch(Card& card) {
  if (card.version != 0) by_version_.erase(card.version);
  card.version = ++version_;
  by_version_[card.version] = {card.partition, card.offset};
  Evict();
}

void KitchenView::Evict() {
  while (cards_.size() > max_cards_ && !by_version_.empty()) {
    auto oldest = by_version_.begin();
    evicted_version_ = oldest->first;
    cards_.erase(oldest->second);
    by_version_.erase(oldest);
  }
}

void KitchenView::OnOrder(int32_t partition, int64_t offset,
                          const kitchen::v1::Order& order,
                          absl::Time record_time) {
  Card& card = CardAt(partition, offset);
  if (card.seen_order) return;  // Read again (the board started over).
  card.seen_order = true;
  card.order_id = order.order_id();
  card.pizza = order.pizza();
  card.table = order.table();
  card.placed = orders::PlacedAt(order).value_or(record_time);
  ++placed_;
  auto recorded = recorded_below_.find(partition);
  if (recorded != recorded_below_.end() && offset < recorded->second) {
    // Read after the manager's offset passed it: recorded before the board
    // looked, at a time the board cannot know.
    card.recorded = absl::InfinitePast();
    ++recorded_;
  }
  recent_placed_.push_back(*card.placed);
  Prune(recent_placed_, *card.placed);
  Touch(card);
}

void KitchenView::OnUnreadable(int32_t partition, int64_t offset,
                               absl::Time record_time) {
  Card& card = CardAt(partition, offset);
  if (card.seen_order) return;
  card.seen_order = true;
  card.placed = record_time;
  ++unreadable_;
  Touch(card);
}

void KitchenView::OnDeadLetter(int32_t partition, int64_t offset,
                               absl::string_view reason, absl::Time at) {
  Card& card = CardAt(partition, offset);
  if (card.dead_lettered.has_value()) return;  // A second copy.
  card.dead_lettered = at;
  card.reason = std::string(reason);
  ++dead_lettered_;
  Touch(card);
}

void KitchenView::OnCooking(int32_t partition, int64_t offset,
                            absl::string_view cook, absl::Time at) {
  Card& card = CardAt(partition, offset);
  ++card.attempts;
  if (card.attempts > 1) ++recooked_;
  // Events of one order may come in any offset order (COOKING is not in the
  // transaction that holds READY): the first attempt's time is kept.
  if (!card.cooking.has_value() || at < *card.cooking) card.cooking = at;
  if (!card.ready.has_value()) card.cook = std::string(cook);
  Touch(card);
}

void KitchenView::OnReady(int32_t partition, int64_t offset,
                          absl::string_view cook, absl::Time at) {
  Card& card = CardAt(partition, offset);
  if (card.ready.has_value()) return;  // At-least-once on the dev broker.
  card.ready = at;
  card.cook = std::string(cook);
  ++ready_;
  recent_ready_.push_back(at);
  Prune(recent_ready_, at);
  Touch(card);
}

void KitchenView::OnEndOffset(int32_t partition, int64_t end_offset) {
  end_offsets_[partition] = end_offset;
}

void KitchenView::OnCommitted(absl::string_view group, int32_t partition,
                              int64_t committed, absl::Time now) {
  committed_[std::string(group)][partition] = committed;
  if (group != kManagerGroup) return;
  int64_t& below = recorded_below_[partition];
  if (committed <= below) return;
  for (auto it = cards_.lower_bound({partition, below});
       it != cards_.end() && it->first.first == partition &&
       it->first.second < committed;
       ++it) {
    Card& card = it->second;
    if (card.recorded.has_value() || card.dead_lettered.has_value()) continue;
    if (!card.seen_order) continue;  // Not read yet: marked when it is.
    card.recorded = now;
    ++recorded_;
    Touch(card);
  }
  below = committed;
}

void KitchenView::OnMember(absl::string_view group, absl::string_view member,
                           std::vector<int32_t> partitions, absl::Time at,
                           bool leaving) {
  auto& group_members = members_[std::string(group)];
  if (leaving) {
    group_members.erase(std::string(member));
    return;
  }
  std::sort(partitions.begin(), partitions.end());
  group_members[std::string(member)] = {std::move(partitions), at};
}

const Card* KitchenView::Find(int32_t partition, int64_t offset) const {
  auto it = cards_.find({partition, offset});
  return it == cards_.end() ? nullptr : &it->second;
}

nlohmann::json KitchenView::ChangesSince(int64_t since) const {
  // A page that saw more than there is knew a board that has since restarted.
  const bool reset = since < evicted_version_ || since > version_;
  nlohmann::json cards = nlohmann::json::array();
  for (auto it = by_version_.upper_bound(reset ? 0 : since);
       it != by_version_.end(); ++it) {
    cards.push_back(CardJson(cards_.at(it->second)));
  }
  return {{"version", version_}, {"reset", reset}, {"cards", std::move(cards)}};
}

double KitchenView::LagSeconds(int32_t partition, int64_t committed,
                               absl::Time now) const {
  // The oldest record the group has not done is the one at its committed
  // offset (or the partition's first, with nothing committed).
  auto it = cards_.lower_bound({partition, std::max<int64_t>(committed, 0)});
  if (it == cards_.end() || it->first.first != partition ||
      !it->second.placed.has_value()) {
    return 0;
  }
  return std::max(0.0, absl::ToDoubleSeconds(now - *it->second.placed));
}

nlohmann::json KitchenView::Summary(absl::Time now) const {
  nlohmann::json groups = nlohmann::json::object();
  for (const char* group : {kCookGroup, kManagerGroup}) {
    nlohmann::json partitions = nlohmann::json::array();
    auto committed_of_group = committed_.find(group);
    int64_t total_lag = 0;
    for (const auto& [partition, end] :
         std::map<int32_t, int64_t>(end_offsets_.begin(), end_offsets_.end())) {
      int64_t committed = -1;
      if (committed_of_group != committed_.end()) {
        auto found = committed_of_group->second.find(partition);
        if (found != committed_of_group->second.end()) {
          committed = found->second;
        }
      }
      const int64_t lag =
          std::max<int64_t>(0, end - std::max<int64_t>(committed, 0));
      total_lag += lag;
      partitions.push_back(
          {{"partition", partition},
           {"committed", committed},
           {"end", end},
           {"lag", lag},
           {"lag_seconds",
            lag == 0 ? 0.0 : LagSeconds(partition, committed, now)}});
    }
    nlohmann::json members = nlohmann::json::array();
    auto group_members = members_.find(group);
    if (group_members != members_.end()) {
      for (const auto& [name, member] : group_members->second) {
        // A member announces itself every 5 s: one silent for longer was
        // killed (or cut off), and its partitions are about to move.
        if (now - member.at > kMemberSilence) continue;
        members.push_back({{"member", name},
                           {"partitions", member.partitions},
                           {"since", absl::ToUnixMillis(member.at)}});
      }
    }
    groups[group] = {{"partitions", std::move(partitions)},
                     {"lag", total_lag},
                     {"members", std::move(members)}};
  }
  return {
      {"groups", std::move(groups)},
      {"counts",
       {{"placed", placed_},
        {"not_orders", unreadable_},
        {"ready", ready_},
        {"recorded", recorded_},
        {"dead_lettered", dead_lettered_},
        {"recooked", recooked_}}},
      {"per_second",
       {{"placed", Rate(recent_placed_, now)},
        {"ready", Rate(recent_ready_, now)}}},
      {"cards_kept", cards_.size()},
      {"now", absl::ToUnixMillis(now)},
  };
}

}  // namespace kitchen::board
