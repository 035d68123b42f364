// File: service/transaction.cc

#include "service/transaction.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::service {
namespace {

int Milliseconds(absl::Duration duration) {
  return static_cast<int>(absl::ToInt64Milliseconds(duration));
}

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const {
    if (error != nullptr) rd_kafka_error_destroy(error);
  }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

bool IsFencedCode(rd_kafka_resp_err_t code) {
  return code == RD_KAFKA_RESP_ERR__FENCED ||
         code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

bool IsFenced(const rd_kafka_error_t* error) {
  return IsFencedCode(rd_kafka_error_code(error));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TransactionalProducer>>
TransactionalProducer::Create(const kafka::ClientConfig& config,
                              TransactionOptions options) {
  if (options.transactional_id.empty()) {
    return absl::InvalidArgumentError("a transactional id must not be empty");
  }
  std::unique_ptr<TransactionalProducer> producer(
      new TransactionalProducer(config, std::move(options)));
  if (absl::Status initialised = producer->Init(); !initialised.ok()) {
    return initialised;
  }
  return producer;
}

absl::Status TransactionalProducer::Init() {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      config_,
      {
          {"transactional.id", options_.transactional_id},
          {"transaction.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(
                                         options_.transaction_timeout))},
          // Records wait for their batch's commit anyway.
          {"linger.ms", "5"},
          // Right after a commit the coordinator refuses the next
          // transaction's AddOffsetsToTxn with CONCURRENT_TRANSACTIONS for
          // ~300 ms while it writes the markers; librdkafka 2.0.2 retries it
          // (and TxnOffsetCommit) after retry.backoff.ms, 100 ms by default.
          // 20 ms, as Kafka's Java client uses for this (KAFKA-5477);
          // measured with debug=eos on 3 nodes.
          {"retry.backoff.ms", "20"},
      });
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &TransactionalProducer::OnDelivery);
  char error[512];
  rd_kafka_t* handle =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error));
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create the transactional producer: ", error));
  }
  (void)conf->release();  // rd_kafka_new took it.
  handle_.reset(handle);
  ErrorPtr failed(rd_kafka_init_transactions(
      handle_.get(), Milliseconds(options_.call_timeout)));
  if (failed != nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot initialise transactions of transactional id ",
        options_.transactional_id, ": ", rd_kafka_error_string(failed.get())));
  }
  open_ = false;
  return absl::OkStatus();
}

TransactionalProducer::~TransactionalProducer() {
  if (stuck_call_ != nullptr) {
    if (stuck_call_->done.WaitForNotificationWithTimeout(
            options_.call_timeout)) {
      stuck_thread_.join();
      if (stuck_call_->error != nullptr) {
        rd_kafka_error_destroy(stuck_call_->error);
      }
    } else {
      // The call still holds the handle: destroying it would be a use after
      // free. The process is stopping; its exit takes both.
      logging::Warning(
          "sending offsets to the transaction has still not returned; leaving "
          "the producer of %s to the process's exit",
          options_.transactional_id);
      stuck_thread_.detach();
      (void)handle_.release();
      return;
    }
  }
  if (handle_ != nullptr && open_) AbortIfOpen();
}

void TransactionalProducer::OnDelivery(rd_kafka_t* /*handle*/,
                                       const rd_kafka_message_t* message,
                                       void* opaque) {
  auto* self = static_cast<TransactionalProducer*>(opaque);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
      self->delivery_failure_.empty()) {
    self->delivery_failure_ = rd_kafka_err2str(message->err);
  }
}

absl::Status TransactionalProducer::Begin() {
  if (stuck_call_ != nullptr) {
    return absl::FailedPreconditionError(
        "the transactional producer is unusable: an earlier send of offsets "
        "never returned");
  }
  if (open_) return absl::OkStatus();
  ErrorPtr failed(rd_kafka_begin_transaction(handle_.get()));
  if (failed != nullptr) {
    return absl::InternalError(absl::StrCat(
        "cannot begin a transaction: ", rd_kafka_error_string(failed.get())));
  }
  open_ = true;
  began_ = absl::Now();
  delivery_failure_.clear();
  return absl::OkStatus();
}

absl::Status TransactionalProducer::Send(const kafka::OutgoingRecord& record) {
  if (absl::Status begun = Begin(); !begun.ok()) return begun;
  rd_kafka_headers_t* headers = nullptr;
  if (record.headers != nullptr && !record.headers->empty()) {
    headers = rd_kafka_headers_new(record.headers->size());
    for (const kafka::Header& header : *record.headers) {
      rd_kafka_header_add(
          headers, header.name.data(), static_cast<ssize_t>(header.name.size()),
          header.value.data(), static_cast<ssize_t>(header.value.size()));
    }
  }
  const std::string topic(record.topic);
  rd_kafka_resp_err_t error;
  while (true) {
    error = rd_kafka_producev(
        handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()),
                         record.value.size()),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    rd_kafka_poll(handle_.get(), 100);  // Room is made as batches leave.
  }
  rd_kafka_poll(handle_.get(), 0);  // Serves delivery reports.
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  if (headers != nullptr) rd_kafka_headers_destroy(headers);
  // Not sent: the transaction cannot hold what the handler published.
  if (delivery_failure_.empty()) delivery_failure_ = rd_kafka_err2str(error);
  return absl::OkStatus();  // Commit() aborts it.
}

absl::optional<rd_kafka_error_t*> TransactionalProducer::SendOffsets(
    const std::vector<kafka::TopicPartition>& offsets,
    kafka::GroupMetadataPtr group) {
  auto call = std::make_shared<OffsetsCall>();
  call->offsets.reset(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const kafka::TopicPartition& partition : offsets) {
    rd_kafka_topic_partition_list_add(
        call->offsets.get(), partition.topic.c_str(), partition.partition)
        ->offset = partition.offset;
  }
  call->group = std::move(group);
  rd_kafka_t* handle = handle_.get();
  const int timeout_ms = Milliseconds(options_.offsets_deadline);
  // The call's state is shared with the thread; the handle is destroyed only
  // after the thread returned (see the destructor).
  std::thread thread([handle, call, timeout_ms] {
    call->error = rd_kafka_send_offsets_to_transaction(
        handle, call->offsets.get(), call->group.get(), timeout_ms);
    call->done.Notify();
  });
  if (call->done.WaitForNotificationWithTimeout(options_.offsets_deadline)) {
    thread.join();
    return call->error;
  }
  stuck_call_ = std::move(call);
  stuck_thread_ = std::move(thread);
  return absl::nullopt;
}

absl::StatusOr<TransactionOutcome> TransactionalProducer::Commit(
    const std::vector<kafka::TopicPartition>& offsets,
    kafka::GroupMetadataPtr group) {
  if (absl::Status begun = Begin(); !begun.ok()) return begun;
  if (!offsets.empty()) {
    if (group == nullptr) {
      return Abort("the consumer has no group metadata (not in its group)");
    }
    absl::optional<rd_kafka_error_t*> sent =
        SendOffsets(offsets, std::move(group));
    if (!sent.has_value()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "sending the consumed offsets to the transaction did not finish "
          "within ",
          absl::FormatDuration(options_.offsets_deadline),
          " (the group coordinator is unreachable; librdkafka 2.0.2 does not "
          "enforce that call's timeout): stopping; the broker aborts the "
          "open transaction after transaction.timeout.ms, and these orders "
          "are handled again by whoever gets their partitions"));
    }
    // A retriable error too is the end of this transaction: abort, go again.
    if (*sent != nullptr) {
      return Fail(*sent, "sending the consumed offsets to the transaction");
    }
  }
  // Delivery failures are reported by the commit as well (abortable); this
  // says which.
  rd_kafka_poll(handle_.get(), 0);
  if (!delivery_failure_.empty()) {
    return Abort(
        absl::StrCat("a record was not delivered: ", delivery_failure_));
  }
  while (true) {
    rd_kafka_error_t* failed = rd_kafka_commit_transaction(
        handle_.get(), Milliseconds(options_.call_timeout));
    if (failed == nullptr) break;
    if (!rd_kafka_error_is_retriable(failed)) {
      return Fail(failed, "committing the transaction");
    }
    rd_kafka_error_destroy(failed);  // Timed out: committing may go on.
  }
  open_ = false;
  ++committed_;
  return TransactionOutcome::kCommitted;
}

absl::StatusOr<TransactionOutcome> TransactionalProducer::Fail(
    rd_kafka_error_t* raw, const char* what) {
  ErrorPtr error(raw);
  const std::string why =
      absl::StrCat(what, ": ", rd_kafka_error_string(error.get()));
  if (rd_kafka_error_is_fatal(error.get())) {
    return OnFatal(why, IsFenced(error.get()));
  }
  return Abort(why);
}

absl::StatusOr<TransactionOutcome> TransactionalProducer::OnFatal(
    const std::string& why, bool fenced) {
  const absl::Duration age = absl::Now() - began_;
  if (fenced && age < options_.transaction_timeout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fenced by another producer with transactional id ",
        options_.transactional_id, " (", why,
        ") while this one's "
        "transaction was ",
        absl::FormatDuration(absl::Trunc(age, absl::Milliseconds(1))),
        " old: two instances were given one id; stopping, the other goes "
        "on"));
  }
  return Recover(why);
}

absl::StatusOr<TransactionOutcome> TransactionalProducer::Abort(
    const std::string& why) {
  // The producer may have failed for good meanwhile (a fence met by a
  // request of its own, while what the caller saw was a record purged
  // because of it): then that is the failure to act on.
  char fatal_reason[512];
  if (rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(
          handle_.get(), fatal_reason, sizeof(fatal_reason));
      fatal != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return OnFatal(absl::StrCat(why, "; the producer failed: ", fatal_reason),
                   IsFencedCode(fatal));
  }
  logging::Warning("aborting the transaction: %s", why);
  ErrorPtr failed(rd_kafka_abort_transaction(
      handle_.get(), Milliseconds(options_.call_timeout)));
  if (failed != nullptr) {
    if (rd_kafka_error_is_fatal(failed.get())) {
      return OnFatal(absl::StrCat(why, "; then aborting: ",
                                  rd_kafka_error_string(failed.get())),
                     IsFenced(failed.get()));
    }
    if (!rd_kafka_error_is_retriable(failed.get())) {
      return Recover(absl::StrCat(
          why, "; then aborting: ", rd_kafka_error_string(failed.get())));
    }
    // Timed out: a new producer aborts it for certain (init_transactions
    // ends whatever its transactional id left open).
    return Recover(absl::StrCat(why, "; abort timed out"));
  }
  open_ = false;
  ++aborted_;
  return TransactionOutcome::kAborted;
}

absl::StatusOr<TransactionOutcome> TransactionalProducer::Recover(
    const std::string& why) {
  logging::Warning(
      "the transactional producer failed (%s): making a new one; what its "
      "open transaction held is aborted",
      why);
  // Nothing queued can be committed any more: drop it at once.
  rd_kafka_purge(handle_.get(),
                 RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  handle_.reset();
  open_ = false;
  if (absl::Status initialised = Init(); !initialised.ok()) {
    return absl::UnavailableError(
        absl::StrCat(why, "; and then: ", initialised.message()));
  }
  ++recovered_;
  return TransactionOutcome::kRecovered;
}

void TransactionalProducer::AbortIfOpen() {
  if (!open_ || handle_ == nullptr || stuck_call_ != nullptr) return;
  ErrorPtr failed(rd_kafka_abort_transaction(
      handle_.get(), Milliseconds(options_.call_timeout)));
  if (failed != nullptr) {
    logging::Warning("cannot abort the open transaction: %s",
                     rd_kafka_error_string(failed.get()));
  }
  open_ = false;
}

}  // namespace kitchen::service
