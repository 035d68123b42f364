// File: waiter/order_desk.h
//
// The waiter's desk: places checked orders through an OrderSender, prints one
// line per acknowledged order (when asked to), and keeps the tally a summary
// needs: sent, acknowledged, failed, skipped, and each order's delivery
// latency.
//
// Usage:
//   auto desk =
//       OrderDesk::Create(config, "pizza-order", absl::Seconds(10), stdout);
//   (*desk)->Place("margherita", 17);
//   (*desk)->Finish(absl::Seconds(12));
//   std::string line = FormatSummary((*desk)->tally());

#ifndef KITCHEN_WAITER_ORDER_DESK_H_
#define KITCHEN_WAITER_ORDER_DESK_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "waiter/order_sender.h"

namespace kitchen::waiter {

struct Tally {
  int64_t sent = 0;
  int64_t acknowledged = 0;
  int64_t failed = 0;
  int64_t skipped = 0;  // Input lines that were not orders.
  // The input ended before its end: unreadable, or a line too long.
  bool input_unread = false;
  int64_t not_ready = 0;              // --wait: acknowledged, not READY.
  std::vector<int64_t> latencies_us;  // Of acknowledged orders.
  absl::Time started = absl::Now();
  absl::Time finished;
};

// The `fraction` (0..1) percentile of `values`, which it sorts; 0 when empty.
int64_t Percentile(std::vector<int64_t>& values, double fraction);

// "1000 sent, 1000 acknowledged, 0 failed, 2 skipped in 0.81 s: 1234 orders/s;
//  delivery latency p50 3.1 ms, p99 7.9 ms"
std::string FormatSummary(Tally tally);

class OrderDesk {
 public:
  // `out`: where a line per acknowledged order goes; null for none. Should it
  // fail (a closed pipe), the desk stops printing and says so in the log.
  static absl::StatusOr<std::unique_ptr<OrderDesk>> Create(
      const kafka::ClientConfig& config, std::string topic,
      absl::Duration delivery_timeout, FILE* out);

  absl::Status Place(absl::string_view pizza, int32_t table);
  void Skip() { ++tally_.skipped; }
  void InputUnread() { tally_.input_unread = true; }
  // Called with each acknowledged order, after its line is printed.
  void OnAcknowledged(std::function<void(const PlacedOrder&)> observer) {
    on_acknowledged_ = std::move(observer);
  }
  // For the summary of a run whose orders were waited for.
  void SetNotReady(int64_t orders) { tally_.not_ready = orders; }
  // Makes room for the tally of `orders` orders up front (load mode): growing
  // it by reallocation while orders stream in costs more than the orders.
  void Expect(int64_t orders);
  void Poll(int timeout_ms) { sender_->Poll(timeout_ms); }
  // Waits at most `timeout` for the outstanding answers (see
  // OrderSender::Finish).
  void Finish(absl::Duration timeout);

  int64_t pending() const { return sender_->pending(); }
  const Tally& tally() const { return tally_; }

 private:
  explicit OrderDesk(FILE* out) : out_(out) {}
  void OnResult(const PlacedOrder& placed);
  // Writes `text` to `out_`. One that cannot be written is logged once, and
  // nothing more is printed.
  void Print(absl::string_view text);

  FILE* out_;
  Tally tally_;
  std::function<void(const PlacedOrder&)> on_acknowledged_;
  std::unique_ptr<OrderSender> sender_;
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_ORDER_DESK_H_
