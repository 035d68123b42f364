// File: kafka/handle.h
//
// Ownership of a librdkafka client handle (rd_kafka_t): destroyed with it.
// Producer and Consumer own theirs; the dev broker's mock cluster lives in one.
//
// Usage:
//   HandlePtr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, size));

#ifndef KITCHEN_KAFKA_HANDLE_H_
#define KITCHEN_KAFKA_HANDLE_H_

#include <librdkafka/rdkafka.h>

#include <memory>

namespace kitchen::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_HANDLE_H_
