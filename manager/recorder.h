// File: manager/recorder.h
//
// The manager's handler (service/handler.h): records every order of its
// consumer group in the ledger exactly once. Exactly-once into a file works by
// keeping each record's position with the record (Kafka's "storing offsets
// outside Kafka"; service::Progress::kOwnPositions):
//   - on every assignment each partition starts at the ledger's next offset for
//     it (the earliest the topic holds if the ledger has none), never at
//     Kafka's committed offset, and the loop skips what the ledger holds;
//   - orders are appended in batches (group commit: the loop's batches end
//     when nothing more is waiting, at --sync_max_records or --sync_max_delay)
//     and each batch is fsync'ed (Flush) before the loop stores its offsets
//     (Kafka's offsets then serve lag monitoring only).
// Records that are not orders go to the dead-letter topic (the loop does that),
// never into the ledger as orders: once a copy is safe, the ledger gets a
// dead-lettered line for its position (OnDeadLettered), so that no later
// assignment of the partition starts before it and parks it again.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<Recorder>> recorder =
//       Recorder::Open("ledger.jsonl");
//   (*recorder)->Handle(order, {"pizza-order", 3, 12}, stop);  // batched
//   absl::Status synced = (*recorder)->Flush();                // on disk

#ifndef KITCHEN_MANAGER_RECORDER_H_
#define KITCHEN_MANAGER_RECORDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/types/optional.h"
#include "kafka/consumer.h"
#include "manager/ledger.h"
#include "proto/order.pb.h"
#include "service/handler.h"
#include "service/metrics.h"

namespace kitchen::manager {

class Recorder : public service::Handler {
 public:
  // A recorder on the ledger at `path` (Ledger::Open: locked, checked,
  // repaired), saying how many orders it holds.
  static absl::StatusOr<std::unique_ptr<Recorder>> Open(
      const std::string& path);

  explicit Recorder(std::unique_ptr<Ledger> ledger)
      : ledger_(std::move(ledger)) {}

  service::Progress progress() const override {
    return service::Progress::kOwnPositions;
  }

  // Adds the order to the batch; it is in the ledger once Flush() returns.
  absl::Status Handle(const kitchen::v1::Order& order,
                      const service::Position& at,
                      absl::Notification& stop) override;
  // Appends the batch to the ledger and waits until it is on disk. An error
  // (unwritable, disk full) leaves the ledger as it was before the batch.
  absl::Status Flush() override;

  // Writes the dead-lettered line for `at` and waits until it is on disk (the
  // loop has flushed the batch before the poison record).
  absl::Status OnDeadLettered(const service::Position& at,
                              const absl::Status& reason) override;

  absl::optional<int64_t> NextOffset(const std::string& topic,
                                     int32_t partition) const override {
    return ledger_->NextOffset(topic, partition);
  }
  void OnAssigned(
      const std::vector<kafka::TopicPartition>& partitions) override;
  // The order at a partition's last ledger line, read again at assignment,
  // must be the one recorded (order id, pizza, table, time placed), and a
  // dead-lettered position must again hold something that is not an order.
  absl::Status CheckResumePoint(const service::Position& at,
                                const kitchen::v1::Order* order) const override;
  std::string StoreName() const override;
  void OnPartOfTopic(
      const std::vector<kafka::TopicPartition>& lacking) override;

  std::string Summary() const override;

  // Orders written to the ledger (synced) by this recorder.
  int64_t recorded() const { return recorded_; }

  // Registers the recorder's metrics (README "Metrics") in `metrics` and
  // keeps them from now on: orders recorded, placed -> recorded latency, the
  // ledger's sync latency and batch size.
  void ExportMetrics(service::Metrics& metrics);

 private:
  struct Exported {
    prometheus::Counter* recorded;
    prometheus::Histogram* placed_to_recorded;
    prometheus::Histogram* sync_seconds;
    prometheus::Histogram* batch_orders;
  };
  absl::optional<Exported> metrics_;
  std::unique_ptr<Ledger> ledger_;
  std::vector<LedgerEntry> batch_;
  int64_t recorded_ = 0;
  // The partitions the last assignment lacked ("" when it had all), for the
  // stop line.
  std::string lacking_;
};

}  // namespace kitchen::manager

#endif  // KITCHEN_MANAGER_RECORDER_H_
