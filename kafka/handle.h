// File: kafka/handle.h
//
// Ownership of a librdkafka client handle (rd_kafka_t): destroyed with it.
// Producer and Consumer own theirs. And of the partition lists a consumer asks
// and answers with, and of a consumer's group metadata.
//
// Usage:
//   HandlePtr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, size));
//   PartitionListPtr list(rd_kafka_topic_partition_list_new(1));

#ifndef KITCHEN_KAFKA_HANDLE_H_
#define KITCHEN_KAFKA_HANDLE_H_

#include <librdkafka/rdkafka.h>

#include <memory>

namespace kitchen::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// A consumer's group metadata (generation, member id), for a transaction.
struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
using GroupMetadataPtr =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;

}  // namespace kitchen::kafka

#endif  // KITCHEN_KAFKA_HANDLE_H_
