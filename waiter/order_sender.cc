// File: waiter/order_sender.cc

#include "waiter/order_sender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

absl::Status OrderSender::Place(absl::string_view pizza, int32_t table) {
  absl::Time now = absl::Now();
  auto name = pizza_names_.find(pizza);
  if (name == pizza_names_.end()) name = pizza_names_.emplace(pizza).first;
  pending_.push_back({orders::OrderId::New(), &*name, table, false, now});
  const uint64_t token = first_token_ + pending_.size() - 1;
  ++unanswered_;
  orders::EncodeOrderInto({pending_.back().order_id.view(), pizza, table, now},
                          record_);
  while (true) {
    absl::Status sent = producer_->Send(
        {topic_, record_.key, record_.value, &record_.headers}, token);
    if (sent.ok()) return sent;
    if (sent.code() != absl::StatusCode::kResourceExhausted) {
      pending_.pop_back();  // Still the last: nothing was placed meanwhile.
      --unanswered_;
      return sent;
    }
    Poll(10);  // The queue is full: let answers drain it.
  }
}

void OrderSender::Poll(int timeout_ms) {
  clock_read_ = false;
  producer_->Poll(timeout_ms);
}

void OrderSender::Finish(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (unanswered_ > 0 && absl::Now() < deadline) {
    Poll(static_cast<int>(std::min<int64_t>(
        100, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1)));
  }
  // Whatever is left will not be answered while we wait: say so, one by one.
  absl::Time now = absl::Now();
  const absl::Status not_answered = absl::DeadlineExceededError(
      absl::StrCat("not acknowledged within ", absl::FormatDuration(timeout)));
  for (const Pending& pending : pending_) {
    if (pending.answered) continue;
    PlacedOrder placed;
    placed.status = not_answered;
    placed.latency = now - pending.sent_at;
    Report(pending, placed);
  }
  // An answer that comes later is for a token before first_token_: ignored.
  first_token_ += pending_.size();
  pending_.clear();
  unanswered_ = 0;
}

void OrderSender::OnDelivery(const kafka::Delivery& delivery) {
  if (delivery.token < first_token_) return;  // Reported by Finish().
  const uint64_t index = delivery.token - first_token_;
  if (index >= pending_.size() || pending_[index].answered) return;
  Pending& pending = pending_[index];
  if (!clock_read_) {
    answers_served_at_ = absl::Now();
    clock_read_ = true;
  }
  pending.answered = true;
  --unanswered_;
  PlacedOrder placed;
  placed.status = delivery.status;
  placed.partition = delivery.partition;
  placed.offset = delivery.offset;
  placed.latency = answers_served_at_ - pending.sent_at;
  Report(pending, placed);
  while (!pending_.empty() && pending_.front().answered) {
    pending_.pop_front();
    ++first_token_;
  }
}

void OrderSender::Report(const Pending& pending, PlacedOrder& placed) {
  placed.order_id = pending.order_id.view();
  placed.pizza = *pending.pizza;
  placed.table = pending.table;
  placed.topic = topic_;
  if (on_result_) on_result_(placed);
}

}  // namespace kitchen::waiter
