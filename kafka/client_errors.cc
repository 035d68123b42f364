// File: kafka/client_errors.cc

#include "kafka/client_errors.h"

#include "absl/strings/str_cat.h"
#include "logging/log.h"

namespace kitchen::kafka {

absl::Status ErrorToStatus(rd_kafka_resp_err_t error,
                           absl::string_view context) {
  std::string message = absl::StrCat(context, ": ", rd_kafka_err2str(error),
                                     " (", rd_kafka_err2name(error), ")");
  switch (error) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::CancelledError(message);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
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
