// File: kafka/producer.h
//
// An RAII Kafka producer. It owns its librdkafka handle and, unlike
// librdkafka's own C++ API, flushes before destruction (bounded), so records
// handed to it are not dropped silently: whatever could not be delivered is
// reported through the delivery callback.
//
// Usage:
//   auto producer = Producer::Create(std::move(conf), OnDelivery);
//   (*producer)->Send({"pizza-order", "17", bytes, &headers}, token);
//   (*producer)->Poll(0);               // serves delivery callbacks
//   absl::Status flushed = (*producer)->Flush(absl::Seconds(10));

#ifndef KITCHEN_KAFKA_PRODUCER_H_
#define KITCHEN_KAFKA_PRODUCER_H_

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "kafka/message.h"

namespace kitchen::kafka {

// A record to send. Views: Send() copies what it needs.
struct OutgoingRecord {
  absl::string_view topic;
  absl::string_view key;
  absl::string_view value;
  const Headers* headers = nullptr;
};

// The broker's answer for one record: written at partition/offset, or failed.
struct Delivery {
  absl::Status status;
  bool purged = false;  // Failed because Purge() took the record back.
  int32_t partition = -1;
  int64_t offset = -1;  // -1: not written, or the broker did not say where.
  uint64_t token = 0;   // The caller's token given to Send().
  // The record's value as sent; valid during the callback only.
  absl::string_view value;
  // The value of the record's last header named `name` as sent, or nullopt;
  // valid during the callback only.
  absl::optional<absl::string_view> header(const char* name) const;
  const rd_kafka_message_t* message = nullptr;  // The record, for header().
};

class Producer {
 public:
  using DeliveryCallback = std::function<void(const Delivery&)>;

  // Creates a producer from a built configuration. `on_delivery` runs on the
  // thread that calls Poll() or Flush(), once per record sent.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      ConfPtr conf, DeliveryCallback on_delivery);

  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // Flushes for at most the configured close timeout, then destroys the handle.
  ~Producer();

  // Queues one record. ResourceExhausted means librdkafka's local queue is
  // full: Poll() and try again. Any other error means the record will never be
  // sent.
  absl::Status Send(const OutgoingRecord& record, uint64_t token);

  // Serves delivery callbacks, waiting at most `timeout_ms`.
  void Poll(int timeout_ms);

  // Waits until every queued record is delivered or failed. Fails with
  // DeadlineExceeded, naming how many are left, if `timeout` passes first.
  absl::Status Flush(absl::Duration timeout);

  // Records queued or in flight.
  int InFlight() const;

  // Takes back every record not yet answered: each is reported failed
  // (Delivery::purged) at the next Poll(). Whether a broker wrote the ones
  // already on their way stays unknown.
  void Purge();

  // The handle of `topic`, made once: looking a topic up by name on every send
  // costs a lock and a hash in librdkafka. Call it right after Create() for the
  // topics a producer will use: librdkafka 2.0.2 learns the metadata of a topic
  // first named later only at its next topic scan, which delays that first
  // record by up to a second.
  rd_kafka_topic_t* TopicHandle(absl::string_view topic);

  // How long the destructor waits for records in flight.
  void set_close_timeout(absl::Duration timeout) { close_timeout_ = timeout; }

 private:
  explicit Producer(DeliveryCallback on_delivery)
      : on_delivery_(std::move(on_delivery)) {}
  static void OnDeliveryReport(rd_kafka_t* handle,
                               const rd_kafka_message_t* message, void* opaque);

  DeliveryCallback on_delivery_;
  absl::Duration close_timeout_ = absl::Seconds(10);
  // Destroyed in ~Producer, before the handle they belong to.
  absl::node_hash_map<std::string, rd_kafka_topic_t*> topics_;
  absl::string_view last_topic_name_;  // A key of topics_.
  rd_kafka_topic_t* last_topic_ = nullptr;
  HandlePtr handle_;
};

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_PRODUCER_H_
