// File: kafka/admission.cc
//
// The start-up check (admission.h): a producer handle that only asks for
// metadata, its error callback catching the first refusal, its log quiet (the
// refusal is said once, by the caller).

#include "kafka/admission.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kafka/handle.h"

namespace kitchen::kafka {
namespace {

// The first refusal the error callback saw (librdkafka's own thread or the
// caller's rd_kafka_poll).
struct Refusal {
  std::mutex mutex;
  absl::Status status;
  // Every broker unreachable before any refused us: away, not a refusal.
  bool away = false;
};

void OnError(rd_kafka_t*, int error, const char* reason, void* opaque) {
  auto* refusal = static_cast<Refusal*>(opaque);
  absl::Status status = ClassifyAdmissionError(
      static_cast<rd_kafka_resp_err_t>(error), reason == nullptr ? "" : reason);
  std::lock_guard<std::mutex> lock(refusal->mutex);
  if (refusal->status.ok()) refusal->status = status;
  if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) refusal->away = true;
}

void Quiet(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

absl::Status ClassifyAdmissionError(rd_kafka_resp_err_t error,
                                    absl::string_view reason) {
  const std::string said = absl::StrCat(" (librdkafka: ", reason, ")");
  switch (error) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      if (absl::StrContains(reason, "SSL")) break;  // A handshake, below.
      return absl::UnauthenticatedError(absl::StrCat(
          "the brokers refused our credentials (SASL authentication failed): "
          "the user is unknown or the password is wrong; check sasl.username, "
          "sasl.password and sasl.mechanisms in the Kafka properties",
          said));
    case RD_KAFKA_RESP_ERR__SSL:
      break;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
      // A handshake the broker ended: TLS spoken to a plaintext listener.
      if (absl::StrContains(reason, "SSL_HANDSHAKE") ||
          absl::StrContains(reason, "SSL routines")) {
        break;
      }
      // librdkafka's own hint when a broker hangs up at the first request.
      if (absl::StrContains(reason, "security.protocol")) {
        return absl::UnauthenticatedError(absl::StrCat(
            "the brokers hung up at our first request: they expect TLS or "
            "SASL and we speak another protocol; check security.protocol in "
            "the Kafka properties",
            said));
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "the TLS handshake with the brokers failed: ",
      absl::StrContains(reason, "certificate verify failed") ||
              absl::StrContains(reason, "could not be verified")
          ? "we do not trust the broker's certificate; check ssl.ca.location "
            "(the CA that signed it)"
          : "check security.protocol (TLS to a listener without it?) and "
            "the ssl.* properties",
      said));
}

absl::Status CheckAdmission(const ClientConfig& config,
                            absl::Duration timeout) {
  absl::StatusOr<ConfPtr> conf = BuildConf(ForProducer(config), {});
  if (!conf.ok()) return conf.status();
  Refusal refusal;
  rd_kafka_conf_set_opaque(conf->get(), &refusal);
  rd_kafka_conf_set_error_cb(conf->get(), &OnError);
  rd_kafka_conf_set_log_cb(conf->get(), &Quiet);
  char error[512];
  HandlePtr probe(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error)));
  if (probe == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot make a Kafka client: ", error));
  }
  (void)conf->release();  // rd_kafka_new took it.
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const struct rd_kafka_metadata* metadata = nullptr;
    // Short asks, so that a refusal met meanwhile is seen soon.
    const absl::Duration ask =
        std::max(absl::Milliseconds(1),
                 std::min(deadline - absl::Now(), absl::Milliseconds(500)));
    rd_kafka_resp_err_t asked =
        rd_kafka_metadata(probe.get(), 0, nullptr, &metadata,
                          static_cast<int>(absl::ToInt64Milliseconds(ask)));
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    rd_kafka_poll(probe.get(), 0);  // Serves the error callback.
    {
      std::lock_guard<std::mutex> lock(refusal.mutex);
      if (!refusal.status.ok()) return refusal.status;
      if (refusal.away) return absl::OkStatus();
    }
    if (asked == RD_KAFKA_RESP_ERR_NO_ERROR || absl::Now() >= deadline) {
      return absl::OkStatus();
    }
  }
}

}  // namespace kitchen::kafka
