// File: kafka/topic_name.cc

#include "kafka/topic_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kitchen::kafka {

absl::Status ValidateTopicName(absl::string_view name) {
  constexpr size_t kMostCharacters = 249;  // Kafka's own limit.
  if (name.empty()) return absl::InvalidArgumentError("topic name is empty");
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name \"", name, "\" is not allowed"));
  }
  if (name.size() > kMostCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topic name is ", name.size(), " characters long; at most ",
        kMostCharacters, " are allowed"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("topic name \"", name,
                       "\" may hold only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kitchen::kafka
