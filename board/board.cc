// File: board/board.cc

#include "board/board.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "orders/order_record.h"

namespace kitchen::board {

absl::Status Board::OpenOrderDesk(const kafka::ClientConfig& config,
                                  std::string topic) {
  absl::MutexLock lock(&desk_mu_);
  absl::StatusOr<std::unique_ptr<waiter::OrderSender>> sender =
      waiter::OrderSender::Create(
          config, std::move(topic), options_.delivery_timeout,
          // Called on the placing thread, inside Finish(), desk_mu_ held.
          [this](const waiter::PlacedOrder& placed)
              ABSL_NO_THREAD_SAFETY_ANALYSIS {
                if (!placed.status.ok()) {
                  ++failed_;
                  last_failure_ = placed.status;
                  return;
                }
                ++acknowledged_;
                absl::StatusOr<kitchen::v1::Order> order =
                    orders::DecodeOrder(placed.value);
                last_placed_ = {
                    {"partition", placed.partition},
                    {"offset", placed.offset},
                    {"order_id", order.ok() ? order->order_id() : ""},
                    {"pizza", order.ok() ? order->pizza() : ""},
                    {"table", order.ok() ? order->table() : 0}};
              });
  if (!sender.ok()) return sender.status();
  sender_ = *std::move(sender);
  return absl::OkStatus();
}

nlohmann::json Board::WaitForChanges(int64_t since, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, since]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || view_.version() != since;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return view_.ChangesSince(since);
}

nlohmann::json Board::Summary(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return view_.Summary(now);
}

void Board::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

bool Board::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::StatusOr<nlohmann::json> Board::Place(absl::string_view pizza,
                                            absl::string_view table) {
  absl::StatusOr<waiter::OrderRequest> order =
      waiter::CheckOrder(pizza, table, menu_, options_.tables);
  if (!order.ok()) return order.status();
  absl::MutexLock lock(&desk_mu_);
  if (sender_ == nullptr) return absl::UnavailableError("no order desk");
  acknowledged_ = failed_ = 0;
  if (absl::Status queued = sender_->Place(order->pizza, order->table);
      !queued.ok()) {
    return queued;
  }
  // librdkafka answers for every order within message.timeout.ms (the
  // delivery timeout); the second more is for its answer to be served.
  sender_->Finish(options_.delivery_timeout + absl::Seconds(1));
  if (acknowledged_ == 0) {
    return last_failure_.ok()
               ? absl::UnavailableError("the broker did not answer")
               : last_failure_;
  }
  return last_placed_;
}

absl::StatusOr<nlohmann::json> Board::PlaceBurst(int64_t count) {
  if (count < 1 || count > options_.max_burst) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a burst is 1 to ", options_.max_burst, " orders, not ", count));
  }
  absl::MutexLock lock(&desk_mu_);
  if (sender_ == nullptr) return absl::UnavailableError("no order desk");
  acknowledged_ = failed_ = 0;
  const std::vector<std::string>& pizzas = menu_.pizzas();
  const int32_t tables = options_.tables.max - options_.tables.min + 1;
  for (int64_t i = 0; i < count; ++i) {
    absl::Status queued =
        sender_->Place(pizzas[i % pizzas.size()],
                       options_.tables.min + static_cast<int32_t>(i % tables));
    if (!queued.ok()) {
      ++failed_;
      last_failure_ = queued;
    }
  }
  sender_->Finish(options_.delivery_timeout + absl::Seconds(1));
  nlohmann::json result = {{"placed", acknowledged_}, {"failed", failed_}};
  if (failed_ > 0) result["error"] = std::string(last_failure_.message());
  return result;
}

}  // namespace kitchen::board
