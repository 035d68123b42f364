// File: service/loop.cc

#include "service/loop.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "orders/order_record.h"
#include "orders/trace_context.h"

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
    health_.Beat([this] { return !consumer_->Assignment().empty(); },
                 [this] { return dead_letters_.Waiting(); });
    LogLagIfDue();
    MeasureLagIfDue();
    // Poison records whose copies are now safe are done; their partitions go
    // on.
    if (!ServeDeadLetters()) break;
    // While a batch is open, only take what is already waiting.
    absl::StatusOr<absl::optional<kafka::Message>> polled =
        consumer_->Poll(batch_records_ > 0 ? 0 : 100);
    if (!polled.ok()) {
      if (absl::IsOutOfRange(polled.status()) &&
          progress_ == Progress::kOwnPositions) {
        // auto.offset.reset=error: a position the store took is not in the
        // log any more. Never jump: a jump back re-reads a new log's records
        // as "already recorded".
        Fail(absl::FailedPreconditionError(absl::StrCat(
                 polled.status().message(), ": the log is not the one ",
                 handler_.StoreName(),
                 " was written from (the topic deleted and re-created, or "
                 "the broker's data lost); move it aside, or start with a new "
                 "one, to record the new log from its start")),
             /*by_handler=*/true);
      } else {
        Fail(polled.status(), /*by_handler=*/false);
      }
      break;
    }
    if (!failure_.ok()) break;  // Met in a rebalance inside the poll.
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
         (options_.batch_max_bytes > 0 &&
          batch_bytes_ >= options_.batch_max_bytes) ||
         absl::Now() - batch_started_ >= options_.batch_max_delay) &&
        !CloseBatch()) {
      break;
    }
  }
  if (failure_.ok()) GiveUpDeadLetters();
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
  if (options_.metrics != nullptr) {
    options_.metrics->Consumed(key.first, key.second);
    if (absl::optional<absl::Time> written = message.timestamp()) {
      options_.metrics->Taken(key.first, key.second, absl::Now() - *written);
    }
  }
  // Fetched before its partition was paused behind a poison record (librdkafka
  // holds such records back, this is in case): it comes again once that
  // record is parked.
  if (auto parking = parking_.find(key); parking != parking_.end()) {
    parking->second.dropped = true;
    return true;
  }
  if (progress_ == Progress::kOwnPositions) {
    if (auto verify = verify_.find(key); verify != verify_.end()) {
      const int64_t expected = verify->second;
      verify_.erase(verify);
      if (!CheckResumePoint(message, expected)) return false;
    }
    auto next = next_.find(key);
    if (next != next_.end() && offset < next->second) return true;  // Kept.
  }

  // This service's span of the record's trace (a new trace without one).
  const orders::TraceContext trace = orders::TraceContext::Continue(
      message.header(orders::kTraceparentHeader));
  absl::Status decoded = orders::DecodeOrderInto(message.value(), order_);
  if (!decoded.ok()) {
    // Kept progress is a promise about every record before it: what was
    // handled before this one is made durable first.
    if (!CloseBatch()) return false;
    // Its partition waits (paused) until the copy is safe (ServeDeadLetters);
    // the other partitions go on meanwhile.
    dead_letters_.Park(message, decoded, trace);
    parking_[key] = {offset};
    if (absl::Status paused = consumer_->Pause(key.first, key.second);
        !paused.ok()) {
      logging::Warning("%s", paused.message());  // Its records are dropped.
    }
    return true;
  }

  if (batch_records_ == 0) batch_started_ = absl::Now();
  absl::Status handled =
      handler_.Handle(order_, {key.first, key.second, offset, &trace}, stop);
  if (absl::IsCancelled(handled)) return false;  // Abandoned: not done.
  if (!handled.ok()) {
    Fail(std::move(handled), /*by_handler=*/true);
    return false;
  }
  ++batch_records_;
  batch_bytes_ +=
      static_cast<int64_t>(message.key().size() + message.value().size());
  MarkDone(key, offset);
  if (options_.metrics != nullptr) {
    options_.metrics->Handled(key.first, key.second);
  }
  return true;
}

bool Loop::ServeDeadLetters() {
  std::vector<orders::DeadLetter> safe;
  if (absl::Status fatal = dead_letters_.Poll(safe); !fatal.ok()) {
    Fail(std::move(fatal), /*by_handler=*/false);
  }
  for (const orders::DeadLetter& letter : safe) {
    if (!DeadLettered(letter, /*resume=*/true)) return false;
  }
  return failure_.ok();
}

bool Loop::DeadLettered(const orders::DeadLetter& letter, bool resume) {
  PartitionKey key{letter.topic, letter.partition};
  auto parking = parking_.find(key);
  const bool dropped = parking != parking_.end() && parking->second.dropped;
  if (parking != parking_.end()) parking_.erase(parking);
  if (absl::Status noted = handler_.OnDeadLettered(
          {key.first, key.second, letter.offset}, letter.reason);
      !noted.ok()) {
    Fail(std::move(noted), /*by_handler=*/true);
    return false;
  }
  MarkDone(key, letter.offset);
  if (options_.metrics != nullptr) {
    options_.metrics->DeadLettered(key.first, key.second);
  }
  if (!CloseBatch()) return false;
  if (resume) {
    // librdkafka goes on after the last record it gave, the poison record;
    // from there explicitly if one after it was given and dropped.
    if (absl::Status resumed = consumer_->Resume(
            key.first, key.second,
            dropped ? letter.offset + 1 : kafka::kCommittedOffset);
        !resumed.ok()) {
      Fail(std::move(resumed), /*by_handler=*/false);
      return false;
    }
  }
  return true;
}

void Loop::GiveUpDeadLetters() {
  if (parking_.empty()) return;
  // A copy on its way gets a few seconds: parked now, it is not parked again
  // by whoever reads the partition next.
  std::vector<orders::DeadLetter> safe;
  dead_letters_.GiveUp(absl::Seconds(5), safe);
  for (const orders::DeadLetter& letter : safe) {
    if (!DeadLettered(letter, /*resume=*/false)) return;
  }
  // The partitions are let go of (revoked, or the loop is stopping), paused
  // or not; the records not parked come again to their next reader.
  for (const auto& [key, parking] : parking_) {
    (void)consumer_->Resume(key.first, key.second, kafka::kCommittedOffset);
  }
  parking_.clear();
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
    batch_bytes_ = 0;
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

void Loop::MeasureLagIfDue() {
  if (options_.metrics == nullptr || absl::Now() < next_lag_metric_) return;
  next_lag_metric_ = absl::Now() + absl::Seconds(1);
  // From the positions and the last fetch's watermarks: no request.
  options_.metrics->SetLag(consumer_->Lag());
}

bool Loop::CheckResumePoint(const kafka::Message& message, int64_t expected) {
  const std::string where =
      absl::StrCat(message.topic(), "/", message.partition());
  absl::Status same;
  if (message.offset() != expected) {
    same = absl::FailedPreconditionError(absl::StrCat(
        "the record at offset ", expected, ", the last ", handler_.StoreName(),
        " holds, is gone (the partition's first record is now at ",
        message.offset(), ")"));
  } else {
    const bool is_order = orders::DecodeOrderInto(message.value(), order_).ok();
    same = handler_.CheckResumePoint(
        {message.topic(), message.partition(), message.offset()},
        is_order ? &order_ : nullptr);
  }
  if (same.ok()) return true;
  Fail(absl::FailedPreconditionError(absl::StrCat(
           where, ": ", same.message(), ": the log is not the one ",
           handler_.StoreName(),
           " was written from (the topic deleted and re-created, or the "
           "broker's data lost); move it aside, or start with a new one, to "
           "record the new log from its start")),
       /*by_handler=*/true);
  return false;
}

void Loop::StartFromStore(kafka::TopicPartition& partition,
                          const absl::StatusOr<kafka::Watermarks>& log) {
  const PartitionKey key{partition.topic, partition.partition};
  const std::string where =
      absl::StrCat(partition.topic, "/", partition.partition);
  verify_.erase(key);
  absl::optional<int64_t> next =
      handler_.NextOffset(partition.topic, partition.partition);
  if (!next.has_value()) {
    partition.offset = kafka::kEarliestOffset;
    next_.erase(key);
    return;
  }
  partition.offset = *next;
  next_[key] = *next;
  if (*next < 0) return;  // Not an offset: librdkafka refuses it.
  if (!log.ok()) {
    // The record at the store's last offset is still checked below, and a
    // position out of the log stops the loop (auto.offset.reset=error).
    logging::Warning("%s: %s; its log's start and end are not checked", where,
                     log.status().message());
  } else if (log->high < *next) {
    Fail(absl::FailedPreconditionError(absl::StrCat(
             where, ": ", handler_.StoreName(), " holds offsets up to ",
             *next - 1, " but the partition's log ends at offset ", log->high,
             ": the log is not the one it was written from (the topic "
             "deleted and re-created, or the broker's data lost); move it "
             "aside, or start with a new one, to record the new log from its "
             "start")),
         /*by_handler=*/true);
    return;
  } else if (log->low > *next) {
    // Removed by retention before they were read: lost to the store, said
    // at every assignment until the store passes them.
    logging::Error(
        "%s: offsets %d to %d (%d records) were removed from the log "
        "(retention) before they were read: they are not in %s, which goes "
        "on at offset %d",
        where, *next, log->low - 1, log->low - *next, handler_.StoreName(),
        log->low);
    partition.offset = log->low;
    next_[key] = log->low;
    return;
  }
  if (log.ok() && *next - 1 < log->low) return;  // Nothing left to check.
  // Read the store's last record again first: the same record, or another
  // log.
  partition.offset = *next - 1;
  verify_[key] = *next - 1;
}

void Loop::SayPartOfTopic(
    const std::vector<kafka::TopicPartition>& partitions) {
  std::vector<kafka::TopicPartition> lacking;
  absl::flat_hash_map<std::string, std::vector<int32_t>> by_topic;
  for (const kafka::TopicPartition& p : partitions) {
    by_topic[p.topic].push_back(p.partition);
  }
  for (const auto& [topic, numbers] : by_topic) {
    absl::StatusOr<int> count =
        consumer_->PartitionCount(topic, absl::Seconds(5));
    if (!count.ok()) {
      logging::Warning("%s; whether this member has all of %s is unknown",
                       count.status().message(), topic);
      continue;
    }
    for (int32_t p = 0; p < *count; ++p) {
      if (std::find(numbers.begin(), numbers.end(), p) == numbers.end()) {
        lacking.push_back({topic, p});
      }
    }
  }
  if (!lacking.empty()) {
    logging::Warning(
        "%s is not the book of record: another member of the consumer group "
        "has %s, so their records go elsewhere (run one per group; a member "
        "killed a moment ago stays in the group until its session times out)",
        handler_.StoreName(), kafka::DescribePartitions(lacking));
  }
  handler_.OnPartOfTopic(lacking);
}

void Loop::OnAssign(std::vector<kafka::TopicPartition>& partitions) {
  if (progress_ == Progress::kOwnPositions) {
    // The handler's store, not Kafka's committed offset, says where to go on.
    // Where each log starts and ends, asked of the leaders all at once: a
    // leader that is down (a broker just killed) costs one wait, not one per
    // partition, inside this rebalance callback.
    std::vector<absl::StatusOr<kafka::Watermarks>> logs =
        consumer_->QueryLogBounds(partitions, absl::Seconds(5));
    for (size_t i = 0; i < partitions.size() && failure_.ok(); ++i) {
      StartFromStore(partitions[i], logs[i]);
    }
    if (failure_.ok() && !partitions.empty()) SayPartOfTopic(partitions);
  }
  // Rebalances are eager: every assignment follows a revocation of all.
  assigned_since_poll_ = !partitions.empty();
  if (options_.metrics != nullptr && !partitions.empty()) {
    options_.metrics->Rebalanced("assigned");
  }
  handler_.OnAssigned(partitions);
  if (options_.on_assignment) options_.on_assignment(partitions);
}

void Loop::OnRevoke(const std::vector<kafka::TopicPartition>& partitions,
                    bool lost) {
  // What was handled is kept, lost or not: under kOwnPositions the store keeps
  // its positions; at-least-once, a store for a lost partition is refused.
  // Rebalances are eager: every partition goes, those waiting on a poison
  // record's copy too.
  if (failure_.ok()) GiveUpDeadLetters();
  revoking_ = true;
  if (failure_.ok()) CloseBatch();
  revoking_ = false;
  for (const kafka::TopicPartition& partition : partitions) {
    next_.erase({partition.topic, partition.partition});
    verify_.erase({partition.topic, partition.partition});
  }
  if (options_.metrics != nullptr && !partitions.empty()) {
    options_.metrics->Rebalanced(lost ? "lost" : "revoked");
  }
  handler_.OnRevoked(partitions, lost);
  if (options_.on_assignment) options_.on_assignment({});
}

}  // namespace kitchen::service
