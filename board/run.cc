// File: board/run.cc

#include "board/run.h"

#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "board/server.h"
#include "cli/exit_codes.h"
#include "logging/log.h"
#include "service/metrics.h"

namespace kitchen::board {

int RunBoard(const RunOptions& options, const kafka::ClientConfig& config,
             absl::Notification& stop) {
  Board board(options.board);
  if (absl::Status desk = board.OpenOrderDesk(config, options.topics.orders);
      !desk.ok()) {
    logging::Error("%s", desk.message());
    return cli::kExitUsage;
  }
  service::Metrics metrics;
  absl::StatusOr<std::unique_ptr<Watcher>> watcher =
      Watcher::Create(config, options.topics, board, &metrics);
  if (!watcher.ok()) {
    logging::Error("%s", watcher.status().message());
    return cli::kExitUsage;
  }
  ServerOptions server_options = options.server;
  server_options.orders_placed =
      &metrics.Counter("kitchen_board_orders_placed_total",
                       "Orders placed from the board's page and acknowledged.");
  server_options.orders_failed = &metrics.Counter(
      "kitchen_board_order_errors_total",
      "Orders from the board's page not placed: refused as input, or not "
      "acknowledged by Kafka.");
  server_options.streams_open =
      &metrics.Gauge("kitchen_board_event_streams",
                     "Event streams (pages) open on the board now.");
  std::unique_ptr<service::MetricsEndpoint> endpoint;
  if (options.metrics_port > 0) {
    auto started = service::MetricsEndpoint::Start(
        metrics, options.metrics_listen, options.metrics_port);
    if (!started.ok()) {
      logging::Error("%s", started.status().message());
      return cli::kExitUsage;
    }
    endpoint = *std::move(started);
    logging::Info("metrics at http://%s:%d/metrics", options.metrics_listen,
                  endpoint->port());
  }
  Server server(board, server_options);
  absl::StatusOr<int> port = server.Listen(options.listen, options.port);
  if (!port.ok()) {
    logging::Error("%s", port.status().message());
    return cli::kExitUsage;
  }
  // An IPv6 address is written in brackets in a URL.
  const std::string host = options.listen.find(':') != std::string::npos
                               ? absl::StrCat("[", options.listen, "]")
                               : options.listen;
  std::printf("board: http://%s:%d/\n", host.c_str(), *port);
  std::fflush(stdout);
  logging::Info("serving http://%s:%d/, brokers %s", host, *port,
                config.bootstrap_servers);

  std::thread serving([&server] { server.Serve(); });
  std::thread watching([&] { (*watcher)->Run(stop); });
  stop.WaitForNotification();
  server.Stop();
  serving.join();
  watching.join();
  logging::Info("board stopped");
  return cli::kExitOk;
}

}  // namespace kitchen::board
