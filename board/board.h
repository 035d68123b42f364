// File: board/board.h
//
// The board's state shared between its threads: the KitchenView (updated by
// the watcher, read by every page), a way for a page to wait for the next
// change, and the order desk that places orders exactly as the waiter does
// (its menu, its checks, its record and headers, its idempotent producer),
// waiting for the broker's acknowledgement before saying placed.
//
// Usage:
//   Board board(BoardOptions{});
//   board.Update([&](KitchenView& view) { view.OnOrder(...); });
//   nlohmann::json changes = board.WaitForChanges(seen, absl::Seconds(15));
//   absl::StatusOr<nlohmann::json> placed = board.Place("margherita", "17");

#ifndef KITCHEN_BOARD_BOARD_H_
#define KITCHEN_BOARD_BOARD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "board/kitchen_view.h"
#include "kafka/config.h"
#include "nlohmann/json.hpp"
#include "waiter/menu.h"
#include "waiter/order_form.h"
#include "waiter/order_sender.h"

namespace kitchen::board {

struct BoardOptions {
  size_t max_cards = 2000;
  int max_burst = 1000;  // Orders one burst may place.
  waiter::TableRange tables;
  absl::Duration delivery_timeout = absl::Seconds(10);
  // The groups shown as the view's "cook" and "manager".
  std::string cook_group = kCookGroup;
  std::string manager_group = kManagerGroup;
};

class Board {
 public:
  // Without an order desk: Place() is then Unavailable (tests of the view's
  // serving only).
  explicit Board(BoardOptions options)
      : options_(std::move(options)),
        menu_(waiter::Menu::Default()),
        view_(options_.max_cards) {}

  // Opens the order desk: a producer to `topic` with the waiter's settings.
  absl::Status OpenOrderDesk(const kafka::ClientConfig& config,
                             std::string topic);

  template <typename Change>
  void Update(Change change) {
    absl::MutexLock lock(&mu_);
    change(view_);
  }

  // The changes after version `since` (KitchenView::ChangesSince), once there
  // are any, or after `timeout`, or once Stop() was called.
  nlohmann::json WaitForChanges(int64_t since, absl::Duration timeout);
  nlohmann::json Summary(absl::Time now);

  // Wakes every waiting page, for good: the board is stopping.
  void Stop();
  bool stopping();

  // Checks and places one order (pizza and table as typed), waiting for the
  // broker: {"partition", "offset", "order_id", "pizza", "table"}. A bad order
  // is InvalidArgument/NotFound with the waiter's message.
  absl::StatusOr<nlohmann::json> Place(absl::string_view pizza,
                                       absl::string_view table);
  // Places `count` orders (at most max_burst) of the menu's pizzas on tables
  // in turn: {"placed", "failed"}.
  absl::StatusOr<nlohmann::json> PlaceBurst(int64_t count);

  const waiter::Menu& menu() const { return menu_; }
  const BoardOptions& options() const { return options_; }

 private:
  const BoardOptions options_;
  const waiter::Menu menu_;

  absl::Mutex mu_;
  KitchenView view_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // One producer, one order (or burst) at a time: its results come back
  // through Poll() on the placing thread.
  absl::Mutex desk_mu_;
  std::unique_ptr<waiter::OrderSender> sender_ ABSL_GUARDED_BY(desk_mu_);
  // The results of what is being placed, filled by the sender's callback.
  int64_t acknowledged_ ABSL_GUARDED_BY(desk_mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(desk_mu_) = 0;
  absl::Status last_failure_ ABSL_GUARDED_BY(desk_mu_);
  nlohmann::json last_placed_ ABSL_GUARDED_BY(desk_mu_);
};

}  // namespace kitchen::board

#endif  // KITCHEN_BOARD_BOARD_H_
