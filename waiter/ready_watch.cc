// File: waiter/ready_watch.cc

#include "waiter/ready_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_event.h"
#include "proto/order_event.pb.h"
#include "waiter/order_desk.h"

namespace kitchen::waiter {
namespace {

std::string Seconds(absl::Duration duration) {
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(duration));
}

std::string DescribeOrder(absl::string_view pizza, int32_t table,
                          absl::string_view id) {
  return absl::StrFormat("%s for table %d (order %s)", pizza, table,
                         id.empty() ? "with no id" : id);
}

}  // namespace

std::string FormatReadySummary(ReadyTally tally, absl::Duration timeout) {
  std::string summary = absl::StrFormat(
      "%d of %d ready, %d not ready within %s", tally.ready, tally.expected,
      tally.not_ready, absl::FormatDuration(timeout));
  if (!tally.latencies_us.empty()) {
    absl::StrAppendFormat(
        &summary, "; placed -> ready p50 %.2f s, p99 %.2f s",
        static_cast<double>(Percentile(tally.latencies_us, 0.50)) / 1e6,
        static_cast<double>(Percentile(tally.latencies_us, 0.99)) / 1e6);
  }
  return summary;
}

absl::StatusOr<std::unique_ptr<ReadyWatch>> ReadyWatch::Open(
    const kafka::ClientConfig& config, const std::string& status_topic,
    FILE* out) {
  auto reader = kafka::TopicReader::Create(config, status_topic,
                                           kafka::TopicReader::Start::kEnd,
                                           kafka::Isolation::kReadCommitted);
  if (!reader.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "--wait: cannot read the order events: ", reader.status().message()));
  }
  return std::unique_ptr<ReadyWatch>(new ReadyWatch(*std::move(reader), out));
}

void ReadyWatch::Expect(int32_t partition, int64_t offset, std::string pizza,
                        int32_t table, std::string order_id,
                        absl::Time placed) {
  ++tally_.expected;
  if (offset < 0) {
    ++tally_.not_ready;
    logging::Error(
        "cannot wait for %s: the broker did not say where it was written",
        DescribeOrder(pizza, table, order_id));
    return;
  }
  Order order{std::move(pizza), table, std::move(order_id), placed};
  auto early = unclaimed_.find({partition, offset});
  if (early != unclaimed_.end()) {
    Served(order, early->second);
    unclaimed_.erase(early);
    return;
  }
  waiting_.emplace(Position{partition, offset}, std::move(order));
}

void ReadyWatch::Served(const Order& order, const Ready& ready) {
  ++tally_.ready;
  const absl::Duration after = ready.read - order.placed;
  tally_.latencies_us.push_back(absl::ToInt64Microseconds(after));
  if (out_ == nullptr) return;
  absl::FPrintF(out_, "ready: %s after %s, cooked by %s\n",
                DescribeOrder(order.pizza, order.table, order.id),
                Seconds(after), ready.cook.empty() ? "(unnamed)" : ready.cook);
  std::fflush(out_);
}

absl::Status ReadyWatch::Poll(int timeout_ms) {
  absl::StatusOr<absl::optional<kafka::Message>> polled =
      reader_->Poll(timeout_ms);
  if (!polled.ok()) return polled.status();
  if (!polled->has_value()) return absl::OkStatus();
  absl::StatusOr<kitchen::v1::OrderEvent> event =
      orders::DecodeEvent((*polled)->value());
  // Not an event (a foreign producer's record): nobody's READY.
  if (!event.ok() || event->state() != kitchen::v1::OrderEvent::READY) {
    return absl::OkStatus();
  }
  Ready ready{event->cook(), absl::Now()};
  Position position{event->order_partition(), event->order_offset()};
  auto order = waiting_.find(position);
  if (order == waiting_.end()) {
    unclaimed_.emplace(position, std::move(ready));
    return absl::OkStatus();
  }
  Served(order->second, ready);
  waiting_.erase(order);
  return absl::OkStatus();
}

absl::Status ReadyWatch::WaitForAll(absl::Duration timeout,
                                    absl::Notification& stop) {
  // Every answer is in: a READY not claimed by now is another waiter's (or a
  // second READY, on a broker without transactions).
  unclaimed_.clear();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  absl::Status read;
  while (!waiting_.empty() && !stop.HasBeenNotified() &&
         absl::Now() < deadline) {
    if (read = Poll(100); !read.ok()) break;
    unclaimed_.clear();
  }
  tally_.waited = absl::Now() - start;
  for (const auto& [position, order] : waiting_) {
    ++tally_.not_ready;
    logging::Error("not ready: %s, partition %d offset %d, placed %s ago",
                   DescribeOrder(order.pizza, order.table, order.id),
                   position.first, position.second,
                   Seconds(absl::Now() - order.placed));
  }
  waiting_.clear();
  return read;
}

}  // namespace kitchen::waiter
