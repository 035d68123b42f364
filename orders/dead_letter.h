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
//
// Usage:
//   auto dead_letters =
//       DeadLetterQueue::Create(kafka_config, "pizza-order.dlq", "cook");
//   absl::Status sent = (*dead_letters)->Send(message, reason);
//   if (sent.ok()) consumer->StoreOffset(message);   // only then move past it

#ifndef KITCHEN_ORDERS_DEAD_LETTER_H_
#define KITCHEN_ORDERS_DEAD_LETTER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/message.h"
#include "kafka/producer.h"

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

// The original record's headers followed by the dead-letter headers.
kafka::Headers DeadLetterHeaders(const kafka::Message& message,
                                 const absl::Status& reason,
                                 absl::string_view consumer_group);

// A producer for dead letters. Send() waits for the broker's acknowledgement,
// so that the caller commits past a bad record only once its copy is safe.
class DeadLetterQueue {
 public:
  static absl::StatusOr<std::unique_ptr<DeadLetterQueue>> Create(
      const kafka::ClientConfig& config, std::string topic,
      std::string consumer_group);

  // Copies `message` with the reason; waits at most `timeout` for the broker.
  absl::Status Send(const kafka::Message& message, const absl::Status& reason,
                    absl::Duration timeout = absl::Seconds(30));

  // Sends until the copy is safe, retrying with a growing pause (at most 30 s)
  // while the cluster will not take it, so that the caller never moves past a
  // bad record that is not parked. Cancelled if `stop` is notified first.
  // Logs the parked record once, and counts it.
  absl::Status SendPatiently(const kafka::Message& message,
                             const absl::Status& reason,
                             absl::Notification& stop);

  // Records parked by SendPatiently().
  int64_t parked() const { return parked_; }

 private:
  DeadLetterQueue(std::string topic, std::string consumer_group)
      : topic_(std::move(topic)), consumer_group_(std::move(consumer_group)) {}

  std::string topic_;
  std::string consumer_group_;
  absl::Status last_delivery_;
  int64_t parked_ = 0;
  std::unique_ptr<kafka::Producer> producer_;
};

}  // namespace kitchen::orders

#endif  // KITCHEN_ORDERS_DEAD_LETTER_H_
