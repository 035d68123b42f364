// File: waiter/menu.h
//
// The restaurant's menu: the pizzas a waiter accepts. A default menu of real
// pizzas is built in; a file (one pizza per line, '#' comments) replaces it.
// Names match without regard to case or surrounding spaces, and an unknown name
// gets the closest one suggested.
//
// Usage:
//   Menu menu = Menu::Default();
//   absl::StatusOr<std::string> pizza = menu.Find("Margherita");
//       // *pizza == "margherita"
//   menu.Find("margarita").status().message();
//     // "margarita is not on the menu; did you mean margherita?"

#ifndef KITCHEN_WAITER_MENU_H_
#define KITCHEN_WAITER_MENU_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kitchen::waiter {

class Menu {
 public:
  static Menu Default();
  // Parses a menu file's text; `source` names it in errors. An empty menu is an
  // error.
  static absl::StatusOr<Menu> Parse(absl::string_view text,
                                    absl::string_view source);
  static absl::StatusOr<Menu> ReadFile(const std::string& path);

  // The menu's spelling of `pizza`, or NotFound with the closest suggestion.
  absl::StatusOr<std::string> Find(absl::string_view pizza) const;

  const std::vector<std::string>& pizzas() const { return pizzas_; }

 private:
  explicit Menu(std::vector<std::string> pizzas) : pizzas_(std::move(pizzas)) {}
  std::vector<std::string> pizzas_;
};

// The number of single-character edits between `a` and `b` (Levenshtein).
int EditDistance(absl::string_view a, absl::string_view b);

}  // namespace kitchen::waiter

#endif  // KITCHEN_WAITER_MENU_H_
