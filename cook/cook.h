// File: cook/cook.h
//
// The cook: takes orders from its consumer group's share of pizza-order, cooks
// each for the preparation time, and only then marks it done (at-least-once: an
// order whose cook dies mid-way is cooked again by whoever gets its partition).
// Orders of one table share a partition and are cooked in the order placed. A
// record that is not an order goes to the dead-letter topic, is marked done,
// and the cook goes on.
//
// Usage:
//   Cook cook(options, consumer.get(), dead_letters.get());
//   absl::Status result = cook.Run(stop);   // until `stop` is notified

#ifndef KITCHEN_COOK_COOK_H_
#define KITCHEN_COOK_COOK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/health_file.h"
#include "kafka/consumer.h"
#include "kafka/message.h"
#include "orders/dead_letter.h"

namespace kitchen::cook {

struct CookOptions {
  std::string group = "cook";
  absl::Duration prep_time = absl::Seconds(2);
  std::string health_file;  // See cli/health_file.h; empty: none.
  absl::Duration lag_interval = absl::Seconds(30);  // Zero: never.
};

class Cook {
 public:
  Cook(CookOptions options, kafka::Consumer* consumer,
       orders::DeadLetterQueue* dead_letters)
      : options_(std::move(options)),
        consumer_(consumer),
        dead_letters_(dead_letters),
        health_(options_.health_file) {}

  // Cooks until `stop` is notified (an order being cooked then is abandoned,
  // not marked done: it will be cooked again), then returns. An error means the
  // consumer cannot go on.
  absl::Status Run(absl::Notification& stop);

  int cooked() const { return cooked_; }

 private:
  void LogLagIfDue();

  // Cooks one record; false if it was abandoned because of `stop`.
  bool Handle(const kafka::Message& message, absl::Notification& stop);

  CookOptions options_;
  kafka::Consumer* consumer_;
  orders::DeadLetterQueue* dead_letters_;
  cli::HealthFile health_;
  absl::Time next_lag_log_ = absl::Now();
  int cooked_ = 0;
};

}  // namespace kitchen::cook

#endif  // KITCHEN_COOK_COOK_H_
