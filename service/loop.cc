// File: service/loop.cc

#include "service/loop.h"

#include <utility>

#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_record.h"

namespace kitchen::service {

Loop::Loop(LoopOptions options, Handler& handler,
           orders::DeadLetterQueue& dead_letters)
    : options_(std::move(options)),
      handler_(handler),
      progress_(handler.progress()),
      dead_letters_(dead_letters),
      health_(options_.health_file) {}

absl::Status Loop::Run(kafka::Consumer& consumer, absl::Notification& stop) {
  if (progress_ == Progress::kOffsetsInTransaction &&
      options_.transaction == nullptr) {
    return absl::FailedPreconditionError(
        "a handler that keeps its progress in a Kafka transaction needs a "
        "transactional producer (LoopOptions::transaction)");
  }
  consumer_ = &consumer;
  while (!stop.HasBeenNotified() && failure_.ok()) {
    health_.Beat([this] { return !consumer_->Assignment().empty(); });
    LogLagIfDue();
    // While a batch is open, only take what is already waiting.
    absl::StatusOr<absl::optional<kafka::Message>> polled =
        consumer_->Poll(batch_records_ > 0 ? 0 : 100);
    if (!polled.ok()) {
      Fail(polled.status(), /*by_handler=*/false);
      break;
    }
    // Partitions arrive inside Poll, possibly with a first record: the backlog
    // is said before that record is handled, from the group's committed
    // offsets, so it is what a service that was stopped has to catch up on
    // (and what kafka-consumer-groups --describe shows).
    if (assigned_since_poll_) {
      assigned_since_poll_ = false;
      LogLag("lag at assignment", kafka::LagFrom::kCommittedOffsets);
    }
    if (!polled->has_value()) {
      if (batch_records_ > 0 && !CloseBatch()) break;
      handler_.OnIdle();
      continue;
    }
    if (!Take(**polled, stop)) break;
    if (batch_records_ > 0 &&
        (batch_records_ >= options_.batch_max_records ||
         absl::Now() - batch_started_ >= options_.batch_max_delay) &&
        !CloseBatch()) {
      break;
    }
  }
  if (failure_.ok()) CloseBatch();
  // What a failed batch published is withdrawn; its records come again.
  if (!failure_.ok() && options_.transaction != nullptr) {
    options_.transaction->AbortIfOpen();
  }
  LogLag("lag at shutdown", kafka::LagFrom::kPosition);
  return failure_;
}

bool Loop::Take(const kafka::Message& message, absl::Notification& stop) {
  PartitionKey key{message.topic(), message.partition()};
  const int64_t offset = message.offset();
  if (progress_ == Progress::kOwnPositions) {
    auto next = next_.find(key);
    if (next != next_.end() && offset < next->second) return true;  // Kept.
  }

  absl::Status decoded = orders::DecodeOrderInto(message.value(), order_);
  if (!decoded.ok()) {
    // Kept progress is a promise about every record before it: what was
    // handled before this one is made durable first.
    if (!CloseBatch()) return false;
    if (!dead_letters_.SendPatiently(message, decoded, stop).ok()) {
      return false;  // Stopping: not marked done, so it comes again.
    }
    if (absl::Status noted = handler_.OnDeadLettered(
            {key.first, key.second, offset}, decoded);
        !noted.ok()) {
      Fail(std::move(noted), /*by_handler=*/true);
      return false;
    }
    MarkDone(key, offset);
    return CloseBatch();
  }

  if (batch_records_ == 0) batch_started_ = absl::Now();
  absl::Status handled =
      handler_.Handle(order_, {key.first, key.second, offset}, stop);
  if (absl::IsCancelled(handled)) return false;  // Abandoned: not done.
  if (!handled.ok()) {
    Fail(std::move(handled), /*by_handler=*/true);
    return false;
  }
  ++batch_records_;
  MarkDone(key, offset);
  return true;
}

void Loop::MarkDone(const PartitionKey& key, int64_t offset) {
  if (progress_ == Progress::kNone) return;
  done_[key] = offset + 1;
  if (progress_ == Progress::kOwnPositions) next_[key] = offset + 1;
}

bool Loop::CloseBatch() {
  if (progress_ == Progress::kOffsetsInTransaction) return CloseTransaction();
  if (batch_records_ > 0) {
    if (absl::Status flushed = handler_.Flush(); !flushed.ok()) {
      Fail(std::move(flushed), /*by_handler=*/true);
      return false;
    }
    batch_records_ = 0;
  }
  for (const auto& [key, next_offset] : done_) {
    absl::Status stored =
        consumer_->StoreOffset(key.first, key.second, next_offset);
    // A partition revoked meanwhile cannot be stored. At-least-once, its next
    // owner handles those records again; under kOwnPositions the handler's
    // store holds them anyway.
    if (!stored.ok() && progress_ == Progress::kStoredOffsets) {
      logging::Warning("%s", stored.message());
    }
  }
  done_.clear();
  return true;
}

bool Loop::CloseTransaction() {
  if (batch_records_ > 0) {
    if (absl::Status flushed = handler_.Flush(); !flushed.ok()) {
      Fail(std::move(flushed), /*by_handler=*/true);
      return false;
    }
    batch_records_ = 0;
  }
  if (done_.empty()) return true;
  std::vector<kafka::TopicPartition> offsets;
  for (const auto& [key, next_offset] : done_) {
    offsets.push_back({key.first, key.second, next_offset});
  }
  done_.clear();
  // Fresh for each transaction: a generation that moved on makes the
  // transaction abortable instead of committing a zombie's offsets.
  absl::StatusOr<TransactionOutcome> outcome =
      options_.transaction->Commit(offsets, consumer_->GroupMetadata());
  if (!outcome.ok()) {
    Fail(outcome.status(), /*by_handler=*/false);
    return false;
  }
  if (*outcome == TransactionOutcome::kCommitted) {
    if (options_.commit_after_transaction) {
      if (absl::Status committed = consumer_->CommitOffsets(offsets);
          !committed.ok()) {
        // At-least-once there: the next owner handles these records again.
        logging::Warning("%s", committed.message());
      }
    }
    return true;
  }
  // Aborted: nothing of the batch is in. Its records come again from the
  // committed offsets (a revoked partition's next owner starts there anyway).
  if (revoking_) return true;
  if (absl::Status rewound = consumer_->RewindToCommitted(absl::Seconds(30));
      !rewound.ok()) {
    Fail(std::move(rewound), /*by_handler=*/false);
    return false;
  }
  logging::Info("rewound %s to the committed offsets: those orders come again",
                kafka::DescribePartitions(consumer_->Assignment()));
  return true;
}

void Loop::Fail(absl::Status status, bool by_handler) {
  if (!failure_.ok()) return;
  failure_ = std::move(status);
  handler_failed_ = by_handler;
}

void Loop::LogLag(const char* what, kafka::LagFrom from) {
  if (!options_.log_lag) return;
  std::vector<kafka::PartitionLag> lags = consumer_->Lag(from);
  logging::Info("%s: %s", what, kafka::DescribeLag(lags));
  handler_.OnLag(lags);
}

void Loop::LogLagIfDue() {
  if (!options_.log_lag || options_.lag_interval <= absl::ZeroDuration() ||
      absl::Now() < next_lag_log_) {
    return;
  }
  next_lag_log_ = absl::Now() + options_.lag_interval;
  std::vector<kafka::PartitionLag> lags = consumer_->Lag();
  if (lags.empty()) return;
  logging::Info("lag: %s", kafka::DescribeLag(lags));
  handler_.OnLag(lags);
}

void Loop::OnAssign(std::vector<kafka::TopicPartition>& partitions) {
  if (progress_ == Progress::kOwnPositions) {
    // The handler's store, not Kafka's committed offset, says where to go on.
    for (kafka::TopicPartition& partition : partitions) {
      absl::optional<int64_t> next =
          handler_.NextOffset(partition.topic, partition.partition);
      partition.offset = next.value_or(kafka::kEarliestOffset);
      if (next.has_value()) {
        next_[{partition.topic, partition.partition}] = *next;
      } else {
        next_.erase({partition.topic, partition.partition});
      }
    }
  }
  // Rebalances are eager: every assignment follows a revocation of all.
  assigned_since_poll_ = !partitions.empty();
  handler_.OnAssigned(partitions);
  if (options_.on_assignment) options_.on_assignment(partitions);
}

void Loop::OnRevoke(const std::vector<kafka::TopicPartition>& partitions,
                    bool lost) {
  // What was handled is kept, lost or not: under kOwnPositions the store keeps
  // its positions; at-least-once, a store for a lost partition is refused.
  revoking_ = true;
  if (failure_.ok()) CloseBatch();
  revoking_ = false;
  for (const kafka::TopicPartition& partition : partitions) {
    next_.erase({partition.topic, partition.partition});
  }
  handler_.OnRevoked(partitions, lost);
  if (options_.on_assignment) options_.on_assignment({});
}

}  // namespace kitchen::service
