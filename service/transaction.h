// File: service/transaction.h
//
// The transactional producer of a kOffsetsInTransaction handler
// (service/handler.h): what the handler publishes for a batch and the batch's
// consumed offsets go in one Kafka transaction, so both land or neither does.
// The loop (service/loop.h) commits at each batch's end; the handler only
// sends. It keeps librdkafka 2.0.2's transaction rules in one place:
//  - a transaction is begun by the first record (or offsets) of a batch and
//    lives until the batch's Commit(): short, well inside
//    transaction.timeout.ms (10 s), so a killed service's open transaction
//    holds read_committed readers back for at most that long;
//  - the offsets go with the group's metadata taken fresh by the caller for
//    each transaction (a stale generation makes the transaction abortable);
//  - an abortable error aborts: kAborted, the caller rewinds to the committed
//    offsets and handles those records again;
//  - a fatal error (fenced: a newer producer with this transactional id, or
//    the broker bumped the epoch of a transaction that outlived its timeout)
//    drops the producer and makes a new one: kRecovered, rewind as after an
//    abort; except when the transaction was younger than its timeout, which
//    means another live producer has this transactional id: then Commit()
//    fails (FailedPrecondition) and the service must stop, or the two would
//    fence each other in turn for ever;
//  - rd_kafka_send_offsets_to_transaction does not enforce its timeout in
//    2.0.2 (it waits for ever while the group coordinator is unreachable,
//    librdkafka #5456), so it runs on a thread of its own and is waited for
//    `offsets_deadline`. Past it no other transaction call may be made on the
//    producer (librdkafka refuses concurrent ones), so Commit() fails
//    (DeadlineExceeded) and the service must stop; the broker aborts the
//    transaction at its timeout. The destructor then waits up to
//    `call_timeout` for that thread to return and joins it; only if the call
//    still has not returned is the thread detached and the handle left to the
//    process's exit (destroying a handle in use would be a use after free).
//
// Usage:
//   auto producer = TransactionalProducer::Create(config, {"cook-cook-1"});
//   (*producer)->Send({"order-status", "17", bytes, &headers});
//   absl::StatusOr<TransactionOutcome> outcome =
//       (*producer)->Commit(offsets, consumer.GroupMetadata());

#ifndef KITCHEN_SERVICE_TRANSACTION_H_
#define KITCHEN_SERVICE_TRANSACTION_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/handle.h"
#include "kafka/producer.h"

namespace kitchen::service {

struct TransactionOptions {
  std::string transactional_id;
  absl::Duration transaction_timeout = absl::Seconds(10);
  // How long the offsets may take to join the transaction (see above):
  // longer than a group coordinator's failover (the dead broker's session,
  // 9 s, then a new coordinator) plus the transaction's timeout, after which
  // the broker aborts it and the call returns with that error, so that a
  // killed broker costs a pause and an abort, not a stopped cook (measured:
  // with 10 s, a cook stopped in kafka_cluster_test when the node killed held
  // its group's coordinator).
  absl::Duration offsets_deadline = absl::Seconds(40);
  // init_transactions, commit and abort: librdkafka enforces these itself.
  absl::Duration call_timeout = absl::Seconds(10);
};

enum class TransactionOutcome {
  kCommitted,  // The records and the offsets are in.
  kAborted,    // An abortable error: neither is; rewind and handle again.
  kRecovered,  // A fatal error: a new producer; rewind and handle again.
};

class TransactionalProducer {
 public:
  // Makes the producer and initialises its transactions (fencing any earlier
  // producer with the same transactional id, whose open transaction the broker
  // aborts). `config` is a producer's (kafka::ForProducer).
  static absl::StatusOr<std::unique_ptr<TransactionalProducer>> Create(
      const kafka::ClientConfig& config, TransactionOptions options);

  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;
  // Aborts an open transaction (bounded), then destroys the handle.
  ~TransactionalProducer();

  // Queues a record in the open transaction, beginning one if none is open.
  // A record that fails to be delivered makes the commit abort.
  absl::Status Send(const kafka::OutgoingRecord& record);

  // Ends the batch: begins a transaction if none is open (a batch of offsets
  // only), sends `offsets` (the next offset per partition) with `group`'s
  // metadata, and commits. An error means the service must stop (see above);
  // the transaction is then left for the broker to abort.
  absl::StatusOr<TransactionOutcome> Commit(
      const std::vector<kafka::TopicPartition>& offsets,
      kafka::GroupMetadataPtr group);

  // Aborts the open transaction, if any: for a batch given up (the service
  // stops after a failure).
  void AbortIfOpen();

  bool open() const { return open_; }
  // Whether the current producer has failed for good (fenced, ...): the next
  // Commit() then stops or makes a new one.
  bool failed_for_good() const {
    return rd_kafka_fatal_error(handle_.get(), nullptr, 0) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  const std::string& transactional_id() const {
    return options_.transactional_id;
  }
  int committed() const { return committed_; }
  int aborted() const { return aborted_; }
  int recovered() const { return recovered_; }

 private:
  // The state of one guarded rd_kafka_send_offsets_to_transaction, shared
  // with its thread.
  struct OffsetsCall {
    kafka::PartitionListPtr offsets;
    kafka::GroupMetadataPtr group;
    absl::Notification done;
    rd_kafka_error_t* error = nullptr;
  };

  TransactionalProducer(const kafka::ClientConfig& config,
                        TransactionOptions options)
      : config_(config), options_(std::move(options)) {}
  // A new handle, its transactions initialised.
  absl::Status Init();
  absl::Status Begin();
  // rd_kafka_send_offsets_to_transaction, guarded; nullopt past the deadline.
  absl::optional<rd_kafka_error_t*> SendOffsets(
      const std::vector<kafka::TopicPartition>& offsets,
      kafka::GroupMetadataPtr group);
  static void OnDelivery(rd_kafka_t* handle, const rd_kafka_message_t* message,
                         void* opaque);
  // What to do after `error` from `what`: abort, or a new producer, or stop.
  // Takes `error`.
  absl::StatusOr<TransactionOutcome> Fail(rd_kafka_error_t* error,
                                          const char* what);
  absl::StatusOr<TransactionOutcome> Abort(const std::string& why);
  // A fatal error: stop if fenced while the transaction is younger than its
  // timeout (another live instance has the id), else a new producer.
  absl::StatusOr<TransactionOutcome> OnFatal(const std::string& why,
                                             bool fenced);
  absl::StatusOr<TransactionOutcome> Recover(const std::string& why);

  const kafka::ClientConfig config_;
  const TransactionOptions options_;
  kafka::HandlePtr handle_;
  bool open_ = false;
  absl::Time began_;
  // Set by the delivery callback: a record of the open transaction failed.
  std::string delivery_failure_;
  // A send of offsets that passed its deadline: the producer is unusable.
  std::shared_ptr<OffsetsCall> stuck_call_;
  std::thread stuck_thread_;
  int committed_ = 0;
  int aborted_ = 0;
  int recovered_ = 0;
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_TRANSACTION_H_
