// File: waiter/order_sender.cc

#include "waiter/order_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "orders/order_record.h"

namespace kitchen::waiter {

kafka::Properties WaiterProducerDefaults(absl::Duration delivery_timeout) {
  return {
      // Exactly one copy of each order in the log, in the order placed, even
      // when
      // librdkafka retries: the idempotent producer (which implies acks=all).
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // One millisecond of batching: under load the queue fills batches anyway
      // (measured: as fast as 5 ms, twice as fast as 0), and an order waits at
      // most 1 ms for company. lz4 is cheap to compress and to decompress.
      {"linger.ms", "1"},
      {"batch.num.messages", "10000"},
      {"compression.type", "lz4"},
      // An order not acknowledged within this time is reported failed
      // (librdkafka's
      // default is 5 minutes: far too long for a person at a terminal).
      {"message.timeout.ms",
       absl::StrCat(absl::ToInt64Milliseconds(delivery_timeout))},
  };
}

absl::StatusOr<std::unique_ptr<OrderSender>> OrderSender::Create(
    const kafka::ClientConfig& config, std::string topic,
    absl::Duration delivery_timeout, ResultCallback on_result) {
  std::unique_ptr<OrderSender> sender(
      new OrderSender(std::move(topic), std::move(on_result)));
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(config, WaiterProducerDefaults(delivery_timeout));
  if (!conf.ok()) return conf.status();
  OrderSender* raw = sender.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(*std::move(conf),
                              [raw](const kafka::Delivery& delivery) {
                                raw->OnDelivery(delivery);
                              });
  if (!producer.ok()) return producer.status();
  sender->producer_ = *std::move(producer);
  // Known from the start, or the first order may wait up to a second for
  // metadata (see Producer::TopicHandle).
  if (sender->producer_->TopicHandle(sender->topic_) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use topic \"", sender->topic_, "\""));
  }
  // Finish() decides how long to wait; the destructor should not wait again.
  sender->producer_->set_close_timeout(absl::ZeroDuration());
  return sender;
}

absl::Status OrderSender::Place(kitchen::v1::Order order, absl::Time sent_at) {
  orders::EncodeOrderInto(order, record_);
  uint64_t token = next_token_++;
  pending_[token] = {std::move(order), sent_at};
  while (true) {
    absl::Status sent = producer_->Send(
        {topic_, record_.key, record_.value, &record_.headers}, token);
    if (sent.ok()) return sent;
    if (sent.code() != absl::StatusCode::kResourceExhausted) {
      pending_.erase(token);
      return sent;
    }
    producer_->Poll(10);  // The queue is full: let deliveries drain it.
  }
}

void OrderSender::Finish(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!pending_.empty() && absl::Now() < deadline) {
    producer_->Poll(static_cast<int>(std::min<int64_t>(
        100, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1)));
  }
  // Whatever is left will not be acknowledged while we wait: say so, one by
  // one.
  for (auto& [token, pending] : pending_) {
    PlacedOrder placed;
    placed.order = std::move(pending.order);
    placed.topic = topic_;
    placed.status = absl::DeadlineExceededError(absl::StrCat(
        "not acknowledged within ", absl::FormatDuration(timeout)));
    placed.latency = absl::Now() - pending.sent_at;
    if (on_result_) on_result_(placed);
  }
  pending_.clear();
}

void OrderSender::OnDelivery(const kafka::Delivery& delivery) {
  auto found = pending_.find(delivery.token);
  if (found == pending_.end()) return;  // Already reported by Finish().
  PlacedOrder placed;
  placed.order = std::move(found->second.order);
  placed.status = delivery.status;
  placed.topic = topic_;
  placed.partition = delivery.partition;
  placed.offset = delivery.offset;
  placed.latency = absl::Now() - found->second.sent_at;
  pending_.erase(found);
  if (on_result_) on_result_(placed);
}

}  // namespace kitchen::waiter
