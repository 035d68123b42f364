// File: board/server.h
//
// The board's HTTP side, on the kitchen's HTTP server (http/server.h,
// cpp-httplib): one page and a small JSON API.
//   GET  /                the page (board/page.html)
//   GET  /api/state       {"summary": ..., "changes": every card}
//   GET  /api/events      server-sent events: `cards` (id: the view's version;
//                         a reconnecting EventSource sends Last-Event-ID and
//                         gets what changed since, so no card is lost or
//                         doubled) and `summary` (groups, lag, counts), each
//                         second
//   GET  /api/menu        {"pizzas": [...], "tables": {"min", "max"}}
//   POST /api/orders      {"pizza", "table"} as JSON: 201 with the
//                         order's partition, offset and id; 400 with the
//                         waiter's error for a bad order; 503 if the broker
//                         did not take it
//   POST /api/burst       {"count"}: places that many orders (bounded)
// A POST must be JSON, with Host one of the board's names and Origin this
// board (403 otherwise): no order from another site's page, a DNS-rebound
// name, or a GET.
// Anything else is 404 (or 405 for a known path with another method), always
// with a JSON {"error": ...}. Bodies are bounded (64 KiB) and so are open
// event streams (each holds a thread).
//
// Usage:
//   Server server(board);
//   absl::StatusOr<int> port = server.Listen("127.0.0.1", 0);
//   std::thread serving([&] { server.Serve(); });
//   ...
//   server.Stop();  // Returns once every stream noticed.
//   serving.join();

#ifndef KITCHEN_BOARD_SERVER_H_
#define KITCHEN_BOARD_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "board/board.h"
#include "http/server.h"

namespace httplib {
class Server;
}
namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace kitchen::board {

struct ServerOptions {
  int max_streams = 32;
  size_t max_body_bytes = 64 * 1024;
  // Host names (with ":PORT", or the listening port is assumed) a request may
  // give besides the loopback names and the address listened on: the names
  // of a proxy or a Kubernetes Service in front of the board.
  std::vector<std::string> allowed_hosts;
  // Counts the orders the page placed (acknowledged), those it could not
  // place (refused as input, or not acknowledged), and the event streams
  // open; null: not counted.
  prometheus::Counter* orders_placed = nullptr;
  prometheus::Counter* orders_failed = nullptr;
  prometheus::Gauge* streams_open = nullptr;
};

class Server {
 public:
  explicit Server(Board& board, ServerOptions options = {});
  ~Server();

  // Binds `host`:`port` (0: any free port); returns the port.
  absl::StatusOr<int> Listen(const std::string& host, int port);
  // Serves until Stop().
  void Serve();
  void Stop();

 private:
  void Route();

  Board& board_;
  const ServerOptions options_;
  std::vector<std::string> hosts_;  // Host headers answered (Listen()).
  std::atomic<int> streams_{0};
  http::Server server_;
  httplib::Server* http_;  // server_'s routes.
};

}  // namespace kitchen::board

#endif  // KITCHEN_BOARD_SERVER_H_
