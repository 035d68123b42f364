// File: cook/cook.h
//
// The cook: a handler (service/handler.h) that cooks each order for the
// preparation time and only then says it is done, so that its offset is
// stored only after cooking (at-least-once: an order whose cook dies mid-way
// is cooked again by whoever gets its partition). Orders of one table share a
// partition and are cooked in the order placed. Each order is logged as it
// starts (`cooking ...`) and when it is ready (`ready: ...`).
//
// Usage:
//   Cook cook(absl::Seconds(2));
//   absl::Status cooked = cook.Handle(order, {"pizza-order", 3, 12}, stop);
//   // OK: ready; Cancelled: abandoned because `stop` was notified.

#ifndef KITCHEN_COOK_COOK_H_
#define KITCHEN_COOK_COOK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "proto/order.pb.h"
#include "service/handler.h"

namespace kitchen::cook {

class Cook : public service::Handler {
 public:
  explicit Cook(absl::Duration prep_time) : prep_time_(prep_time) {}

  service::Progress progress() const override {
    return service::Progress::kStoredOffsets;
  }

  // Cooks `order` for the preparation time. Cancelled if `stop` is notified
  // meanwhile: the order is abandoned, not done, and will be cooked again.
  absl::Status Handle(const kitchen::v1::Order& order,
                      const service::Position& at,
                      absl::Notification& stop) override;

  // Says, per partition, where the offset the cook goes on from is not in
  // the log: beyond its end (the log was replaced by a shorter one: it is
  // cooked from its start again), or before its start (orders removed by
  // retention before they were cooked).
  void OnLag(const std::vector<kafka::PartitionLag>& lags) override;

  std::string Summary() const override;

  int cooked() const { return cooked_; }

 private:
  const absl::Duration prep_time_;
  int cooked_ = 0;
};

}  // namespace kitchen::cook

#endif  // KITCHEN_COOK_COOK_H_
