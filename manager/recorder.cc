// File: manager/recorder.cc

#include "manager/recorder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_record.h"

namespace kitchen::manager {

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Open(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(path);
  if (!ledger.ok()) return ledger.status();
  logging::Info(
      "ledger %s: %d orders recorded so far (and %d records "
      "dead-lettered)",
      path, (*ledger)->orders(), (*ledger)->dead_lettered());
  return std::make_unique<Recorder>(*std::move(ledger));
}

absl::Status Recorder::Handle(const kitchen::v1::Order& order,
                              const service::Position& at,
                              absl::Notification& stop) {
  LedgerEntry entry;
  entry.order_id = order.order_id();
  entry.pizza = order.pizza();
  entry.table = order.table();
  entry.placed_at = orders::PlacedAt(order);
  entry.topic = std::string(at.topic);
  entry.partition = at.partition;
  entry.offset = at.offset;
  if (at.trace != nullptr) entry.trace_id = std::string(at.trace->trace_id());
  batch_.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status Recorder::Flush() {
  if (batch_.empty()) return absl::OkStatus();
  // Recorded when written: one time for the whole batch.
  absl::Time now = absl::Now();
  for (LedgerEntry& entry : batch_) entry.recorded_at = now;
  if (absl::Status appended = ledger_->Append(batch_); !appended.ok()) {
    return appended;
  }
  recorded_ += static_cast<int64_t>(batch_.size());
  if (metrics_.has_value()) {
    const absl::Time synced = absl::Now();
    metrics_->sync_seconds->Observe(absl::ToDoubleSeconds(synced - now));
    metrics_->batch_orders->Observe(static_cast<double>(batch_.size()));
    metrics_->recorded->Increment(static_cast<double>(batch_.size()));
    for (const LedgerEntry& entry : batch_) {
      if (entry.placed_at.has_value()) {
        metrics_->placed_to_recorded->Observe(
            absl::ToDoubleSeconds(synced - *entry.placed_at));
      }
    }
  }
  batch_.clear();
  return absl::OkStatus();
}

void Recorder::ExportMetrics(service::Metrics& metrics) {
  metrics_ = Exported{
      &metrics.Counter("kitchen_orders_recorded_total",
                       "Orders written to the ledger and synced."),
      &metrics.Histogram("kitchen_order_placed_to_recorded_seconds",
                         "From an order's placed_at to its ledger line on "
                         "disk.",
                         service::OrderLatencyBuckets()),
      &metrics.Histogram("kitchen_ledger_sync_seconds",
                         "Writing and fsyncing one batch of ledger lines.",
                         service::IoLatencyBuckets()),
      &metrics.Histogram(
          "kitchen_ledger_batch_orders", "Orders per ledger sync.",
          {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}),
  };
}

absl::Status Recorder::OnDeadLettered(const service::Position& at,
                                      const absl::Status& reason) {
  LedgerEntry entry;
  entry.dead_lettered = true;
  entry.reason = std::string(reason.message());
  entry.topic = std::string(at.topic);
  entry.partition = at.partition;
  entry.offset = at.offset;
  entry.recorded_at = absl::Now();
  return ledger_->Append({entry});
}

void Recorder::OnAssigned(
    const std::vector<kafka::TopicPartition>& partitions) {
  std::string text;
  for (const kafka::TopicPartition& p : partitions) {
    absl::StrAppend(
        &text, text.empty() ? "" : " ", p.topic, "/", p.partition, "@",
        p.offset == kafka::kEarliestOffset ? std::string("earliest")
                                           : absl::StrCat(p.offset));
  }
  logging::Info("reading from the ledger's positions: %s", text);
}

absl::Status Recorder::CheckResumePoint(const service::Position& at,
                                        const kitchen::v1::Order* order) const {
  const LedgerEntry* recorded =
      ledger_->LastEntry(std::string(at.topic), at.partition);
  if (recorded == nullptr) return absl::OkStatus();
  auto describe = [](const std::string& id, const std::string& pizza,
                     int32_t table, const absl::optional<absl::Time>& placed) {
    return absl::StrCat(
        "order \"", id, "\" ", pizza, " for table ", table, " placed ",
        placed.has_value() ? absl::StrCat(absl::ToUnixMillis(*placed), " ms")
                           : std::string("at an unknown time"));
  };
  std::string found = order == nullptr
                          ? std::string("a record that is not an order")
                          : describe(order->order_id(), order->pizza(),
                                     order->table(), orders::PlacedAt(*order));
  std::string expected =
      recorded->dead_lettered
          ? std::string("a record that is not an order (dead-lettered)")
          : describe(recorded->order_id, recorded->pizza, recorded->table,
                     recorded->placed_at);
  // The ledger keeps times to the millisecond.
  auto millis = [](const absl::optional<absl::Time>& when) {
    return when.has_value() ? absl::optional<int64_t>(absl::ToUnixMillis(*when))
                            : absl::nullopt;
  };
  const bool same =
      order == nullptr
          ? recorded->dead_lettered
          : !recorded->dead_lettered &&
                order->order_id() == recorded->order_id &&
                order->pizza() == recorded->pizza &&
                order->table() == recorded->table &&
                millis(orders::PlacedAt(*order)) == millis(recorded->placed_at);
  if (same) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("offset ", at.offset, " holds ", found, " where ",
                   StoreName(), " recorded ", expected));
}

std::string Recorder::StoreName() const {
  return absl::StrCat("ledger ", ledger_->path());
}

void Recorder::OnPartOfTopic(
    const std::vector<kafka::TopicPartition>& lacking) {
  lacking_ = lacking.empty() ? "" : kafka::DescribePartitions(lacking);
}

std::string Recorder::Summary() const {
  return absl::StrCat(
      recorded_, " orders recorded",
      lacking_.empty()
          ? ""
          : absl::StrCat(" (not the book of record: its last assignment "
                         "lacked ",
                         lacking_, ", another member's)"));
}

}  // namespace kitchen::manager
