// File: waiter/ready_watch.h
//
// `waiter --wait`: watches order-status for the READY of each order the
// waiter placed (README, "Order events"). It is opened before anything is
// placed, reading every partition from its end as it is then
// (kafka::TopicReader, read_committed), so no READY of these orders can be
// missed; an order is matched by its position (partition and offset on the
// order topic, from its delivery report), never by its id. A READY may be
// read before its order's acknowledgement has been served (the cook can be
// that quick): it is kept until the acknowledgements are all in.
//
// Usage:
//   auto watch = ReadyWatch::Open(kafka, "order-status", stdout);
//   ... place orders; for each acknowledged one:
//   (*watch)->Expect({partition, offset}, "margherita", 17, id, placed_at);
//   (*watch)->WaitForAll(absl::Seconds(60), stop);   // after the last answer
//   // ready: margherita for table 17 (order 3f2a...) after 2.1 s, cooked by
//   cook-1 int64_t late = (*watch)->tally().not_ready;

#ifndef KITCHEN_WAITER_READY_WATCH_H_
#define KITCHEN_WAITER_READY_WATCH_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/topic_reader.h"

namespace kitchen::waiter {

struct ReadyTally {
  int64_t expected = 0;
  int64_t ready = 0;
  int64_t not_ready = 0;  // Not READY within the wait, or not waitable.
  std::vector<int64_t> latencies_us;  // Placed -> READY read, of each ready.
  absl::Duration waited;              // The wait after the last answer.
};

// "200 of 200 ready, 0 not ready within 1m; placed -> ready p50 1.2 s,
//  p99 2.3 s"
std::string FormatReadySummary(ReadyTally tally, absl::Duration timeout);

class ReadyWatch {
 public:
  // Per order, a line when it is ready on `out` (null: none, as in load mode).
  static absl::StatusOr<std::unique_ptr<ReadyWatch>> Open(
      const kafka::ClientConfig& config, const std::string& status_topic,
      FILE* out);

  // An acknowledged order to wait for, at `offset` of `partition` on the
  // order topic (offset -1, unknown, cannot be waited for: not ready).
  void Expect(int32_t partition, int64_t offset, std::string pizza,
              int32_t table, std::string order_id, absl::Time placed);

  // Reads what has arrived, waiting at most `timeout_ms` for it.
  absl::Status Poll(int timeout_ms);

  // Once every order has been answered: waits until each expected order is
  // READY, `timeout` passes or `stop` is notified. Each order not ready then
  // is logged, and counted in tally().not_ready. An error when the reader
  // failed.
  absl::Status WaitForAll(absl::Duration timeout, absl::Notification& stop);

  const ReadyTally& tally() const { return tally_; }
  // READYs read whose order is not expected (yet).
  size_t unclaimed() const { return unclaimed_.size(); }

 private:
  using Position = std::pair<int32_t, int64_t>;
  struct Order {
    std::string pizza;
    int32_t table = 0;
    std::string id;
    absl::Time placed;
  };
  struct Ready {
    std::string cook;
    absl::Time read;
  };
  ReadyWatch(std::unique_ptr<kafka::TopicReader> reader, FILE* out)
      : reader_(std::move(reader)), out_(out) {}
  void Served(const Order& order, const Ready& ready);

  std::unique_ptr<kafka::TopicReader> reader_;
  FILE* out_;
  std::map<Position, Order> waiting_;
  // READYs of positions not expected (yet): other waiters' orders, or one of
  // ours whose acknowledgement is still to be served. Dropped once every
  // answer is in.
  std::map<Position, Ready> unclaimed_;
  ReadyTally tally_;
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_READY_WATCH_H_
