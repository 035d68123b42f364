// File: kafka/topic_reader.h
//
// A reader of a whole topic outside any consumer group: every partition is
// assigned at once (no group, no rebalance, nothing committed), starting from
// the earliest record or from the end as it is when the reader is made, with
// the isolation level the caller chooses. What a waiter that waits for its
// pizza and a test that looks at order-status need:
//  - from the end, resolved before Create() returns (the end offsets are asked
//    of the brokers, not left to librdkafka's lazy OFFSET_END), so that a
//    record produced after Create() returned is never missed;
//  - read_committed (isolation.level, the default here) or read_uncommitted:
//    the latter also sees the records of open and aborted transactions;
//  - CaughtUp(): whether everything the topic held at a moment has been read
//    (for read_committed: up to each partition's last stable offset), so that
//    "no more of them" is a condition to wait for, not a sleep.
//
// Usage:
//   auto reader = TopicReader::Create(config, "order-status",
//                                     TopicReader::Start::kEnd,
//                                     Isolation::kReadCommitted);
//   auto ends = (*reader)->EndOffsets();
//   while (!(*reader)->CaughtUp(*ends)) {
//     auto polled = (*reader)->Poll(100);
//     if (polled.ok() && *polled) Use(**polled);
//   }

#ifndef KITCHEN_KAFKA_TOPIC_READER_H_
#define KITCHEN_KAFKA_TOPIC_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "kafka/message.h"

namespace kitchen::kafka {

enum class Isolation { kReadCommitted, kReadUncommitted };

class TopicReader {
 public:
  enum class Start { kEarliest, kEnd };
  // Per partition, an offset (the next to read, or an end).
  using Offsets = std::map<int32_t, int64_t>;

  // Assigns every partition of `topic` at `start`. NotFound when the topic
  // does not exist; Unavailable when the brokers do not answer within
  // `timeout`.
  static absl::StatusOr<std::unique_ptr<TopicReader>> Create(
      const ClientConfig& config, const std::string& topic, Start start,
      Isolation isolation, absl::Duration timeout = absl::Seconds(10));

  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // The next record, or nullopt when none arrived within `timeout_ms`
  // (transient errors, a broker away, are retried by librdkafka and also give
  // nullopt); an error only when the reader cannot go on.
  absl::StatusOr<absl::optional<Message>> Poll(int timeout_ms);

  // Each partition's end as of now: its high watermark, or for read_committed
  // its last stable offset (the brokers answer at the reader's isolation
  // level).
  absl::StatusOr<Offsets> EndOffsets(
      absl::Duration timeout = absl::Seconds(10));

  // Whether every partition has been read up to `ends` (from EndOffsets()).
  bool CaughtUp(const Offsets& ends) const;

  const std::string& topic() const { return topic_; }
  int partitions() const { return static_cast<int>(next_.size()); }

 private:
  TopicReader() = default;

  HandlePtr handle_;
  std::string topic_;
  // Where each partition's reading has got to: past the last record returned,
  // or where librdkafka said the partition ended (past control records,
  // which it never returns).
  Offsets next_;
};

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_TOPIC_READER_H_
