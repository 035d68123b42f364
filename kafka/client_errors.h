// File: kafka/client_errors.h
//
// The kitchen's one table of librdkafka errors: each error is transient (try
// again later, with a backoff), permanent for the record it met (this record
// can never be written as it is; the next one can), or fatal (nothing works
// until a person acts: stop, saying what to do). Every service decides from
// it: the consumer loop and the dead-letter sender (orders/dead_letter.h),
// the producer's delivery reports (kafka/producer.h). The class travels in the
// status code ErrorToStatus gives, so code above this layer asks ClassOf() of
// a status instead of knowing librdkafka's codes. Also: librdkafka's own log
// lines routed through the kitchen's log so a person sees one format.

#ifndef KITCHEN_KAFKA_CLIENT_ERRORS_H_
#define KITCHEN_KAFKA_CLIENT_ERRORS_H_

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kitchen::kafka {

enum class ErrorClass {
  // Unavailable, DeadlineExceeded, ResourceExhausted, Cancelled: a broker
  // away, a timeout, a full queue, a record taken back. Trying again may work.
  kTransient,
  // InvalidArgument: the record itself cannot be written (too large for the
  // producer or the broker, a record the broker refuses as corrupt). Trying
  // again never works; another record would.
  kPermanentForRecord,
  // Anything else (PermissionDenied, Unauthenticated, NotFound,
  // FailedPrecondition, Internal): authorization or authentication refused, a
  // topic that does not exist, a fenced or failed client, an error this table
  // does not know. Nothing will work until a person acts.
  kFatal,
};

// Which class `error` is in (NO_ERROR: transient, never asked in practice).
ErrorClass ClassifyError(rd_kafka_resp_err_t error);

// The class of a status ErrorToStatus made (OK: transient).
ErrorClass ClassOf(const absl::Status& status);

// "transient", "permanent for the record", "fatal": for logs.
absl::string_view ErrorClassName(ErrorClass error_class);

// "context: librdkafka's description (ERROR_NAME)", with a status code of the
// error's class (see ErrorClass).
absl::Status ErrorToStatus(rd_kafka_resp_err_t error,
                           absl::string_view context);

// Routes librdkafka's log (warnings and worse) and fatal errors to
// logging/log.h.
void InstallErrorLogger(rd_kafka_conf_t* conf);

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_CLIENT_ERRORS_H_
