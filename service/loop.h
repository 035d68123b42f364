// File: service/loop.h
//
// The poll loop of every consumer service, around a Handler
// (service/handler.h): poll → decode → dead-letter → handler → progress.
//  - A record that is not an order (bytes that do not parse, no pizza, table
//    <= 0) is parked on the dead-letter topic (orders/dead_letter.h) and only
//    then marked done; what was handled before it is flushed and kept first,
//    so a kept offset never passes an order that is not durable. While its
//    copy waits (a broker away: retried with a growing pause), its partition
//    is paused and the others go on; the health file says what it waits for.
//    Once the copy is safe the partition goes on from the next record. A copy
//    that can never be written (the dead-letter topic missing, not allowed)
//    stops the loop.
//  - Orders go to the handler in batches: a batch ends when nothing more is
//    waiting, at `batch_max_records` (1: every order its own batch), at
//    `batch_max_bytes` of records, or `batch_max_delay` after it began; then
//    the handler flushes and the batch's progress is kept the handler's way
//    (Progress).
//  - Under kOffsetsInTransaction a batch's end commits the Kafka transaction
//    holding its offsets (LoopOptions::transaction); when it aborts, the
//    assigned partitions rewind to the group's committed offsets and those
//    records come again.
//  - It is the consumer's RebalanceListener: under kOwnPositions each assigned
//    partition starts where the handler says; before partitions are revoked
//    the open batch is flushed and kept.
//  - The health file (cli/health_file.h) is beaten on every turn; the lag per
//    partition is logged at assignment ("lag at assignment: ", from the group's
//    committed offsets: the backlog), every `lag_interval` ("lag: ") and at
//    shutdown ("lag at shutdown: ") when `log_lag` is set.
// An error (the consumer failed, or the handler did) stops it at once, with
// nothing kept past what was flushed.
//
// Usage:
//   Loop loop(options, handler, *dead_letters);
//   auto consumer = kafka::Consumer::Create(*std::move(conf), {topic}, &loop);
//   absl::Status result = loop.Run(**consumer, stop);
//   (*consumer)->Close();  // Before the loop goes: a revocation calls it.

#ifndef KITCHEN_SERVICE_LOOP_H_
#define KITCHEN_SERVICE_LOOP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/health_file.h"
#include "kafka/consumer.h"
#include "kafka/message.h"
#include "orders/dead_letter.h"
#include "proto/order.pb.h"
#include "service/handler.h"
#include "service/metrics.h"
#include "service/transaction.h"

namespace kitchen::service {

struct LoopOptions {
  std::string health_file;  // See cli/health_file.h; empty: none.
  // Told the member's whole assignment after each rebalance (empty once its
  // partitions are revoked), e.g. to announce it (service/presence.h).
  std::function<void(const std::vector<kafka::TopicPartition>&)> on_assignment;
  bool log_lag = false;
  absl::Duration lag_interval = absl::Seconds(30);  // Zero: not periodically.
  int batch_max_records = 1;
  absl::Duration batch_max_delay = absl::ZeroDuration();
  // The records' bytes (keys and values) a batch holds at most; 0: no bound.
  int64_t batch_max_bytes = 0;
  // kOffsetsInTransaction: the producer whose transactions hold each batch's
  // offsets with what the handler published (service/transaction.h); it must
  // outlive the loop's consumer. The consumer must not auto-commit.
  TransactionalProducer* transaction = nullptr;
  // And the same offsets committed plainly once a transaction committed: on
  // the dev broker, whose transactions discard offsets (README, Known limits).
  bool commit_after_transaction = false;
  // Counts what the loop reads, handles and parks, per partition, the lag
  // (each second) and rebalances (service/metrics.h); null: none. It must
  // outlive the loop.
  Metrics* metrics = nullptr;
};

class Loop : public kafka::RebalanceListener {
 public:
  // `handler` and `dead_letters` must outlive the loop.
  Loop(LoopOptions options, Handler& handler,
       orders::DeadLetterQueue& dead_letters);

  // Polls `consumer` until `stop` is notified (or an error), then flushes and
  // keeps what was handled and returns. `consumer` must stay alive for as long
  // as it may call the loop back: until it is closed.
  absl::Status Run(kafka::Consumer& consumer, absl::Notification& stop);

  // Whether Run() stopped because the handler failed (else Kafka did).
  bool handler_failed() const { return handler_failed_; }

  void OnAssign(std::vector<kafka::TopicPartition>& partitions) override;
  void OnRevoke(const std::vector<kafka::TopicPartition>& partitions,
                bool lost) override;

 private:
  using PartitionKey = std::pair<std::string, int32_t>;

  // One record: skipped, dead-lettered or handled. False when the loop must
  // stop (stopping, or an error).
  bool Take(const kafka::Message& message, absl::Notification& stop);
  // Takes the poison records whose copies are now safe (DeadLettered). False
  // when the loop must stop.
  bool ServeDeadLetters();
  // `letter`'s record is done: the handler notes it, its progress is kept
  // and, if `resume`, its partition goes on from the next record.
  bool DeadLettered(const orders::DeadLetter& letter, bool resume);
  // Before the partitions go (revoked, or stopping): copies on their way get
  // a few seconds, then the records not parked are left to the next reader.
  void GiveUpDeadLetters();
  // The record at `offset` is done: its progress is kept at the batch's end.
  void MarkDone(const PartitionKey& key, int64_t offset);
  // Ends the batch: the handler flushes, then the progress of what it made
  // durable is kept. False on an error (then recorded in failure_).
  bool CloseBatch();
  // kOwnPositions, at assignment: where `partition` starts, from the
  // handler's next offset and where its `log` starts and ends (a log replaced
  // or cut by retention under the store is found here).
  void StartFromStore(kafka::TopicPartition& partition,
                      const absl::StatusOr<kafka::Watermarks>& log);
  // The first record of a partition after assignment, at the offset in
  // verify_ if the log is the store's; false when the loop must stop.
  bool CheckResumePoint(const kafka::Message& message, int64_t expected);
  // Under kOwnPositions, warns when the assignment is not the whole topic.
  void SayPartOfTopic(const std::vector<kafka::TopicPartition>& partitions);
  // CloseBatch() under kOffsetsInTransaction: the transaction holds the
  // batch's offsets; after an abort the partitions rewind.
  bool CloseTransaction();
  void Fail(absl::Status status, bool by_handler);
  void LogLag(const char* what, kafka::LagFrom from);
  void LogLagIfDue();
  // With metrics: the lag per partition, each second.
  void MeasureLagIfDue();

  const LoopOptions options_;
  Handler& handler_;
  const Progress progress_;
  orders::DeadLetterQueue& dead_letters_;
  kafka::Consumer* consumer_ = nullptr;
  cli::HealthFile health_;
  absl::Time next_lag_log_ = absl::Now();
  absl::Time next_lag_metric_ = absl::Now();
  bool assigned_since_poll_ = false;  // Partitions arrived in the last Poll().
  bool revoking_ = false;             // Inside OnRevoke: nothing to rewind.

  kitchen::v1::Order order_;  // The order being read; reused.
  int batch_records_ = 0;     // Handled since the last flush,
  int64_t batch_bytes_ = 0;   // and their keys' and values' bytes.
  absl::Time batch_started_;
  // Offsets to keep at the batch's end: one past the last record done.
  absl::flat_hash_map<PartitionKey, int64_t> done_;
  // kOwnPositions: the next offset to accept per assigned partition (a record
  // below it is a replay): the handler's, plus what was done since.
  absl::flat_hash_map<PartitionKey, int64_t> next_;
  // kOwnPositions: per partition just assigned, the offset of the handler's
  // last record, read again first to check the log is the one it recorded.
  absl::flat_hash_map<PartitionKey, int64_t> verify_;
  // The partitions paused behind a poison record being parked: its offset, and
  // whether a later record of the partition was polled (and dropped).
  struct Parking {
    int64_t offset = 0;
    bool dropped = false;
  };
  absl::flat_hash_map<PartitionKey, Parking> parking_;
  // An error, possibly met inside a rebalance callback, reported by Run().
  absl::Status failure_;
  bool handler_failed_ = false;
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_LOOP_H_
