// File: kafka/topic_name.h
//
// What Kafka accepts as a topic name, checked before a service starts: a bad
// name given by flag or environment is a usage error naming the problem, not a
// client that waits forever on a topic that cannot exist.
//
// Usage:
//   if (absl::Status valid = ValidateTopicName(name); !valid.ok()) ...

#ifndef KITCHEN_KAFKA_TOPIC_NAME_H_
#define KITCHEN_KAFKA_TOPIC_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kitchen::kafka {

// Kafka's rule: 1 to 249 characters of [a-zA-Z0-9._-], and not "." or "..".
// InvalidArgument says what is wrong with `name`.
absl::Status ValidateTopicName(absl::string_view name);

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_TOPIC_NAME_H_
