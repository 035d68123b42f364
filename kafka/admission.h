// File: kafka/admission.h
//
// Are we let in? The start-up check every service makes before it works: one
// metadata request to the brokers, bounded, that tells a broker's refusal of
// this client's credentials or TLS apart from a broker that is simply away.
// librdkafka retries a failed authentication or TLS handshake forever, each
// attempt a log line, so without this check a service with a wrong password
// looks like one waiting for a broker. A refusal is for a person to fix: the
// service stops (cli::kExitKafka) with an error naming the cause; a broker
// that does not answer in time is ridden out by the service as before. The
// error never shows a property's value (the user name is secret too).

#ifndef KITCHEN_KAFKA_ADMISSION_H_
#define KITCHEN_KAFKA_ADMISSION_H_

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kafka/config.h"

namespace kitchen::kafka {

// How long a service waits at start for the brokers' answer or refusal.
inline constexpr absl::Duration kAdmissionTimeout = absl::Seconds(15);

// OK when the brokers answered a metadata request, or when none could be
// reached (every connection failed) or answered within `timeout` without
// refusing us (away: the caller carries on as before, and waits for them).
// Unauthenticated when a broker refused the SASL credentials, the TLS handshake
// failed (an untrusted certificate, TLS spoken to a plaintext listener), or a
// broker hung up at the first request (plaintext spoken to a TLS or SASL
// listener); the message says which and what to check. InvalidArgument (from
// BuildConf) when the configuration itself is wrong: a usage error, for the
// caller to say as such.
absl::Status CheckAdmission(const ClientConfig& config,
                            absl::Duration timeout = kAdmissionTimeout);

// The error CheckAdmission gives for librdkafka's error `error` with its
// `reason`, or OK when the error is not a refusal (a broker away, a timeout).
absl::Status ClassifyAdmissionError(rd_kafka_resp_err_t error,
                                    absl::string_view reason);

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_ADMISSION_H_
