// File: waiter/menu.cc

#include "waiter/menu.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "waiter/quote.h"

namespace kitchen::waiter {
namespace {

// Lower case, one space between words: "Quattro  Formaggi" is on the menu.
std::string Normalize(absl::string_view name) {
  std::string normal = absl::AsciiStrToLower(name);
  absl::RemoveExtraAsciiWhitespace(&normal);
  return normal;
}

}  // namespace

Menu Menu::Default() {
  return Menu({"margherita", "marinara", "diavola", "capricciosa",
               "quattro formaggi", "quattro stagioni", "napoletana",
               "prosciutto e funghi", "calzone", "romana", "ortolana",
               "bufalina"});
}

absl::StatusOr<Menu> Menu::Parse(absl::string_view text,
                                 absl::string_view source) {
  std::vector<std::string> pizzas;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    std::string name = Normalize(line);
    if (name.empty() || name[0] == '#') continue;
    if (std::find(pizzas.begin(), pizzas.end(), name) != pizzas.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": ", name, " is on the menu twice"));
    }
    pizzas.push_back(std::move(name));
  }
  if (pizzas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the menu is empty"));
  }
  return Menu(std::move(pizzas));
}

absl::StatusOr<Menu> Menu::ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read menu ", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<std::string> Menu::Find(absl::string_view pizza) const {
  std::string wanted = Normalize(pizza);
  if (wanted.empty()) return absl::InvalidArgumentError("no pizza named");
  const std::string* closest = nullptr;
  int closest_distance = 0;
  for (const std::string& name : pizzas_) {
    if (name == wanted) return name;
    int distance = EditDistance(wanted, name);
    if (closest == nullptr || distance < closest_distance) {
      closest = &name;
      closest_distance = distance;
    }
  }
  std::string message = absl::StrCat(Quote(pizza), " is not on the menu");
  // Only suggest what is plausibly a typo, not any pizza at all.
  if (closest != nullptr &&
      closest_distance <=
          std::max<int>(2, static_cast<int>(wanted.size()) / 3)) {
    absl::StrAppend(&message, "; did you mean ", *closest, "?");
  } else {
    absl::StrAppend(&message, " (waiter --menu lists it)");
  }
  return absl::NotFoundError(message);
}

int EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<int> previous(b.size() + 1);
  std::vector<int> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] =
          std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace kitchen::waiter
