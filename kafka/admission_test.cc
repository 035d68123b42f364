// File: kafka/admission_test.cc
//
// The start-up check against real peers: the in-process dev broker (admitted),
// the dev broker spoken to with TLS (a failed handshake), a listener that
// hangs up at once (what a TLS listener does to plaintext), nothing listening
// (away: not a refusal, said at once). Wrong credentials and untrusted
// certificates need a real Kafka: tests/secure_test.

#include "kafka/admission.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"

namespace kitchen::kafka {
namespace {

// A TCP listener on 127.0.0.1 that closes every connection as soon as it is
// made; port 0 until started.
class HangUpListener {
 public:
  HangUpListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    socklen_t size = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stopping_) {
        int connection = accept(fd_, nullptr, nullptr);
        if (connection >= 0) close(connection);
      }
    });
  }
  ~HangUpListener() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A port nothing listens on (bound, then closed).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(AdmissionTest, TheDevBrokerAdmitsAPlaintextClient) {
  auto broker = devbroker::StartDevBroker({{"orders-test", 1}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  EXPECT_TRUE(
      CheckAdmission({(*broker)->bootstrap_servers(), {}}, absl::Seconds(10))
          .ok());
}

TEST(AdmissionTest, TlsSpokenToAPlaintextListenerIsAFailedHandshake) {
  auto broker = devbroker::StartDevBroker({{"orders-test", 1}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const absl::Time began = absl::Now();
  absl::Status status = CheckAdmission(
      {(*broker)->bootstrap_servers(), {{"security.protocol", "ssl"}}},
      absl::Seconds(20));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "the TLS handshake with the brokers"))
      << status;
  EXPECT_LT(absl::Now() - began, absl::Seconds(10)) << "not at the first try";
}

TEST(AdmissionTest, AListenerThatHangsUpAtOnceIsAProtocolMismatch) {
  HangUpListener listener;
  absl::Status status = CheckAdmission(
      {absl::StrCat("127.0.0.1:", listener.port()), {}}, absl::Seconds(20));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "check security.protocol"))
      << status;
}

TEST(AdmissionTest, NoBrokerListeningIsNotARefusal) {
  const absl::Time began = absl::Now();
  absl::Status status = CheckAdmission(
      {absl::StrCat("127.0.0.1:", UnusedPort()), {}}, absl::Seconds(20));
  EXPECT_TRUE(status.ok()) << status;
  // Told once every broker is down, not at the timeout: a service whose
  // brokers are away starts as soon as before.
  EXPECT_LT(absl::Now() - began, absl::Seconds(5));
}

TEST(AdmissionTest, RefusedCredentialsNameTheCauseAndNoValue) {
  absl::Status status = ClassifyAdmissionError(
      RD_KAFKA_RESP_ERR__AUTHENTICATION,
      "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: "
      "Authentication failed during authentication due to invalid "
      "credentials with SASL mechanism SCRAM-SHA-512");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "the user is unknown or the password is wrong"))
      << status;
  status = ClassifyAdmissionError(
      RD_KAFKA_RESP_ERR__SSL,
      "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: "
      "error:0A000086:SSL routines::certificate verify failed: broker "
      "certificate could not be verified");
  EXPECT_TRUE(
      absl::StrContains(status.message(), "we do not trust the broker's"))
      << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "credentials")) << status;
  EXPECT_TRUE(ClassifyAdmissionError(RD_KAFKA_RESP_ERR__TRANSPORT,
                                     "Connect to ipv4#127.0.0.1:1 failed: "
                                     "Connection refused")
                  .ok());
}

}  // namespace
}  // namespace kitchen::kafka
