// File: waiter/waiter.h
//
// The waiter's modes, behind its command line: what was asked for is checked
// first (Waiter::Create: nothing connects, nothing is sent), then placed
// (Waiter::Run) in one of four ways:
//   - one order, from --pizza/--table or `waiter PIZZA TABLE`;
//   - an order file (--file), read line by line as it is placed; with
//     --strict checked whole first (one pass, one line held at a time), so
//     that nothing is sent from a file with a bad line;
//   - standard input line by line, with a prompt when it is a terminal (a
//     person waits for each answer before typing the next order);
//   - load mode (--count, --rate, --seed): random orders, then a summary.
// Acknowledgements go to WaiterOptions::out (in load mode only the summary
// does); errors and the line modes' summary go to the log (standard error).
// With --wait (WaiterOptions::wait) the order events are watched from before
// the first order is placed (ready_watch.h), and once every order is answered
// the waiter waits for their READYs: a `ready: ...` line each on `out` (load
// mode: a summary with placed -> ready percentiles), and Tally::not_ready
// counts those not ready within --wait_timeout.
//
// Usage (in main):
//   absl::StatusOr<std::unique_ptr<Waiter>> waiter =
//       Waiter::Create(std::move(options));
//   if (!waiter.ok()) ...                          // exit 1, nothing sent
//   absl::StatusOr<Tally> placed = (*waiter)->Run(kafka, stop);
//   // !placed.ok(): nothing placed (Unavailable: the producer refused it);
//   // else placed->failed and placed->skipped say how the run went.

#ifndef KITCHEN_WAITER_WAITER_H_
#define KITCHEN_WAITER_WAITER_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "kafka/config.h"
#include "orders/order_event.h"
#include "orders/order_record.h"
#include "waiter/menu.h"
#include "waiter/order_desk.h"
#include "waiter/order_form.h"

namespace kitchen::waiter {

// The command line, as main() reads it from the flags.
struct WaiterOptions {
  // One order: --pizza and --table, or the arguments PIZZA... TABLE.
  std::string pizza;
  std::string table;
  std::vector<std::string> arguments;
  // --file: a path, "-" for standard input; empty for none.
  std::string file;
  bool strict = false;
  // Load mode when count > 0.
  int64_t count = 0;
  double rate = 0;
  uint64_t seed = 0;  // 0: a random seed, logged.

  Menu menu = Menu::Default();
  TableRange tables;
  std::string topic = orders::kOrderTopic;
  absl::Duration delivery_timeout = absl::Seconds(10);
  // --wait: wait for each order's READY on `status_topic`.
  bool wait = false;
  absl::Duration wait_timeout = absl::Minutes(1);
  std::string status_topic = orders::kStatusTopic;

  // Where a person's terminal is, unless a test says otherwise.
  int input = STDIN_FILENO;  // Read when neither an order nor --file is given.
  FILE* out = stdout;        // Acknowledged orders and the load summary.
  FILE* prompt = stderr;     // The prompt, when `input` is a terminal.
};

// What the options ask for.
enum class Mode { kOneOrder, kLines, kLoad };

class Waiter {
 public:
  // Checks everything the person typed: the table range, the topic name, the
  // delivery timeout, that at most one mode is asked for, the one order
  // against the menu, and that an order file can be opened. InvalidArgument
  // (NotFound and the like for a file) says what is wrong; nothing has
  // connected.
  static absl::StatusOr<std::unique_ptr<Waiter>> Create(WaiterOptions options);

  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter();  // Closes the order file.

  Mode mode() const { return mode_; }

  // Places the orders through a producer configured from `kafka`, until done
  // or `stop`, and waits for the answers (at most the delivery timeout and
  // 2 s). The tally says what happened; each problem was logged as it came.
  // An error means nothing was placed: a configuration librdkafka refuses or
  // an order file --strict finds a bad line in (InvalidArgument), or the one
  // order refused by the producer (Unavailable).
  absl::StatusOr<Tally> Run(const kafka::ClientConfig& kafka,
                            absl::Notification& stop);

 private:
  explicit Waiter(WaiterOptions options) : options_(std::move(options)) {}
  absl::Status CheckMode();
  absl::Status OpenInput();
  absl::Status PlaceOneOrder(OrderDesk& desk);
  void PlaceLoad(OrderDesk& desk, absl::Notification& stop);
  // Reads the input line by line (a file, a pipe, a terminal), placing each
  // order as it comes.
  void PlaceLines(OrderDesk& desk, absl::Notification& stop);
  // With --strict, a regular order file is checked whole before anything is
  // sent, in one pass that holds one line at a time, and rewound for
  // PlaceLines: a bad line (or one too long) is an error, nothing is sent.
  // Nothing to do for a stream (a pipe, a terminal), which cannot be read
  // twice, or without --strict.
  absl::Status CheckOrderFile(absl::Notification& stop);
  absl::Duration answer_timeout() const {
    return options_.delivery_timeout + absl::Seconds(2);
  }

  WaiterOptions options_;
  Mode mode_ = Mode::kLines;
  OrderRequest order_;            // kOneOrder.
  int input_ = -1;                // kLines: what is read.
  bool owns_input_ = false;       // An order file, closed with the waiter.
  std::string source_ = "stdin";  // kLines: how errors name the input.
};

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_WAITER_H_
