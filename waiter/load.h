// File: waiter/load.h
//
// Load mode: `waiter --count N [--rate R] [--seed S]` places N orders with
// pizzas and tables drawn from the menu and table range, as fast as the
// producer takes them or paced at R per second. The same seed gives the same
// orders (ids and times differ).
//
// Usage:
//   LoadOptions options;
//   options.count = 200000;
//   RunLoad(*desk, menu, range, options, stop_signal.stop());

#ifndef KITCHEN_WAITER_LOAD_H_
#define KITCHEN_WAITER_LOAD_H_

#include <cstdint>

#include "absl/synchronization/notification.h"
#include "waiter/menu.h"
#include "waiter/order_desk.h"
#include "waiter/order_form.h"

namespace kitchen::waiter {

struct LoadOptions {
  int64_t count = 0;
  double rate = 0;  // Orders per second; 0: as fast as possible.
  uint64_t seed = 0;
  bool progress = false;  // A progress line on standard error (for terminals).
};

// Places the orders, stopping early if `stop` is notified. Does not wait for
// the last answers: call desk.Finish() after.
void RunLoad(OrderDesk& desk, const Menu& menu, const TableRange& range,
             const LoadOptions& options, absl::Notification& stop);

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_LOAD_H_
