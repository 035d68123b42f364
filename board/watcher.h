// File: board/watcher.h
//
// The board's eyes: one Kafka consumer that reads every partition of the order
// topic, the order-status topic and the dead-letter topic from their start,
// and, every second, the committed offsets of the `cook` and `manager` groups,
// feeding a Board (board/board.h). It is in no consumer group: it assigns
// itself the partitions, never commits, and so takes no work from any group
// and moves no group's offsets (asking a group's committed offsets is a read).
// Topics that do not exist yet are looked for again every few seconds.
//
// Usage:
//   auto watcher = Watcher::Create(kafka_config, WatcherTopics{}, board);
//   (*watcher)->Run(stop);  // until stop is notified

#ifndef KITCHEN_BOARD_WATCHER_H_
#define KITCHEN_BOARD_WATCHER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "board/board.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "kafka/message.h"
#include "orders/order_event.h"
#include "orders/order_record.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "service/metrics.h"

namespace kitchen::board {

struct WatcherTopics {
  std::string orders = orders::kOrderTopic;
  std::string status = orders::kStatusTopic;
  std::string dead_letters = orders::kDeadLetterTopic;
  std::string members = "kitchen-members";
};

class Watcher {
 public:
  // Each record read is counted in `metrics` when given
  // (kitchen_board_records_read_total, per topic and partition: the board is
  // in no group, so it has no lag or handled records of a consumer's).
  static absl::StatusOr<std::unique_ptr<Watcher>> Create(
      const kafka::ClientConfig& config, WatcherTopics topics, Board& board,
      service::Metrics* metrics = nullptr);

  // Reads until `stop` is notified.
  void Run(absl::Notification& stop);

 private:
  Watcher(WatcherTopics topics, Board& board)
      : topics_(std::move(topics)), board_(board) {}

  // Assigns the partitions of topics that appeared since the last look.
  void AssignNewPartitions();
  void Take(const kafka::Message& message);
  void ReadProgress();

  const WatcherTopics topics_;
  Board& board_;
  // Records read, per topic and partition; null: not counted.
  prometheus::Family<prometheus::Counter>* records_read_ = nullptr;
  std::map<std::pair<std::string, int32_t>, prometheus::Counter*> read_of_;
  // The partitions assigned so far, per topic.
  std::map<std::string, std::vector<int32_t>> assigned_;
  absl::Time next_topic_look_ = absl::InfinitePast();
  absl::Time next_progress_read_ = absl::InfinitePast();
  kafka::HandlePtr consumer_;
  // One client per group whose committed offsets it reads (never joined).
  std::vector<std::pair<std::string, kafka::HandlePtr>> group_clients_;
};

}  // namespace kitchen::board

#endif  // KITCHEN_BOARD_WATCHER_H_
