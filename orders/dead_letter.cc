// File: orders/dead_letter.cc

#include "orders/dead_letter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kafka/client_errors.h"
#include "kafka/topic_name.h"
#include "logging/log.h"

namespace kitchen::orders {

kafka::Headers DeadLetterHeaders(const kafka::Message& message,
                                 const absl::Status& reason,
                                 absl::string_view consumer_group,
                                 const TraceContext& trace) {
  kafka::Headers headers = message.headers();
  // The original's traceparent gives way to the copy's (the same trace).
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [](const kafka::Header& header) {
                                 return header.name == kTraceparentHeader;
                               }),
                headers.end());
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
  headers.push_back({kTraceparentHeader, trace.header()});
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

// A record being parked: what its copy needs, and how its attempts went.
struct DeadLetterQueue::Pending {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  absl::Status reason;
  std::string key;
  std::string value;
  kafka::Headers headers;       // The original's and the dead-letter headers,
  size_t original_headers = 0;  // of which these first are the original's.
  // 0: whole; 1: without the value; 2: without key, value, original headers.
  int cut = 0;
  absl::Status cut_reason;
  bool in_flight = false;  // Queued, its delivery report not served yet.
  absl::optional<absl::Status> delivered;  // The report, until Poll() reads it.
  absl::Status last_error;
  absl::Time next_attempt = absl::InfinitePast();
  absl::Duration pause = absl::Seconds(1);

  std::string trace_id;

  std::string Where() const {
    return absl::StrCat(topic, "/", partition, "@", offset);
  }
  // For the log: where, and the record's trace.
  std::string WhereTraced() const {
    return absl::StrCat(Where(), " (trace ", trace_id, ")");
  }
};

DeadLetterQueue::DeadLetterQueue(std::string topic, std::string consumer_group)
    : topic_(std::move(topic)), consumer_group_(std::move(consumer_group)) {}

DeadLetterQueue::~DeadLetterQueue() = default;

absl::StatusOr<std::unique_ptr<DeadLetterQueue>> DeadLetterQueue::Create(
    const kafka::ClientConfig& config, std::string topic,
    std::string consumer_group) {
  std::unique_ptr<DeadLetterQueue> queue(
      new DeadLetterQueue(std::move(topic), std::move(consumer_group)));
  // The service's properties as its consumer has them, less those librdkafka
  // has for consumers only (a producer would warn about each). An attempt
  // ends within 30 s (librdkafka's default: 5 minutes), so that a copy
  // waiting is said in the log and the health file at that pace.
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      kafka::ForProducer(config), {{"acks", "all"},
                                   {"enable.idempotence", "true"},
                                   {"message.timeout.ms", "30000"}});
  if (!conf.ok()) return conf.status();
  DeadLetterQueue* raw = queue.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(*std::move(conf),
                              [raw](const kafka::Delivery& delivery) {
                                auto found = raw->pending_.find(delivery.token);
                                if (found == raw->pending_.end())
                                  return;  // Given up.
                                found->second->in_flight = false;
                                found->second->delivered = delivery.status;
                              });
  if (!producer.ok()) return producer.status();
  queue->producer_ = *std::move(producer);
  (void)queue->producer_->TopicHandle(
      queue->topic_);  // Metadata now, not later.
  return queue;
}

void DeadLetterQueue::Park(const kafka::Message& message,
                           const absl::Status& reason,
                           const TraceContext& trace) {
  auto pending = std::make_unique<Pending>();
  pending->topic = message.topic();
  pending->partition = message.partition();
  pending->offset = message.offset();
  pending->reason = reason;
  pending->key = std::string(message.key());
  pending->value = std::string(message.value());
  pending->headers = DeadLetterHeaders(message, reason, consumer_group_, trace);
  // The original's first, less its traceparent: up to the first of ours.
  pending->original_headers = static_cast<size_t>(
      std::find_if(pending->headers.begin(), pending->headers.end(),
                   [](const kafka::Header& header) {
                     return header.name == kDeadLetterReasonHeader;
                   }) -
      pending->headers.begin());
  pending->trace_id = std::string(trace.trace_id());
  const uint64_t token = next_token_++;
  Queue(token, *pending_.emplace(token, std::move(pending)).first->second);
}

void DeadLetterQueue::Queue(uint64_t token, Pending& pending) {
  pending.next_attempt = absl::InfiniteFuture();
  kafka::Headers headers;
  absl::string_view key = pending.key;
  absl::string_view value = pending.value;
  if (pending.cut == 0) {
    headers = pending.headers;
  } else {
    if (pending.cut == 1) {
      headers = pending.headers;
    } else {
      // The dead-letter headers only: the original's come first.
      headers.assign(pending.headers.begin() + pending.original_headers,
                     pending.headers.end());
      key = {};
    }
    value = {};
    headers.push_back({kDeadLetterCutHeader,
                       pending.cut == 1 ? "value" : "key,value,headers"});
    headers.push_back({kDeadLetterCutReasonHeader,
                       std::string(pending.cut_reason.message())});
    headers.push_back(
        {kDeadLetterValueSizeHeader, absl::StrCat(pending.value.size())});
    if (pending.cut == 2) {
      headers.push_back(
          {kDeadLetterKeySizeHeader, absl::StrCat(pending.key.size())});
    }
  }
  absl::Status queued = producer_->Send({topic_, key, value, &headers}, token);
  if (queued.ok()) {
    pending.in_flight = true;
  } else {
    // Refused before it was queued (too large for the producer, a full
    // queue): Poll() handles it as it would a failed delivery.
    pending.delivered = queued;
  }
}

absl::Status DeadLetterQueue::Failed(Pending& pending, absl::Status error) {
  pending.last_error = error;
  switch (kafka::ClassOf(error)) {
    case kafka::ErrorClass::kTransient:
      logging::Error(
          "bad record at %s could not be dead-lettered (%s); trying again in "
          "%s",
          pending.WhereTraced(), error.message(),
          absl::FormatDuration(pending.pause));
      pending.next_attempt = absl::Now() + pending.pause;
      pending.pause = std::min(pending.pause * 2, absl::Seconds(30));
      return absl::OkStatus();
    case kafka::ErrorClass::kPermanentForRecord:
      if (pending.cut < 2) {
        ++pending.cut;
        pending.cut_reason = error;
        logging::Warning(
            "bad record at %s cannot be dead-lettered whole (%s); sending it "
            "without its %s",
            pending.WhereTraced(), error.message(),
            pending.cut == 1 ? "value" : "key, value and original headers");
        pending.next_attempt = absl::InfinitePast();
        return absl::OkStatus();
      }
      break;
    case kafka::ErrorClass::kFatal:
      break;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "bad record at ", pending.Where(), " cannot be dead-lettered to ", topic_,
      " (", error.message(),
      "); it stays unconsumed, and so does its partition: create the "
      "dead-letter topic, or allow this client to write it, then start the "
      "service again"));
}

absl::Status DeadLetterQueue::Poll(std::vector<DeadLetter>& safe) {
  if (pending_.empty()) return absl::OkStatus();
  producer_->Poll(0);
  const absl::Time now = absl::Now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& pending = *it->second;
    if (pending.delivered.has_value()) {
      absl::Status delivered = *std::move(pending.delivered);
      pending.delivered.reset();
      if (delivered.ok()) {
        ++parked_;
        logging::Warning("bad record at %s sent to %s%s: %s",
                         pending.WhereTraced(), topic_,
                         pending.cut == 0   ? ""
                         : pending.cut == 1 ? " without its value"
                                            : " without its key, value and "
                                              "headers",
                         pending.reason.message());
        safe.push_back(
            {pending.topic, pending.partition, pending.offset, pending.reason});
        it = pending_.erase(it);
        continue;
      }
      if (absl::Status failed = Failed(pending, std::move(delivered));
          !failed.ok()) {
        return failed;
      }
    }
    if (!pending.in_flight && !pending.delivered.has_value() &&
        pending.next_attempt <= now) {
      Queue(it->first, pending);
      continue;  // A refusal is handled at once, on the same record.
    }
    ++it;
  }
  return absl::OkStatus();
}

void DeadLetterQueue::GiveUp(absl::Duration timeout,
                             std::vector<DeadLetter>& safe) {
  if (pending_.empty()) return;
  (void)producer_->Flush(timeout);
  for (auto& [token, pending] : pending_) {
    if (pending->delivered.has_value() && !pending->delivered->ok()) {
      pending->delivered.reset();  // Not retried now.
    }
  }
  (void)Poll(safe);
  producer_->Purge();
  producer_->Poll(0);
  for (const auto& [token, pending] : pending_) {
    logging::Warning(
        "bad record at %s not dead-lettered yet; whoever reads its partition "
        "next parks it",
        pending->WhereTraced());
  }
  pending_.clear();
}

std::vector<std::string> DeadLetterQueue::Waiting() const {
  std::vector<std::string> lines;
  const absl::Time now = absl::Now();
  for (const auto& [token, pending] : pending_) {
    std::string line =
        absl::StrCat("dead-letter copy of ", pending->Where(), " to ", topic_);
    if (!pending->last_error.ok()) {
      absl::StrAppend(&line, ": ", pending->last_error.message());
    }
    if (pending->in_flight) {
      absl::StrAppend(&line, ", on its way");
    } else if (pending->next_attempt > now &&
               pending->next_attempt != absl::InfiniteFuture()) {
      absl::StrAppend(&line, ", next attempt in ",
                      absl::FormatDuration(absl::Trunc(
                          pending->next_attempt - now, absl::Seconds(1))));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace kitchen::orders
