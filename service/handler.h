// File: service/handler.h
//
// What a consumer service is made of besides the skeleton every consumer
// shares (service/loop.h, service/consumer_service.h): a Handler, given each
// order read from its consumer group's share of the topic, already decoded and
// valid (records that are not orders never reach it: they go to the
// dead-letter topic). The handler also says how its progress is kept (which
// records it has done, so that a restart or a rebalance goes on from there),
// choosing among the ways the loop offers:
//  - kStoredOffsets, at-least-once (the cook): a record's offset is stored
//    once the handler is done with it, and committed from there (every 200 ms,
//    on revoke, on close); a record not done is handled again by whoever gets
//    its partition.
//  - kOwnPositions, exactly-once into the handler's own store (the manager's
//    ledger): each record's position is kept with its data. Every assigned
//    partition starts at the handler's NextOffset(), never at Kafka's
//    committed offset; a record below it (a replay) is skipped before it is
//    decoded; offsets are stored only once Flush() made the records durable,
//    and serve lag monitoring only.
//  - kOffsetsInTransaction, exactly-once into Kafka (the cook once it publishes
//    order events): a batch's offsets go in the Kafka transaction that holds
//    what the handler published for it, so both land or neither does. It
//    follows the loop's batches: a transaction begun when a batch opens, the
//    handler publishing through the service's transactional producer, and at
//    the batch's close Flush(), then the batch's offsets sent with the group's
//    metadata and the transaction committed; an abort rewinds the batch's
//    partitions to their committed offsets. Not implemented yet: the loop
//    refuses it (Unimplemented).
//  - kNone, a watcher (the board): nothing is kept or committed; it reads from
//    where its group's auto.offset.reset says.
//
// Usage:
//   class Cook : public service::Handler {
//    public:
//     service::Progress progress() const override {
//       return service::Progress::kStoredOffsets;
//     }
//     absl::Status Handle(const kitchen::v1::Order& order,
//                         const service::Position& at,
//                         absl::Notification& stop) override;
//     std::string Summary() const override;
//   };

#ifndef KITCHEN_SERVICE_HANDLER_H_
#define KITCHEN_SERVICE_HANDLER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/types/optional.h"
#include "kafka/consumer.h"
#include "orders/trace_context.h"
#include "proto/order.pb.h"

namespace kitchen::service {

// How a handler's progress is kept (see the top of this file).
enum class Progress {
  kStoredOffsets,
  kOwnPositions,
  kOffsetsInTransaction,
  kNone,
};

// Where a record was read. `topic` and `trace` are valid during the call only.
struct Position {
  absl::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  // Handle(): this service's context in the record's trace (its traceparent
  // continued with a span id of the service's own, or a new trace when it had
  // none valid), for its log lines and what it writes about the order. Null
  // elsewhere, and from callers that do not trace.
  const orders::TraceContext* trace = nullptr;
};

class Handler {
 public:
  virtual ~Handler() = default;

  virtual Progress progress() const = 0;

  // Handles one order, read at `at`. OK: done, its progress is kept at the
  // batch's end. Cancelled: abandoned because `stop` was notified; the loop
  // stops without marking it done, so it is handled again later (by this
  // service's next run or by whoever gets the partition). Any other error
  // stops the loop at once, with nothing kept past what Flush() made durable.
  virtual absl::Status Handle(const kitchen::v1::Order& order,
                              const Position& at, absl::Notification& stop) = 0;

  // Makes durable what was handled since the last Flush(); only then does the
  // loop keep those records' progress. Called when a batch ends (LoopOptions),
  // before a poison record is dead-lettered (nothing after an unkept record may
  // be kept), before partitions are revoked, and at shutdown. An error stops
  // the loop as Handle()'s does.
  virtual absl::Status Flush() { return absl::OkStatus(); }

  // A record that is not an order was parked on the dead-letter topic (its
  // copy acknowledged), at `at`. kOwnPositions: a handler whose store must
  // remember every position it took (or the record is parked again whenever
  // the partition is next assigned) records it here, durably before
  // returning. An error stops the loop as Handle()'s does, with the record
  // not marked done.
  virtual absl::Status OnDeadLettered(const Position& at,
                                      const absl::Status& reason) {
    return absl::OkStatus();
  }

  // kOwnPositions: the offset an assigned partition starts at, one past the
  // last the handler's store holds; nullopt when it holds none (the partition
  // then starts at the earliest record the topic still has).
  virtual absl::optional<int64_t> NextOffset(const std::string& topic,
                                             int32_t partition) const {
    return absl::nullopt;
  }

  // kOwnPositions: whether the record at the last position the store holds
  // for a partition (NextOffset() - 1), read again at assignment, is the one
  // the store recorded there: `order` is it decoded, null when it is not an
  // order. An error (saying what differs) means the partition's log was
  // replaced since the store was written (topic re-created, broker data
  // lost); the loop stops, as on Handle()'s errors.
  virtual absl::Status CheckResumePoint(const Position& at,
                                        const kitchen::v1::Order* order) const {
    return absl::OkStatus();
  }
  // kOwnPositions: what the store is, for the loop's errors ("ledger
  // ledger.jsonl").
  virtual std::string StoreName() const { return "the handler's store"; }

  // Hooks, each called on the thread that runs the loop and closes its
  // consumer, like everything above.
  // Partitions arrived, each with the offset it starts at (kCommittedOffset:
  // the group's committed offset).
  virtual void OnAssigned(
      const std::vector<kafka::TopicPartition>& partitions) {}
  // kOwnPositions: the partitions of the topic the last assignment did not
  // give this member (empty: it has the whole topic), so another member of the
  // group has them; the loop has logged a warning.
  virtual void OnPartOfTopic(
      const std::vector<kafka::TopicPartition>& lacking) {}
  // Partitions are going (`lost`: already someone else's), after the batch
  // holding their records was flushed and kept.
  virtual void OnRevoked(const std::vector<kafka::TopicPartition>& partitions,
                         bool lost) {}
  // A poll found nothing waiting (after the open batch, if any, was closed).
  virtual void OnIdle() {}
  // The loop measured the lag per partition (LoopOptions::log_lag): at
  // assignment, every lag interval, and at shutdown.
  virtual void OnLag(const std::vector<kafka::PartitionLag>& lags) {}

  // What it did, for the service's stop line: "12 cooked".
  virtual std::string Summary() const = 0;
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_HANDLER_H_
