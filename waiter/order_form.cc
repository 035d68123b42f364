// File: waiter/order_form.cc

#include "waiter/order_form.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "waiter/quote.h"

namespace kitchen::waiter {

absl::StatusOr<OrderRequest> CheckOrder(absl::string_view pizza,
                                        absl::string_view table,
                                        const Menu& menu,
                                        const TableRange& range) {
  pizza = absl::StripAsciiWhitespace(pizza);
  table = absl::StripAsciiWhitespace(table);
  if (pizza.empty())
    return absl::InvalidArgumentError("missing pizza (see --menu)");
  absl::StatusOr<std::string> on_menu = menu.Find(pizza);
  if (!on_menu.ok()) return on_menu.status();
  if (table.empty()) return absl::InvalidArgumentError("missing table");
  int64_t number = 0;
  if (!absl::SimpleAtoi(table, &number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", Quote(table), " is not a number"));
  }
  if (number < range.min || number > range.max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table ", number, " is out of range ", range.min, "-", range.max));
  }
  return OrderRequest{*std::move(on_menu), static_cast<int32_t>(number)};
}

absl::StatusOr<absl::optional<OrderRequest>> ParseOrderLine(
    absl::string_view line, const Menu& menu, const TableRange& range) {
  size_t comment = line.find('#');
  if (comment != absl::string_view::npos) line = line.substr(0, comment);
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return absl::nullopt;
  size_t last_space = line.find_last_of(" \t");
  if (last_space == absl::string_view::npos) {
    // One word: a pizza with no table, or a table with no pizza.
    int64_t number;
    if (absl::SimpleAtoi(line, &number)) {
      return absl::InvalidArgumentError(
          "missing pizza (expected: PIZZA TABLE)");
    }
    return absl::InvalidArgumentError("missing table (expected: PIZZA TABLE)");
  }
  absl::StatusOr<OrderRequest> order = CheckOrder(
      line.substr(0, last_space), line.substr(last_space + 1), menu, range);
  if (!order.ok()) return order.status();
  return absl::optional<OrderRequest>(*std::move(order));
}

}  // namespace kitchen::waiter
