// File: orders/dead_letter.h
//
// Dead letters: a record the kitchen cannot treat as an order (bytes that do
// not parse, no pizza, table <= 0) is copied to pizza-order.dlq with its
// original key, value and headers, plus headers saying why and where it came
// from, so that a consumer never crashes or stalls on it. The header names
// follow Kafka Connect's (`__connect.errors.*`) in spirit, under a kitchen
// prefix:
//   dlq-reason              why it is not an order
//   dlq-original-topic      where it was read: topic, partition, offset,
//   dlq-original-partition
//   dlq-original-offset
//   dlq-original-timestamp  and its timestamp (ms since the epoch)
//   dlq-consumer-group      the group that rejected it
// A copy that can never be written whole (too large once the headers are
// added: a record just under the limit) is sent cut, once: first without its
// value, then also without its key and original headers, saying so:
//   dlq-cut                   what was left out: "value" or "key,value,headers"
//   dlq-cut-reason            why (the producer's or the broker's error)
//   dlq-original-value-size   the value's size in bytes
//   dlq-original-key-size     the key's, when it was cut too
//
// Parking is asynchronous, so that a consumer goes on with its other
// partitions while a copy waits: Park() queues the copy and returns; Poll(),
// called on every turn of the consumer loop, serves the delivery reports and
// says which records are now safe. Errors are handled by their class
// (kafka/client_errors.h): a transient one is retried with a growing pause
// (1 s to 30 s), a copy never queued again before the previous one's delivery
// report (so a slow broker never gets two); one permanent for the record cuts
// the copy as above; a fatal one (the dead-letter topic missing, not allowed
// to write it) is Poll()'s error: the service stops, saying what to do.
//
// Usage:
//   auto dead_letters =
//       DeadLetterQueue::Create(kafka_config, "pizza-order.dlq", "cook");
//   (*dead_letters)->Park(message, reason, trace);
//   std::vector<DeadLetter> safe;
//   absl::Status fatal = (*dead_letters)->Poll(safe);
//   for (const DeadLetter& letter : safe) StoreOffset(letter...);  // only now

#ifndef KITCHEN_ORDERS_DEAD_LETTER_H_
#define KITCHEN_ORDERS_DEAD_LETTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/message.h"
#include "kafka/producer.h"
#include "orders/trace_context.h"

namespace kitchen::orders {

inline constexpr char kDeadLetterReasonHeader[] = "dlq-reason";
inline constexpr char kDeadLetterTopicHeader[] = "dlq-original-topic";
inline constexpr char kDeadLetterPartitionHeader[] = "dlq-original-partition";
inline constexpr char kDeadLetterOffsetHeader[] = "dlq-original-offset";
inline constexpr char kDeadLetterTimestampHeader[] = "dlq-original-timestamp";
inline constexpr char kDeadLetterGroupHeader[] = "dlq-consumer-group";

// The topic a consumer reads and the dead-letter topic it parks poison records
// on: both valid Kafka topic names, and not the same topic (a poison record
// would come back to its consumer forever). InvalidArgument says which is
// wrong and why.
absl::Status ValidateTopics(absl::string_view topic,
                            absl::string_view dead_letter_topic);

// The original record's headers (less its traceparent) followed by the
// dead-letter headers and the copy's traceparent: `trace`, the parking
// service's continuation of the record's trace (orders/trace_context.h), kept
// even when a copy too big is cut to the dead-letter headers.
kafka::Headers DeadLetterHeaders(const kafka::Message& message,
                                 const absl::Status& reason,
                                 absl::string_view consumer_group,
                                 const TraceContext& trace);

inline constexpr char kDeadLetterCutHeader[] = "dlq-cut";
inline constexpr char kDeadLetterCutReasonHeader[] = "dlq-cut-reason";
inline constexpr char kDeadLetterValueSizeHeader[] = "dlq-original-value-size";
inline constexpr char kDeadLetterKeySizeHeader[] = "dlq-original-key-size";

// A record whose copy is safe on the dead-letter topic.
struct DeadLetter {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  absl::Status reason;  // Why it is not an order.
};

class DeadLetterQueue {
 public:
  static absl::StatusOr<std::unique_ptr<DeadLetterQueue>> Create(
      const kafka::ClientConfig& config, std::string topic,
      std::string consumer_group);

  ~DeadLetterQueue();

  // Starts parking `message` for `reason` (what it needs is copied: `message`
  // may go). Its copy is queued at once; Poll() says when it is safe.
  // `trace`: the service's context for the record (its log lines name it;
  // the copy carries it as its traceparent).
  void Park(const kafka::Message& message, const absl::Status& reason,
            const TraceContext& trace);

  // Serves delivery reports and queues the retries that are due. Appends to
  // `safe` every record whose copy is now acknowledged (logged once, and
  // counted). An error: a record cannot be parked and waiting would not help
  // (fatal, kafka::ErrorClass): the caller must stop.
  absl::Status Poll(std::vector<DeadLetter>& safe);

  // Waits at most `timeout` for the copies on their way (those acknowledged
  // meanwhile are appended to `safe`), then forgets every record not safe:
  // they come again to whoever next reads their partitions. For a revocation
  // or a stop. A copy still unanswered is taken back from the producer; should
  // the broker have written it all the same, that record is parked twice.
  void GiveUp(absl::Duration timeout, std::vector<DeadLetter>& safe);

  // Records being parked, not safe yet.
  bool empty() const { return pending_.empty(); }
  // One line per record being parked: "dead-letter copy of pizza-order/2@17:
  // <last error>, next attempt in 4s" (for the health file).
  std::vector<std::string> Waiting() const;

  // Records parked so far.
  int64_t parked() const { return parked_; }

 private:
  struct Pending;
  DeadLetterQueue(std::string topic, std::string consumer_group);
  // Queues the copy of `pending` (cut as its `cut` says), or notes why not.
  void Queue(uint64_t token, Pending& pending);
  // After a failed attempt: retry later, cut, or fail for good.
  absl::Status Failed(Pending& pending, absl::Status error);

  std::string topic_;
  std::string consumer_group_;
  uint64_t next_token_ = 1;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  int64_t parked_ = 0;
  std::unique_ptr<kafka::Producer> producer_;
};

}  // namespace kitchen::orders

#endif  // KITCHEN_ORDERS_DEAD_LETTER_H_
