// File: orders/dead_letter.cc

#include "orders/dead_letter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "kafka/topic_name.h"
#include "logging/log.h"

namespace kitchen::orders {

kafka::Headers DeadLetterHeaders(const kafka::Message& message,
                                 const absl::Status& reason,
                                 absl::string_view consumer_group) {
  kafka::Headers headers = message.headers();
  headers.push_back({kDeadLetterReasonHeader, std::string(reason.message())});
  headers.push_back({kDeadLetterTopicHeader, message.topic()});
  headers.push_back(
      {kDeadLetterPartitionHeader, absl::StrCat(message.partition())});
  headers.push_back({kDeadLetterOffsetHeader, absl::StrCat(message.offset())});
  if (absl::optional<absl::Time> timestamp = message.timestamp()) {
    headers.push_back({kDeadLetterTimestampHeader,
                       absl::StrCat(absl::ToUnixMillis(*timestamp))});
  }
  headers.push_back({kDeadLetterGroupHeader, std::string(consumer_group)});
  return headers;
}

absl::Status ValidateTopics(absl::string_view topic,
                            absl::string_view dead_letter_topic) {
  if (absl::Status valid = kafka::ValidateTopicName(topic); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("topic: ", valid.message()));
  }
  if (absl::Status valid = kafka::ValidateTopicName(dead_letter_topic);
      !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead-letter topic: ", valid.message()));
  }
  if (topic == dead_letter_topic) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the dead-letter topic must not be the topic it serves (\"", topic,
        "\"): a poison record would come back forever"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DeadLetterQueue>> DeadLetterQueue::Create(
    const kafka::ClientConfig& config, std::string topic,
    std::string consumer_group) {
  std::unique_ptr<DeadLetterQueue> queue(
      new DeadLetterQueue(std::move(topic), std::move(consumer_group)));
  // The service's properties as its consumer has them, less those librdkafka
  // has for consumers only (a producer would warn about each).
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(kafka::ForProducer(config),
                       {{"acks", "all"}, {"enable.idempotence", "true"}});
  if (!conf.ok()) return conf.status();
  DeadLetterQueue* raw = queue.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(*std::move(conf),
                              [raw](const kafka::Delivery& delivery) {
                                raw->last_delivery_ = delivery.status;
                              });
  if (!producer.ok()) return producer.status();
  queue->producer_ = *std::move(producer);
  (void)queue->producer_->TopicHandle(
      queue->topic_);  // Metadata now, not later.
  return queue;
}

absl::Status DeadLetterQueue::Send(const kafka::Message& message,
                                   const absl::Status& reason,
                                   absl::Duration timeout) {
  kafka::Headers headers = DeadLetterHeaders(message, reason, consumer_group_);
  last_delivery_ = absl::UnknownError("no delivery report");
  absl::Status queued = producer_->Send(
      {topic_, message.key(), message.value(), &headers}, /*token=*/0);
  if (!queued.ok()) return queued;
  if (absl::Status flushed = producer_->Flush(timeout); !flushed.ok()) {
    return flushed;
  }
  return last_delivery_;
}

absl::Status DeadLetterQueue::SendPatiently(const kafka::Message& message,
                                            const absl::Status& reason,
                                            absl::Notification& stop) {
  absl::Duration pause = absl::Seconds(1);
  while (true) {
    absl::Status sent = Send(message, reason);
    if (sent.ok()) {
      ++parked_;
      logging::Warning("bad record at %s/%d@%d sent to %s: %s", message.topic(),
                       message.partition(), message.offset(), topic_,
                       reason.message());
      return sent;
    }
    logging::Error(
        "bad record at %s/%d@%d could not be dead-lettered (%s); trying again "
        "in %s",
        message.topic(), message.partition(), message.offset(), sent.message(),
        absl::FormatDuration(pause));
    if (stop.WaitForNotificationWithTimeout(pause)) {
      return absl::CancelledError("stopped before the bad record was parked");
    }
    pause = std::min(pause * 2, absl::Seconds(30));
  }
}

}  // namespace kitchen::orders
