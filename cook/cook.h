// File: cook/cook.h
//
// The cook: a handler (service/handler.h) that cooks each order for the
// preparation time and announces its progress on order-status
// (orders/order_event.h, README "Order events"):
//  - COOKING when it starts, by a plain idempotent producer: visible at once,
//    one per attempt (an order whose cook dies mid-way is cooked again by
//    whoever gets its partition: at-least-once cooking);
//  - READY when done, in the Kafka transaction that also holds the batch's
//    consumed offsets (kOffsetsInTransaction: the loop commits it at the
//    batch's end), so a read_committed reader sees one READY per order on
//    real Kafka;
//  - ABANDONED when it stops while cooking (the order is not done).
// Orders of one table share a partition and are cooked in the order placed.
// Each is also logged as it starts (`cooking ...`) and when it is ready
// (`ready: ...`), for people. Events and log lines carry the order's trace
// (orders/trace_context.h): each event a traceparent header with the cook's
// span, each line the trace id.
//
// Usage:
//   auto cook = Cook::Create(options, kafka_config, transactional_producer);
//   absl::Status cooked = (*cook)->Handle(order, {"pizza-order", 3, 12}, stop);
//   // OK: ready (in the open transaction); Cancelled: abandoned.

#ifndef KITCHEN_COOK_COOK_H_
#define KITCHEN_COOK_COOK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "orders/trace_context.h"
#include "proto/order.pb.h"
#include "service/handler.h"
#include "service/metrics.h"
#include "service/transaction.h"

namespace kitchen::cook {

struct CookOptions {
  absl::Duration prep_time = absl::Seconds(2);
  std::string cook_id;  // Names the cook in its events.
  std::string status_topic = "order-status";
  // TEST HOOK (--test_hold_transaction): how long to keep each batch's
  // transaction open, READY sent, before it is committed, so that a test can
  // kill a cook inside an open transaction for certain. Zero in production.
  absl::Duration hold_transaction = absl::ZeroDuration();
};

class Cook : public service::Handler {
 public:
  // `transaction` (READY's producer) must outlive the cook; `kafka` is the
  // user's configuration, for the producer of COOKING and ABANDONED.
  // `metrics` (may be null) gets the cook's own (README "Metrics") and must
  // outlive it.
  static absl::StatusOr<std::unique_ptr<Cook>> Create(
      CookOptions options, const kafka::ClientConfig& kafka,
      service::TransactionalProducer* transaction,
      service::Metrics* metrics = nullptr);

  service::Progress progress() const override {
    return service::Progress::kOffsetsInTransaction;
  }

  // COOKING, cooks `order` for the preparation time, READY. Cancelled if
  // `stop` is notified meanwhile: the order is abandoned (ABANDONED), not
  // done, and will be cooked again.
  absl::Status Handle(const kitchen::v1::Order& order,
                      const service::Position& at,
                      absl::Notification& stop) override;

  // Before the batch's transaction commits: the COOKING events are sent on
  // their way (they need not be in before READY); with the test hook, waits.
  absl::Status Flush() override;

  void OnIdle() override;
  // Says, per partition, where the offset the cook goes on from is not in
  // the log: beyond its end (the log was replaced by a shorter one: it is
  // cooked from its start again), or before its start (orders removed by
  // retention before they were cooked).
  void OnLag(const std::vector<kafka::PartitionLag>& lags) override;

  std::string Summary() const override;

  int cooked() const { return cooked_; }

 private:
  Cook(CookOptions options, service::TransactionalProducer* transaction)
      : options_(std::move(options)), transaction_(transaction) {}
  void Publish(const kitchen::v1::Order& order, const service::Position& at,
               const orders::TraceContext& trace, int state);

  struct Exported {
    prometheus::Counter* cooked;
    prometheus::Histogram* placed_to_cooking;
    prometheus::Histogram* placed_to_ready;
    prometheus::Histogram* delivery_seconds;
    prometheus::Counter* delivery_errors;
  };
  absl::optional<Exported> metrics_;
  const CookOptions options_;
  service::TransactionalProducer* transaction_;
  std::unique_ptr<kafka::Producer> events_;  // COOKING, ABANDONED.
  absl::Notification* stop_ = nullptr;       // The loop's, for the test hook.
  int cooked_ = 0;
  int events_failed_ = 0;
};

}  // namespace kitchen::cook

#endif  // KITCHEN_COOK_COOK_H_
