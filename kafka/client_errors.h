// File: kafka/client_errors.h
//
// librdkafka error codes as absl::Status, and librdkafka's own log lines routed
// through the kitchen's log so a person sees one format.

#ifndef KITCHEN_KAFKA_CLIENT_ERRORS_H_
#define KITCHEN_KAFKA_CLIENT_ERRORS_H_

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kitchen::kafka {

// "context: librdkafka's description (ERROR_NAME)", with a status code that
// says whether trying again may help (Unavailable, DeadlineExceeded) or not.
absl::Status ErrorToStatus(rd_kafka_resp_err_t error,
                           absl::string_view context);

// Routes librdkafka's log (warnings and worse) and fatal errors to
// logging/log.h.
void InstallErrorLogger(rd_kafka_conf_t* conf);

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_CLIENT_ERRORS_H_
