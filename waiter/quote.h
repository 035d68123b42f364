// File: waiter/quote.h
//
// User input as error messages show it: in quotes, bytes that are not
// printable ASCII escaped (a binary file fed as orders must not fill a
// terminal with garbage), and cut after 40 characters.
//
// Usage:
//   absl::StrCat(Quote(table), " is not a number")   // "7\xff..." is not ...

#ifndef KITCHEN_WAITER_QUOTE_H_
#define KITCHEN_WAITER_QUOTE_H_

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kitchen::waiter {

inline std::string Quote(absl::string_view input) {
  constexpr size_t kMostShown = 40;
  const bool cut = input.size() > kMostShown;
  return absl::StrCat("\"", absl::CHexEscape(input.substr(0, kMostShown)),
                      cut ? "...\"" : "\"");
}

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_QUOTE_H_
