// File: kafka/topic_reader.cc

#include "kafka/topic_reader.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kafka/client_errors.h"
#include "logging/log.h"

namespace kitchen::kafka {
namespace {

int Milliseconds(absl::Duration duration) {
  return static_cast<int>(absl::ToInt64Milliseconds(duration));
}

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const {
    rd_kafka_topic_destroy(topic);
  }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};

// The partitions of `topic`, as the cluster's metadata names them.
absl::StatusOr<std::vector<int32_t>> PartitionsOf(rd_kafka_t* handle,
                                                  const std::string& topic,
                                                  absl::Duration timeout) {
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic_handle(
      rd_kafka_topic_new(handle, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* answer = nullptr;
  rd_kafka_resp_err_t got = rd_kafka_metadata(handle, 0, topic_handle.get(),
                                              &answer, Milliseconds(timeout));
  if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(got, absl::StrCat("no metadata for topic ", topic));
  }
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(answer);
  if (metadata->topic_cnt != 1) {
    return absl::UnavailableError(
        absl::StrCat("no metadata for topic ", topic));
  }
  const rd_kafka_metadata_topic_t& described = metadata->topics[0];
  if (described.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      (described.err == RD_KAFKA_RESP_ERR_NO_ERROR &&
       described.partition_cnt == 0)) {
    return absl::NotFoundError(
        absl::StrCat("topic ", topic, " does not exist"));
  }
  if (described.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(described.err, absl::StrCat("topic ", topic));
  }
  std::vector<int32_t> partitions;
  for (int i = 0; i < described.partition_cnt; ++i) {
    partitions.push_back(described.partitions[i].id);
  }
  return partitions;
}

// A group id of this reader's own, never joined.
std::string ReaderGroup() {
  static std::atomic<int> readers{0};
  return absl::StrCat("kitchen-topic-reader-", getpid(), "-", readers++);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TopicReader>> TopicReader::Create(
    const ClientConfig& config, const std::string& topic, Start start,
    Isolation isolation, absl::Duration timeout) {
  absl::StatusOr<ConfPtr> conf = BuildConf(
      config, {
                  // librdkafka 2.0.2 assigns only with a group id; the
                  // reader never joins it (no subscription) nor commits.
                  {"group.id", ReaderGroup()},
                  {"enable.auto.commit", "false"},
                  {"enable.auto.offset.store", "false"},
                  // The dev broker holds an empty fetch this long (Kafka
                  // answers at once when data arrives): short, for latency.
                  {"fetch.wait.max.ms", "10"},
              });
  if (!conf.ok()) return conf.status();
  // The reader's own, whatever the user's configuration says: CaughtUp()
  // rests on end-of-partition events, and the caller chose the isolation.
  for (auto [name, value] :
       {std::pair<const char*, const char*>{"enable.partition.eof", "true"},
        {"isolation.level", isolation == Isolation::kReadCommitted
                                ? "read_committed"
                                : "read_uncommitted"}}) {
    if (absl::Status set = SetProperty(conf->get(), name, value); !set.ok()) {
      return set;
    }
  }
  InstallErrorLogger(conf->get());
  char error[512];
  HandlePtr handle(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof(error)));
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create a reader of ", topic, ": ", error));
  }
  (void)conf->release();  // The handle owns it now.
  rd_kafka_poll_set_consumer(handle.get());

  std::unique_ptr<TopicReader> reader(new TopicReader());
  reader->handle_ = std::move(handle);
  reader->topic_ = topic;
  absl::StatusOr<std::vector<int32_t>> partitions =
      PartitionsOf(reader->handle_.get(), topic, timeout);
  if (!partitions.ok()) return partitions.status();
  for (int32_t partition : *partitions) reader->next_[partition] = -1;
  if (start == Start::kEnd) {
    absl::StatusOr<Offsets> ends = reader->EndOffsets(timeout);
    if (!ends.ok()) return ends.status();
    reader->next_ = *std::move(ends);
  }
  PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions->size())));
  for (const auto& [partition, next] : reader->next_) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)
        ->offset = start == Start::kEnd ? next : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t assigned =
      rd_kafka_assign(reader->handle_.get(), list.get());
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(assigned, absl::StrCat("cannot assign ", topic));
  }
  return reader;
}

absl::StatusOr<absl::optional<Message>> TopicReader::Poll(int timeout_ms) {
  rd_kafka_message_t* raw = rd_kafka_consumer_poll(handle_.get(), timeout_ms);
  if (raw == nullptr) return absl::nullopt;
  Message message(raw);
  if (raw->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    int64_t& next = next_[raw->partition];
    next = std::max(next, raw->offset + 1);
    return message;
  }
  if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    // Its offset is where the fetch stands: past any control records.
    int64_t& next = next_[raw->partition];
    next = std::max(next, raw->offset);
    return absl::nullopt;
  }
  char fatal[512];
  if (rd_kafka_fatal_error(handle_.get(), fatal, sizeof(fatal)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("reader of ", topic_, " failed: ", fatal));
  }
  logging::Warning("reading %s: %s", topic_, rd_kafka_message_errstr(raw));
  return absl::nullopt;
}

absl::StatusOr<TopicReader::Offsets> TopicReader::EndOffsets(
    absl::Duration timeout) {
  Offsets ends;
  for (const auto& [partition, next] : next_) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t got = rd_kafka_query_watermark_offsets(
        handle_.get(), topic_.c_str(), partition, &low, &high,
        Milliseconds(timeout));
    if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return ErrorToStatus(got, absl::StrCat("cannot ask where ", topic_, "/",
                                             partition, " ends"));
    }
    ends[partition] = high;
  }
  return ends;
}

bool TopicReader::CaughtUp(const Offsets& ends) const {
  for (const auto& [partition, end] : ends) {
    auto next = next_.find(partition);
    if (next == next_.end() || next->second < end) return false;
  }
  return true;
}

}  // namespace kitchen::kafka
