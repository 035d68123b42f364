// File: waiter/order_form.h
//
// What a person types, checked before anything is sent: a pizza on the menu and
// a table number in range. Used for flags, for `waiter PIZZA TABLE`, and for
// each line of an order file ("quattro formaggi 4": the last word is the table,
// the rest the pizza).
//
// Usage:
//   absl::StatusOr<OrderRequest> order =
//       CheckOrder("Margherita", "17", Menu::Default(), TableRange{1, 100});
//   absl::StatusOr<absl::optional<OrderRequest>> line =
//       ParseOrderLine("diavola 3  # window seat", menu, range);

#ifndef KITCHEN_WAITER_ORDER_FORM_H_
#define KITCHEN_WAITER_ORDER_FORM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "waiter/menu.h"

namespace kitchen::waiter {

struct TableRange {
  int32_t min = 1;
  int32_t max = 100;
};

// A checked order: the menu's spelling of the pizza and a table in range.
struct OrderRequest {
  std::string pizza;
  int32_t table = 0;
};

// Checks a pizza and a table as typed. InvalidArgument/NotFound say what is
// wrong.
absl::StatusOr<OrderRequest> CheckOrder(absl::string_view pizza,
                                        absl::string_view table,
                                        const Menu& menu,
                                        const TableRange& range);

// Parses one line of an order file: "PIZZA TABLE", where '#' starts a comment.
// nullopt for a blank or comment-only line.
absl::StatusOr<absl::optional<OrderRequest>> ParseOrderLine(
    absl::string_view line, const Menu& menu, const TableRange& range);

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_ORDER_FORM_H_
