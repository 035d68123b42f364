// File: kafka/client_errors.cc

#include "kafka/client_errors.h"

#include "absl/strings/str_cat.h"
#include "logging/log.h"

namespace kitchen::kafka {
namespace {

// The table. Each class lists the errors the kitchen meets or can expect;
// an error not listed is fatal (Internal): stopping with its name beats
// retrying something nobody has thought about forever.
absl::StatusCode CodeOf(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::StatusCode::kOk;

    // Transient: a timeout.
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::StatusCode::kDeadlineExceeded;
    // Transient: a broker, leader, coordinator or replica away or moving.
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__WAIT_CACHE:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::StatusCode::kUnavailable;
    // Transient: librdkafka's local queue is full; serve it and try again.
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return absl::StatusCode::kResourceExhausted;
    // Transient: taken back by the kitchen itself (a purge, a closing client).
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
      return absl::StatusCode::kCancelled;

    // Permanent for the record: it cannot be written as it is.
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__KEY_SERIALIZATION:
    case RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION:
      return absl::StatusCode::kInvalidArgument;

    // Fatal: not allowed; a person grants the ACL.
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return absl::StatusCode::kPermissionDenied;
    // Fatal: not who it claims; a person fixes the credentials.
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
      return absl::StatusCode::kUnauthenticated;
    // Fatal: the topic or partition does not exist. librdkafka has already
    // waited topic.metadata.propagation.max.ms for a new topic to appear, and
    // the kitchen never creates topics: a person creates it.
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::StatusCode::kNotFound;
    // Fatal: the client cannot go on (fenced, failed, misconfigured, or the
    // broker does not speak what it needs).
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__NOT_CONFIGURED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

ErrorClass ClassifyError(rd_kafka_resp_err_t error) {
  return ClassOf(absl::Status(CodeOf(error), "-"));
}

ErrorClass ClassOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kCancelled:
      return ErrorClass::kTransient;
    case absl::StatusCode::kInvalidArgument:
      return ErrorClass::kPermanentForRecord;
    default:
      return ErrorClass::kFatal;
  }
}

absl::string_view ErrorClassName(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kPermanentForRecord:
      return "permanent for the record";
    case ErrorClass::kFatal:
      return "fatal";
  }
  return "fatal";
}

absl::Status ErrorToStatus(rd_kafka_resp_err_t error,
                           absl::string_view context) {
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::Status(CodeOf(error),
                      absl::StrCat(context, ": ", rd_kafka_err2str(error), " (",
                                   rd_kafka_err2name(error), ")"));
}

namespace {

void LogFromLibrdkafka(const rd_kafka_t* /*handle*/, int level,
                       const char* facility, const char* text) {
  // syslog levels: 0-3 error, 4 warning, the rest informational (librdkafka is
  // quiet below warnings unless asked, e.g. `-X debug=cgrp`).
  if (level <= 3) {
    logging::Error("kafka %s: %s", facility, text);
  } else if (level == 4) {
    logging::Warning("kafka %s: %s", facility, text);
  } else {
    logging::Info("kafka %s: %s", facility, text);
  }
}

void LogFatalError(rd_kafka_t* handle, int error, const char* reason,
                   void* /*opaque*/) {
  // Transient errors (a broker down) also reach librdkafka's log, which is
  // routed above; only fatal ones need saying again here.
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(handle, fatal, sizeof(fatal));
    logging::Error("kafka client failed for good: %s", fatal);
  } else if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    logging::Warning("kafka: all brokers are down (%s); retrying", reason);
  }
}

}  // namespace

void InstallErrorLogger(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, &LogFromLibrdkafka);
  rd_kafka_conf_set_error_cb(conf, &LogFatalError);
}

}  // namespace kitchen::kafka
