// File: board/run.h
//
// The board service put together: the Board, its order desk, the watcher's
// thread reading Kafka and the HTTP server's, until a stop signal; then both
// stopped, streams included, before it returns. main.cc only parses flags.
//
// Usage:
//   int status = RunBoard(options, kafka_config, stop_signal.stop());

#ifndef KITCHEN_BOARD_RUN_H_
#define KITCHEN_BOARD_RUN_H_

#include <string>

#include "absl/synchronization/notification.h"
#include "board/board.h"
#include "board/server.h"
#include "board/watcher.h"
#include "kafka/config.h"

namespace kitchen::board {

struct RunOptions {
  std::string listen = "127.0.0.1";
  int port = 8080;  // 0: any free port.
  std::string metrics_listen = "127.0.0.1";
  int metrics_port = 0;  // 0: no /metrics.
  BoardOptions board;
  ServerOptions server;
  WatcherTopics topics;
};

// Serves until `stop` is notified. Prints "board: http://HOST:PORT/" on
// standard output once it serves. Returns an exit status (cli/exit_codes.h).
int RunBoard(const RunOptions& options, const kafka::ClientConfig& config,
             absl::Notification& stop);

}  // namespace kitchen::board

#endif  // KITCHEN_BOARD_RUN_H_
