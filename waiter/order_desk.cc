// File: waiter/order_desk.cc

#include "waiter/order_desk.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "logging/printable.h"
#include "orders/order_record.h"
#include "proto/order.pb.h"

namespace kitchen::waiter {

int64_t Percentile(std::vector<int64_t>& values, double fraction) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(
      fraction * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<long>(rank),
                   values.end());
  return values[rank];
}

std::string FormatSummary(Tally tally) {
  double seconds = absl::ToDoubleSeconds(tally.finished - tally.started);
  double rate =
      seconds > 0 ? static_cast<double>(tally.acknowledged) / seconds : 0;
  int64_t p50 = Percentile(tally.latencies_us, 0.50);
  int64_t p99 = Percentile(tally.latencies_us, 0.99);
  return absl::StrFormat(
      "%d sent, %d acknowledged, %d failed, %d skipped in %.2f s: %.0f "
      "orders/s; "
      "delivery latency p50 %.1f ms, p99 %.1f ms",
      tally.sent, tally.acknowledged, tally.failed, tally.skipped, seconds,
      rate, static_cast<double>(p50) / 1000.0,
      static_cast<double>(p99) / 1000.0);
}

absl::StatusOr<std::unique_ptr<OrderDesk>> OrderDesk::Create(
    const kafka::ClientConfig& config, std::string topic,
    absl::Duration delivery_timeout, FILE* out) {
  std::unique_ptr<OrderDesk> desk(new OrderDesk(out));
  OrderDesk* raw = desk.get();
  absl::StatusOr<std::unique_ptr<OrderSender>> sender = OrderSender::Create(
      config, std::move(topic), delivery_timeout,
      [raw](const PlacedOrder& placed) { raw->OnResult(placed); });
  if (!sender.ok()) return sender.status();
  desk->sender_ = *std::move(sender);
  return desk;
}

absl::Status OrderDesk::Place(absl::string_view pizza, int32_t table) {
  absl::Status placed = sender_->Place(pizza, table);
  if (placed.ok()) ++tally_.sent;
  return placed;
}

void OrderDesk::Expect(int64_t orders) {
  // Beyond a million, let it grow: that is rare, and 8 MiB is enough up front.
  constexpr int64_t kMostReserved = 1 << 20;
  tally_.latencies_us.reserve(
      static_cast<size_t>(std::clamp<int64_t>(orders, 0, kMostReserved)));
}

void OrderDesk::Finish(absl::Duration timeout) {
  int64_t never_answered = sender_->Finish(timeout);
  if (never_answered > 0) {
    tally_.failed += never_answered;
    logging::Error("%d order(s) NOT placed: Kafka never answered for them",
                   never_answered);
  }
  tally_.finished = absl::Now();
}

namespace {

// "ID: PIZZA for table N", the order a record holds. The waiter's own records
// always decode; were one not to, say so rather than hide it.
std::string Describe(absl::string_view value) {
  absl::StatusOr<kitchen::v1::Order> order = orders::DecodeOrder(value);
  if (!order.ok()) {
    return absl::StrCat("(unreadable record: ", order.status().message(), ")");
  }
  // Printable: the pizza comes from the menu, which a --menu_file may fill
  // with anything.
  return absl::StrFormat("%s: %s for table %d",
                         logging::Printable(order->order_id()),
                         logging::Printable(order->pizza()), order->table());
}

// The order's trace id, "none" should the record have lost its traceparent.
absl::string_view TraceId(const PlacedOrder& placed) {
  const absl::string_view trace_id = placed.trace_id();
  return trace_id.empty() ? absl::string_view("none") : trace_id;
}

}  // namespace

void OrderDesk::OnResult(const PlacedOrder& placed) {
  if (!placed.status.ok()) {
    ++tally_.failed;
    logging::Error("order %s (trace %s) NOT placed: %s", Describe(placed.value),
                   TraceId(placed), placed.status.message());
    return;
  }
  ++tally_.acknowledged;
  tally_.latencies_us.push_back(absl::ToInt64Microseconds(placed.latency));
  if (out_ != nullptr) {
    // The idempotent producer can learn that a retried batch was already
    // written (DUPLICATE_SEQUENCE_NUMBER): acknowledged, but the broker did not
    // say where.
    std::string offset = placed.offset >= 0 ? absl::StrCat(placed.offset)
                                            : std::string("unknown");
    Print(absl::StrFormat("order %s -> %s partition %d offset %s trace %s\n",
                          Describe(placed.value), placed.topic,
                          placed.partition, offset, TraceId(placed)));
  }
  if (on_acknowledged_) on_acknowledged_(placed);
}

void OrderDesk::Print(absl::string_view text) {
  if (out_ == nullptr) return;
  if (std::fwrite(text.data(), 1, text.size(), out_) == text.size() &&
      std::fflush(out_) == 0) {
    return;
  }
  // Most often EPIPE: the reader left (`waiter ... | head -1`; SIGPIPE is
  // ignored). Whoever wanted the lines is gone, the orders are not: they are
  // still placed, waited for and counted, and the summary is logged.
  logging::Warning(
      "cannot write to standard output (%s): acknowledgements are no longer "
      "printed; the orders are still placed and reported here",
      std::strerror(errno));
  out_ = nullptr;
}

}  // namespace kitchen::waiter
