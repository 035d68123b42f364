// File: kafka/producer.cc

#include "kafka/producer.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kafka/client_errors.h"

namespace kitchen::kafka {

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(
    ConfPtr conf, DeliveryCallback on_delivery) {
  std::unique_ptr<Producer> producer(new Producer(std::move(on_delivery)));
  rd_kafka_conf_set_opaque(conf.get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::OnDeliveryReport);
  InstallErrorLogger(conf.get());
  char error[512];
  // rd_kafka_new takes ownership of the configuration only when it succeeds.
  rd_kafka_t* handle =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error));
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka producer: ", error));
  }
  conf.release();
  producer->handle_.reset(handle);
  return producer;
}

Producer::~Producer() {
  if (handle_ == nullptr) return;
  // librdkafka would drop whatever is still queued; give it a bounded chance,
  // and let the delivery callback report what is left as failed.
  rd_kafka_flush(handle_.get(),
                 static_cast<int>(absl::ToInt64Milliseconds(close_timeout_)));
  Purge();
  rd_kafka_poll(handle_.get(), 0);
  for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
}

rd_kafka_topic_t* Producer::TopicHandle(absl::string_view topic) {
  // A producer sends to one topic most of the time: remember the last one.
  if (last_topic_ != nullptr && topic == last_topic_name_) return last_topic_;
  auto found = topics_.find(topic);
  if (found == topics_.end()) {
    std::string name(topic);
    rd_kafka_topic_t* handle =
        rd_kafka_topic_new(handle_.get(), name.c_str(), nullptr);
    if (handle == nullptr) return nullptr;
    found = topics_.emplace(std::move(name), handle).first;
  }
  last_topic_name_ = found->first;  // Stable: a node of topics_.
  last_topic_ = found->second;
  return last_topic_;
}

absl::Status Producer::Send(const OutgoingRecord& record, uint64_t token) {
  rd_kafka_headers_t* headers = nullptr;
  if (record.headers != nullptr && !record.headers->empty()) {
    headers = rd_kafka_headers_new(record.headers->size());
    for (const Header& header : *record.headers) {
      rd_kafka_header_add(
          headers, header.name.data(), static_cast<ssize_t>(header.name.size()),
          header.value.data(), static_cast<ssize_t>(header.value.size()));
    }
  }
  rd_kafka_topic_t* topic = TopicHandle(record.topic);
  if (topic == nullptr) {
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    return ErrorToStatus(rd_kafka_last_error(),
                         absl::StrCat("cannot use topic ", record.topic));
  }
  rd_kafka_resp_err_t error = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_RKT(topic),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()),
                       record.value.size()),
      RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(token)), RD_KAFKA_V_END);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  // On failure the headers were not taken over.
  if (headers != nullptr) rd_kafka_headers_destroy(headers);
  if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return absl::ResourceExhaustedError("producer queue is full");
  }
  return ErrorToStatus(error,
                       absl::StrCat("cannot send to topic ", record.topic));
}

void Producer::Poll(int timeout_ms) {
  rd_kafka_poll(handle_.get(), timeout_ms);
}

absl::Status Producer::Flush(absl::Duration timeout) {
  rd_kafka_flush(handle_.get(),
                 static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  int left = InFlight();
  if (left > 0) {
    return absl::DeadlineExceededError(
        absl::StrCat(left, " record(s) still undelivered after ",
                     absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

int Producer::InFlight() const { return rd_kafka_outq_len(handle_.get()); }

void Producer::Purge() {
  rd_kafka_purge(handle_.get(),
                 RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

absl::optional<absl::string_view> Delivery::header(const char* name) const {
  if (message == nullptr) return absl::nullopt;
  rd_kafka_headers_t* headers = nullptr;
  // librdkafka keeps a produced record's headers until its report is served.
  if (rd_kafka_message_headers(message, &headers) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      headers == nullptr) {
    return absl::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::nullopt;
  }
  if (value == nullptr) return absl::string_view();
  return absl::string_view(static_cast<const char*>(value), size);
}

void Producer::OnDeliveryReport(rd_kafka_t* /*handle*/,
                                const rd_kafka_message_t* message,
                                void* opaque) {
  auto* producer = static_cast<Producer*>(opaque);
  Delivery delivery;
  delivery.token = reinterpret_cast<uint64_t>(message->_private);
  delivery.partition = message->partition;
  // librdkafka's negative offsets (-1001 for none, ...) all mean "unknown".
  delivery.offset = message->offset >= 0 ? message->offset : -1;
  delivery.value = {static_cast<const char*>(message->payload), message->len};
  delivery.message = message;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivery.status = ErrorToStatus(message->err, "delivery failed");
    delivery.purged = message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                      message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  }
  if (producer->on_delivery_) producer->on_delivery_(delivery);
}

}  // namespace kitchen::kafka
