// File: kafka/message.h
//
// A record read from Kafka, owning its librdkafka message (RAII), with plain
// accessors.
//
// Usage:
//   absl::StatusOr<std::optional<Message>> polled = consumer->Poll(100);
//   if (polled.ok() && *polled) Handle((*polled)->value());

#ifndef KITCHEN_KAFKA_MESSAGE_H_
#define KITCHEN_KAFKA_MESSAGE_H_

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace kitchen::kafka {

// A record header. Kafka header values are bytes; kitchen headers are text.
struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const {
    rd_kafka_message_destroy(message);
  }
};

// A Message must be destroyed before the consumer that returned it:
// librdkafka's handle waits for its messages when it is destroyed.
class Message {
 public:
  explicit Message(rd_kafka_message_t* message) : message_(message) {}

  // "" for a consumer-level error, which has no topic (a group the brokers
  // refused us, all brokers down).
  std::string topic() const {
    return message_->rkt == nullptr ? "" : rd_kafka_topic_name(message_->rkt);
  }
  int32_t partition() const { return message_->partition; }
  int64_t offset() const { return message_->offset; }
  absl::string_view key() const {
    return {static_cast<const char*>(message_->key), message_->key_len};
  }
  absl::string_view value() const {
    return {static_cast<const char*>(message_->payload), message_->len};
  }
  // The record's timestamp (producer's create time or the broker's log append
  // time).
  absl::optional<absl::Time> timestamp() const;
  Headers headers() const;
  // Value of the last header named `name` (a later header overrides an
  // earlier).
  absl::optional<std::string> header(absl::string_view name) const;

 private:
  std::unique_ptr<rd_kafka_message_t, MessageDeleter> message_;
};

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_MESSAGE_H_
