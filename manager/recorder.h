// File: manager/recorder.h
//
// The manager's loop: reads orders in its consumer group and records each in
// the ledger exactly once. Exactly-once into a file works by keeping each
// record's position with the record (Kafka's "storing offsets outside Kafka"):
//   - on every assignment each partition starts at the ledger's next offset for
//     it (the earliest the topic holds if the ledger has none), never at
//     Kafka's committed offset;
//   - records are appended in batches (group commit): a batch ends when nothing
//     more is waiting, or at `sync_max_records`, or `sync_max_delay` after it
//     began, and is fsync'ed before its offsets are stored for commit (Kafka's
//     offsets then serve lag monitoring only);
//   - a record at or below a partition's recorded position is skipped, so a
//     replay after a rebalance cannot write a line twice.
// Records that are not orders go to the dead-letter topic, never into the
// ledger.
//
// Usage:
//   Recorder recorder(options, ledger.get(), dead_letters.get());
//   auto consumer = Consumer::Create(conf, {"pizza-order"}, &recorder);
//   recorder.set_consumer(consumer->get());
//   absl::Status result = recorder.Run(stop);

#ifndef KITCHEN_MANAGER_RECORDER_H_
#define KITCHEN_MANAGER_RECORDER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cli/health_file.h"
#include "kafka/consumer.h"
#include "manager/ledger.h"
#include "orders/dead_letter.h"
#include "proto/order.pb.h"

namespace kitchen::manager {

struct RecorderOptions {
  std::string group = "manager";
  int sync_max_records = 10000;
  absl::Duration sync_max_delay = absl::Milliseconds(100);
  std::string health_file;  // See cli/health_file.h; empty: none.
};

class Recorder : public kafka::RebalanceListener {
 public:
  Recorder(RecorderOptions options, Ledger* ledger,
           orders::DeadLetterQueue* dead_letters)
      : options_(std::move(options)),
        ledger_(ledger),
        dead_letters_(dead_letters),
        health_(options_.health_file) {}

  void set_consumer(kafka::Consumer* consumer) { consumer_ = consumer; }

  // Records until `stop` is notified, then writes and syncs what it has and
  // returns. An error (the ledger cannot be written, the consumer failed) stops
  // it at once, with nothing committed past what is durable.
  absl::Status Run(absl::Notification& stop);

  void OnAssign(std::vector<kafka::TopicPartition>& partitions) override;
  void OnRevoke(const std::vector<kafka::TopicPartition>& partitions,
                bool lost) override;

  int64_t recorded() const { return recorded_; }
  // Whether Run() stopped because the ledger could not be written (else Kafka).
  bool ledger_failed() const { return ledger_failed_; }

 private:
  using PartitionKey = std::pair<std::string, int32_t>;

  void Handle(const kafka::Message& message, absl::Notification& stop);
  // Appends and syncs the batch, then stores the offsets it covers.
  absl::Status Flush();

  RecorderOptions options_;
  Ledger* ledger_;
  orders::DeadLetterQueue* dead_letters_;
  kafka::Consumer* consumer_ = nullptr;
  cli::HealthFile health_;

  kitchen::v1::Order order_;  // The order being read; reused.
  std::vector<LedgerEntry> batch_;
  absl::Time batch_started_;
  // Next offset to accept per partition: the ledger's, plus what is in the
  // batch and dead letters passed over.
  absl::flat_hash_map<PartitionKey, int64_t> next_;
  // Offsets to store once the batch is durable.
  absl::flat_hash_map<PartitionKey, int64_t> to_store_;
  // An error met inside a rebalance callback, reported by Run().
  absl::Status failure_;
  int64_t recorded_ = 0;
  bool ledger_failed_ = false;
};

}  // namespace kitchen::manager

#endif  // KITCHEN_MANAGER_RECORDER_H_
