// File: deploy/devbroker/tcp_forwarder.h
//
// A plain TCP forwarder on a fixed local port in front of the mock cluster.
// librdkafka 2.0.2's mock brokers each bind an ephemeral port that cannot be
// chosen, but clients (and the docker-compose default) expect localhost:9092.
// Clients only bootstrap through this port: the metadata they read names each
// mock broker's own address, which they then connect to directly. Each accepted
// connection is relayed, byte for byte, to the first target that accepts it, so
// the bootstrap survives one broker being down.
//
// Usage:
//   auto forwarder =
//       TcpForwarder::Start(9092, {"127.0.0.1:40001", "127.0.0.1:40002"});
//   int port = (*forwarder)->port();  // the chosen one when asked for 0

#ifndef KITCHEN_DEPLOY_DEVBROKER_TCP_FORWARDER_H_
#define KITCHEN_DEPLOY_DEVBROKER_TCP_FORWARDER_H_

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace kitchen::devbroker {

class TcpForwarder {
 public:
  // Listens on 127.0.0.1:`port` (and [::1]:port where the machine has IPv6, so
  // that "localhost" works whichever address it resolves to first). Port 0
  // picks a free one.
  static absl::StatusOr<std::unique_ptr<TcpForwarder>> Start(
      int port, std::vector<std::string> targets);

  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;
  // Stops accepting, closes every relayed connection and joins all threads.
  ~TcpForwarder();

  int port() const { return port_; }

 private:
  struct Connection {
    int client_fd = -1;
    int target_fd = -1;
    std::atomic<bool> done{false};
    std::thread relay;
  };

  explicit TcpForwarder(std::vector<std::string> targets)
      : targets_(std::move(targets)) {}
  void AcceptLoop();
  int ConnectToATarget();
  static void Relay(Connection* connection);
  void ReapFinished();

  std::vector<std::string> targets_;
  std::vector<int> listen_fds_;
  int port_ = 0;
  int wake_pipe_[2] = {-1,
                       -1};  // Written to on stop, to end AcceptLoop's poll.
  std::thread accept_thread_;
  absl::Mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kitchen::devbroker

#endif  // KITCHEN_DEPLOY_DEVBROKER_TCP_FORWARDER_H_
