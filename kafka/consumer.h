// File: kafka/consumer.h
//
// An RAII Kafka consumer-group member built for at-least-once processing:
//  - offsets are stored only when the caller says a record is done
//    (StoreOffset), and committed from those (periodically, on revoke, and on
//    close);
//  - it closes before destruction (librdkafka's C++ API skips the final commit
//    and the clean group leave when a consumer is deleted without close());
//  - rebalances are logged, a revoke commits progress before the partitions go,
//    and a commit failure during a rebalance is logged, never fatal;
//  - rebalances are eager (the whole assignment given back, then a new one):
//    librdkafka 2.0.2's cooperative-sticky assignor is refused, and a
//    partition list librdkafka will not take fails Poll() instead of leaving a
//    member that never consumes;
//  - a RebalanceListener may choose where each assigned partition starts (the
//    manager starts from its ledger, not from Kafka's committed offsets).
//
// Usage:
//   auto conf = BuildConf(config, ConsumerDefaults("cook"));
//   auto consumer =
//       Consumer::Create(*std::move(conf), {"pizza-order"}, nullptr);
//   while (running) {
//     auto polled = (*consumer)->Poll(100);
//     if (polled.ok() && *polled) {
//       Cook(**polled);
//       (*consumer)->StoreOffset(**polled);
//     }
//   }
//   (*consumer)->Close();

#ifndef KITCHEN_KAFKA_CONSUMER_H_
#define KITCHEN_KAFKA_CONSUMER_H_

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/config.h"
#include "kafka/handle.h"
#include "kafka/message.h"

namespace kitchen::kafka {

// Where a partition starts when no position is chosen: the committed offset,
// or, for a group that has none, auto.offset.reset.
inline constexpr int64_t kCommittedOffset = RD_KAFKA_OFFSET_INVALID;
// The earliest record the partition still holds.
inline constexpr int64_t kEarliestOffset = RD_KAFKA_OFFSET_BEGINNING;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kCommittedOffset;
};

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Before `partitions` are assigned: set `offset` to start somewhere else than
  // the committed offset.
  virtual void OnAssign(std::vector<TopicPartition>& partitions) {}
  // Before `partitions` are taken away (`lost`: already owned by someone else,
  // so nothing may be committed for them).
  virtual void OnRevoke(const std::vector<TopicPartition>& partitions,
                        bool lost) {}
};

// Refuses a partition.assignment.strategy that includes cooperative-sticky
// (InvalidArgument, saying why): librdkafka 2.0.2's incremental rebalancing has
// bugs fixed only in later releases, and this consumer rebalances eagerly.
// `strategy` is librdkafka's comma-separated list of assignors.
absl::Status CheckAssignmentStrategy(absl::string_view strategy);
// The same for the strategy `config` sets (its last setting wins), if any.
absl::Status CheckAssignmentStrategy(const ClientConfig& config);

// The consumer properties the kitchen's at-least-once contract rests on.
// Services pass them as defaults to BuildConf; a user may override them,
// knowingly.
Properties ConsumerDefaults(absl::string_view group_id);

// Whether `config`'s brokers are librdkafka's mock cluster, the dev broker
// (its cluster id begins "mockCluster"), asked with a short-lived client;
// false when no broker answers within `timeout`.
bool IsDevBroker(const ClientConfig& config, absl::Duration timeout);

// ConsumerDefaults, with the fetch wait the broker `config` reaches needs:
// librdkafka's mock holds a fetch that finds no data for the whole
// fetch.wait.max.ms, where Kafka answers it as soon as data arrives.
Properties ConsumerDefaultsFor(const ClientConfig& config,
                               absl::string_view group_id);

// Where a lag is measured from: what this member has consumed (its position),
// or what its group has committed (its backlog when partitions arrive).
enum class LagFrom { kPosition, kCommittedOffsets };

// How far a member is behind on one partition: records on the broker it has not
// consumed yet. Unknown (-1) until the first fetch from that partition.
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = -1;
  // What it was measured from (-1 where unknown): the member's position or
  // the group's committed offset (none: -1), and the partition's log start
  // and end. `from` outside [`low`, `high`] means the records there are gone
  // (retention) or the log is not the one the offset was for (re-created,
  // data lost): librdkafka then resets by auto.offset.reset.
  int64_t from = -1;
  int64_t low = -1;
  int64_t high = -1;
};

// The first and one past the last offset a partition holds (Kafka's low and
// high watermarks).
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

// "pizza-order/0=0 pizza-order/3=12 (total 12)" for logs.
std::string DescribeLag(const std::vector<PartitionLag>& lags);

// "pizza-order[0,3,5]" for logs.
std::string DescribePartitions(const std::vector<TopicPartition>& partitions);

class Consumer {
 public:
  // Subscribes to `topics` in the group of `conf`'s group.id. `listener` may be
  // null; if not, it must outlive the consumer. A cooperative assignor is
  // refused (CheckAssignmentStrategy).
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(
      ConfPtr conf, const std::vector<std::string>& topics,
      RebalanceListener* listener);

  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer();

  // Waits up to `timeout_ms` for the next record. Returns nullopt when there
  // was none (transient errors such as a broker outage are logged and also give
  // nullopt); an error status only when the consumer cannot go on: a fatal
  // error, partitions of a rebalance that librdkafka would not take, or
  // OutOfRange naming the partition and offset when a position is not in its
  // log any more and auto.offset.reset=error (the manager's) forbids a jump.
  absl::StatusOr<absl::optional<Message>> Poll(int timeout_ms);

  // Marks `message` as processed: its offset + 1 will be committed.
  absl::Status StoreOffset(const Message& message);
  // Marks a partition as processed up to, not including, `next_offset`.
  absl::Status StoreOffset(const std::string& topic, int32_t partition,
                           int64_t next_offset);

  // Commits the stored offsets now and waits for the answer.
  absl::Status Commit();

  // Commits `offsets` (per partition the next offset) now, whatever is
  // stored, and waits for the answer.
  absl::Status CommitOffsets(const std::vector<TopicPartition>& offsets);

  // For a transaction that holds this member's offsets: the group's metadata
  // as of now (generation, member id); null before the group is joined.
  GroupMetadataPtr GroupMetadata();

  // Moves every assigned partition back to the group's committed offset (the
  // earliest record where the group has none), dropping what was fetched past
  // it: after a transaction holding these offsets was aborted. Asks the group
  // coordinator, waiting at most `timeout`.
  absl::Status RewindToCommitted(absl::Duration timeout);

  // Commits what is stored, leaves the group, stops. Idempotent.
  absl::Status Close();

  // Asks the partitions' leaders where each partition's log starts and ends,
  // all at once, waiting at most `timeout` in all (a leader that is down
  // costs one timeout, not one per partition). One result per partition, in
  // order: a partition whose leader did not answer has its error.
  std::vector<absl::StatusOr<Watermarks>> QueryLogBounds(
      const std::vector<TopicPartition>& partitions, absl::Duration timeout);
  // How many partitions `topic` has, from the cluster's metadata.
  absl::StatusOr<int> PartitionCount(const std::string& topic,
                                     absl::Duration timeout);
  // Stops fetching one assigned partition until Resume(); Poll() gives none
  // of its records meanwhile (librdkafka drops those fetched, and goes on
  // after the last record it gave). For a partition waiting on one record
  // while the others go on.
  absl::Status Pause(const std::string& topic, int32_t partition);
  // Fetches the partition again, from `offset` (records polled past it since
  // the pause come again), or with kCommittedOffset from where it was.
  absl::Status Resume(const std::string& topic, int32_t partition,
                      int64_t offset);

  // The partitions currently assigned to this member.
  std::vector<TopicPartition> Assignment();

  // Lag of each assigned partition: from its position and the watermarks of
  // the last fetch; for a partition not fetched yet, or for all with
  // kCommittedOffsets, from the group's committed offset and the broker's
  // watermarks (requests, with a 5 s timeout).
  std::vector<PartitionLag> Lag(LagFrom from = LagFrom::kPosition);

 private:
  explicit Consumer(RebalanceListener* listener) : listener_(listener) {}
  static void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  // rd_kafka_assign(partitions) (null: none); a failure, said as `what`, is
  // logged and kept for Poll().
  void Assign(rd_kafka_t* handle,
              const rd_kafka_topic_partition_list_t* partitions,
              absl::string_view what);

  // librdkafka 2.0.2 stops fetching a partition while the prefetch queue is
  // over queued.min.messages (or queued.max.messages.kbytes) and looks again
  // only when that broker's thread wakes: on a request, a response, or its 1 s
  // timer (2.2 added fetch.queue.backoff.ms for this). With a prefetch
  // small enough to keep a consumer small, the queue drains long before the
  // timer, and a catch-up runs at one prefetch per second. So when the queue
  // has fallen under half of queued.min.messages while a partition is behind
  // its log's end, this asks the leaders of the partitions behind for their
  // log's end (ListOffsets, without waiting for the answer): the request
  // wakes their broker threads, which fetch again. Called by Poll().
  void RefillPrefetch();

  RebalanceListener* listener_;
  struct QueueDeleter {
    void operator()(rd_kafka_queue_t* queue) const {
      rd_kafka_queue_destroy(queue);
    }
  };
  // The queue Poll() serves: its length is the prefetch.
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue_;
  size_t refill_below_ = 0;  // Half of queued.min.messages.
  absl::Time next_refill_check_ = absl::InfinitePast();
  absl::Time last_wake_ = absl::InfinitePast();
  // Whether the queue has been over refill_below_ since the last wake-up.
  bool refilled_ = true;
  // A rebalance whose assignment librdkafka refused: without it this member
  // would stay in its group with no partitions, so Poll() reports it.
  absl::Status rebalance_failure_;
  bool closed_ = false;
  HandlePtr handle_;
};

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_CONSUMER_H_
