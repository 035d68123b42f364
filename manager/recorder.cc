// File: manager/recorder.cc

#include "manager/recorder.h"

#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_record.h"

namespace kitchen::manager {

absl::Status Recorder::Run(absl::Notification& stop) {
  while (!stop.HasBeenNotified() && failure_.ok()) {
    health_.Beat([this] { return !consumer_->Assignment().empty(); });
    // While a batch is open, only take what is already waiting.
    absl::StatusOr<absl::optional<kafka::Message>> polled =
        consumer_->Poll(batch_.empty() ? 100 : 0);
    if (!polled.ok()) {
      failure_ = polled.status();
      break;
    }
    if (polled->has_value()) Handle(**polled, stop);
    bool batch_done =
        !batch_.empty() &&
        (!polled->has_value() ||
         static_cast<int>(batch_.size()) >= options_.sync_max_records ||
         absl::Now() - batch_started_ >= options_.sync_max_delay);
    if (batch_done && failure_.ok()) failure_ = Flush();
  }
  if (failure_.ok()) failure_ = Flush();
  return failure_;
}

void Recorder::Handle(const kafka::Message& message, absl::Notification& stop) {
  PartitionKey key{message.topic(), message.partition()};
  auto next = next_.find(key);
  if (next != next_.end() && message.offset() < next->second)
    return;  // Recorded.

  absl::Status decoded = orders::DecodeOrderInto(message.value(), order_);
  if (!decoded.ok()) {
    // Everything before it must be durable first, or a crash could commit past
    // orders not yet in the ledger.
    if (absl::Status flushed = Flush(); !flushed.ok()) {
      failure_ = flushed;
      return;
    }
    if (!dead_letters_->SendPatiently(message, decoded, stop).ok()) {
      return;  // Stopping: its position is not advanced, so it comes again.
    }
    next_[key] = message.offset() + 1;
    to_store_[key] = message.offset() + 1;
    return;
  }

  if (batch_.empty()) batch_started_ = absl::Now();
  LedgerEntry entry;
  entry.order_id = order_.order_id();
  entry.pizza = order_.pizza();
  entry.table = order_.table();
  entry.placed_at = orders::PlacedAt(order_);
  entry.topic = key.first;
  entry.partition = key.second;
  entry.offset = message.offset();
  batch_.push_back(std::move(entry));
  next_[key] = message.offset() + 1;
  to_store_[key] = message.offset() + 1;
}

absl::Status Recorder::Flush() {
  if (!batch_.empty()) {
    // Recorded when written: one time for the whole batch.
    absl::Time now = absl::Now();
    for (LedgerEntry& entry : batch_) entry.recorded_at = now;
    if (absl::Status appended = ledger_->Append(batch_); !appended.ok()) {
      ledger_failed_ = true;
      return appended;
    }
    recorded_ += static_cast<int64_t>(batch_.size());
    batch_.clear();
  }
  for (const auto& [key, offset] : to_store_) {
    // A partition revoked meanwhile cannot be stored; the ledger has it anyway.
    (void)consumer_->StoreOffset(key.first, key.second, offset);
  }
  to_store_.clear();
  return absl::OkStatus();
}

void Recorder::OnAssign(std::vector<kafka::TopicPartition>& partitions) {
  for (kafka::TopicPartition& partition : partitions) {
    absl::optional<int64_t> next =
        ledger_->NextOffset(partition.topic, partition.partition);
    // The ledger, not Kafka's committed offset, says where to go on; a
    // partition it has never seen starts at the earliest record the topic still
    // holds.
    partition.offset = next.value_or(RD_KAFKA_OFFSET_BEGINNING);
    if (next.has_value()) {
      next_[{partition.topic, partition.partition}] = *next;
    } else {
      next_.erase({partition.topic, partition.partition});
    }
  }
  logging::Info("reading from the ledger's positions: %s", [&] {
    std::string text;
    for (const auto& p : partitions) {
      absl::StrAppend(
          &text, text.empty() ? "" : " ", p.topic, "/", p.partition, "@",
          p.offset == RD_KAFKA_OFFSET_BEGINNING ? std::string("earliest")
                                                : absl::StrCat(p.offset));
    }
    return text;
  }());
}

void Recorder::OnRevoke(const std::vector<kafka::TopicPartition>& partitions,
                        bool lost) {
  // What was read is ours to record, lost or not: the ledger keeps its
  // positions.
  if (failure_.ok()) failure_ = Flush();
  for (const kafka::TopicPartition& partition : partitions) {
    next_.erase({partition.topic, partition.partition});
  }
}

}  // namespace kitchen::manager
