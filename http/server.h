// File: http/server.h
//
// The kitchen's one embedded HTTP server: a cpp-httplib server (Debian's
// libcpp-httplib-dev) with its thread pool, body limit, binding and stopping,
// shared by the board's page and API (board/server.h) and every service's
// /metrics (service/metrics.h). Routes are added on routes() before Serve().
//
// Usage:
//   http::Server server({.threads = 4});
//   server.routes().Get("/metrics", handler);
//   absl::StatusOr<int> port = server.Listen("127.0.0.1", 0);  // 0: any
//   std::thread serving([&] { server.Serve(); });
//   ...
//   server.Stop();
//   serving.join();

#ifndef KITCHEN_HTTP_SERVER_H_
#define KITCHEN_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace kitchen::http {

struct ServerOptions {
  int threads = 4;  // Requests served at once (a stream holds one).
  size_t max_body_bytes = 64 * 1024;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Where routes are added (cpp-httplib's API), before Serve().
  httplib::Server& routes() { return *http_; }

  // Binds `host`:`port` (0: any free port); returns the port. Unavailable
  // names the address when it cannot be had.
  absl::StatusOr<int> Listen(const std::string& host, int port);
  // Serves until Stop().
  void Serve();
  // Ends Serve(); one starting on another thread is waited for (up to a
  // second) to be listening first.
  void Stop();

 private:
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace kitchen::http

#endif  // KITCHEN_HTTP_SERVER_H_
