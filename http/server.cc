// File: http/server.cc

#include "http/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace kitchen::http {

Server::Server(ServerOptions options)
    : http_(std::make_unique<httplib::Server>()) {
  const int threads = options.threads;
  // cpp-httplib takes ownership of the queue it is handed.
  http_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  http_->set_payload_max_length(options.max_body_bytes);
  // cpp-httplib's default options add SO_REUSEPORT, with which Linux lets a
  // second server bind a port a live one listens on and shares connections
  // between them (http/server_test). SO_REUSEADDR alone still allows a quick
  // restart on a port whose old connections linger in TIME_WAIT.
  http_->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

Server::~Server() = default;

absl::StatusOr<int> Server::Listen(const std::string& host, int port) {
  if (port == 0) {
    port = http_->bind_to_any_port(host);
    if (port <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", host, " (any port)"));
    }
  } else if (!http_->bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port,
                     " (in use, or not an address of this machine)"));
  }
  return port;
}

void Server::Serve() { http_->listen_after_bind(); }

void Server::Stop() {
  // A Serve() just started on another thread may not be listening yet; stopped
  // before, its listen would never end. Waited for, a little.
  for (int i = 0; i < 1000 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_->stop();
}

}  // namespace kitchen::http
