// File: kafka/consumer.cc

#include "kafka/consumer.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kafka/client_errors.h"
#include "kafka/handle.h"
#include "logging/log.h"

namespace kitchen::kafka {
namespace {

std::vector<TopicPartition> ToVector(
    const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> result;
  if (list == nullptr) return result;
  for (int i = 0; i < list->cnt; ++i) {
    result.push_back({list->elems[i].topic, list->elems[i].partition,
                      list->elems[i].offset});
  }
  return result;
}

constexpr char kAssignmentStrategy[] = "partition.assignment.strategy";

}  // namespace

absl::Status CheckAssignmentStrategy(absl::string_view strategy) {
  for (absl::string_view assignor : absl::StrSplit(strategy, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(assignor),
                               "cooperative-sticky")) {
      return absl::InvalidArgumentError(absl::StrCat(
          kAssignmentStrategy, "=", strategy,
          " is refused: librdkafka 2.0.2's cooperative-sticky rebalancing has "
          "bugs fixed only in later releases (an assignor loop at full CPU, "
          "librdkafka #4800; a hang at close, #4528; an assert when a consumer "
          "is destroyed before its first assignment, #4381; an assignment lost "
          "on a commit during an incremental rebalance, #4908), so the "
          "kitchen's consumers rebalance eagerly; use range or roundrobin "
          "(librdkafka's default: range,roundrobin)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAssignmentStrategy(const ClientConfig& config) {
  const Property* last = nullptr;
  for (const Property& property : config.properties) {
    if (property.name == kAssignmentStrategy) last = &property;
  }
  return last == nullptr ? absl::OkStatus()
                         : CheckAssignmentStrategy(last->value);
}

Properties ConsumerDefaults(absl::string_view group_id) {
  return {
      {"group.id", std::string(group_id)},
      // A new group starts from the earliest order the topic holds: nothing
      // placed before the first start of a service is skipped.
      {"auto.offset.reset", "earliest"},
      // At-least-once: only what the service has finished is stored and
      // committed.
      {"enable.auto.offset.store", "false"},
      // Everything finished but not yet committed is done again after a crash
      // or a rebalance, so commits are frequent and a rebalance is noticed
      // soon: until a member's next heartbeat tells it the group is
      // rebalancing, it works on while every commit is refused. Measured (two
      // cooks, one paused past its session timeout, 3,000 orders at 150/s):
      // 217 to 309 orders cooked twice with librdkafka's 1 s commits and 3 s
      // heartbeats, 87 to 91 with these.
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "200"},
      {"heartbeat.interval.ms", "1000"},
      // A member that dies is replaced within 10 s (Kafka's default is 45 s).
      {"session.timeout.ms", "10000"},
      // Memory (bench/README.md, "What bounds the manager's memory"): each
      // prefetched order costs ~450 B (librdkafka's op and its share of the
      // decompressed batch), not the ~75 B of value queued.max.messages.kbytes
      // counts, and a fetch already sent lands whatever the queue holds. With
      // librdkafka's 100,000 records and 4 MiB fetches a 200,000-order
      // backlog was held whole: 73 to 101 MiB. The prefetch is 6,000 records
      // (2 MiB of values for large ones; the manager peaked at 21.8 MiB with
      // 6,000 against 27.2 with 10,000, at the same speed), each broker's
      // answer at most 1 MiB (message.max.bytes is the floor) and 256 KiB a
      // partition; Poll() wakes the fetchers when it runs low
      // (Consumer::RefillPrefetch).
      {"queued.min.messages", "6000"},
      {"queued.max.messages.kbytes", "2048"},
      {"fetch.max.bytes", "1048576"},
      {"max.partition.fetch.bytes", "262144"},
      // How long a broker that has nothing may hold a fetch: librdkafka's
      // default. Kafka answers a waiting fetch as soon as data arrives, so the
      // wait costs no latency there, while a short one costs the brokers dear
      // (ConsumerDefaultsFor has the figures and the dev broker's value).
      {"fetch.wait.max.ms", "500"},
      {"fetch.error.backoff.ms", "100"},
  };
}

bool IsDevBroker(const ClientConfig& config, absl::Duration timeout) {
  absl::StatusOr<ConfPtr> conf = BuildConf(ForProducer(config), {});
  if (!conf.ok()) return false;
  char error[512];
  HandlePtr probe(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error)));
  if (probe == nullptr) return false;
  (void)conf->release();  // rd_kafka_new took it.
  char* id = rd_kafka_clusterid(
      probe.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  bool mock = id != nullptr && absl::StartsWith(id, "mockCluster");
  if (id != nullptr) rd_kafka_mem_free(probe.get(), id);
  return mock;
}

Properties ConsumerDefaultsFor(const ClientConfig& config,
                               absl::string_view group_id) {
  Properties defaults = ConsumerDefaults(group_id);
  // Measured with bench/fetch_wait.py (an idle cook; orders placed one at a
  // time; README, "The consumers' fetch wait"): on Kafka (3 nodes) 2 ms makes
  // the idle cook's fetches cost the brokers more than a whole core, while
  // 500 ms costs nothing over their idle and the same latency; on the dev
  // broker 500 ms lets a lone order wait ~100 ms, 2 ms ~4 ms for 4% of a core.
  if (IsDevBroker(config, absl::Seconds(3))) {
    defaults.push_back({"fetch.wait.max.ms", "2"});
    logging::Info(
        "the brokers are the dev broker (librdkafka's mock, which holds empty "
        "fetches): fetch.wait.max.ms=2 unless set");
  }
  return defaults;
}

std::string DescribePartitions(const std::vector<TopicPartition>& partitions) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const TopicPartition& partition : partitions) {
    by_topic[partition.topic].push_back(partition.partition);
  }
  if (by_topic.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [topic, numbers] : by_topic) {
    parts.push_back(absl::StrCat(topic, "[", absl::StrJoin(numbers, ","), "]"));
  }
  return absl::StrJoin(parts, " ");
}

std::string DescribeLag(const std::vector<PartitionLag>& lags) {
  if (lags.empty()) return "no partitions assigned";
  std::vector<std::string> parts;
  int64_t total = 0;
  bool known = true;
  for (const PartitionLag& lag : lags) {
    parts.push_back(
        absl::StrCat(lag.topic, "/", lag.partition, "=",
                     lag.lag < 0 ? std::string("?") : absl::StrCat(lag.lag)));
    if (lag.lag < 0) known = false;
    total += std::max<int64_t>(lag.lag, 0);
  }
  return absl::StrCat(absl::StrJoin(parts, " "), " (total ", total,
                      known ? "" : ", ? not fetched yet", ")");
}

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(
    ConfPtr conf, const std::vector<std::string>& topics,
    RebalanceListener* listener) {
  // The rebalance callback below speaks the eager protocol only.
  char strategy[512];
  size_t size = sizeof(strategy);
  if (rd_kafka_conf_get(conf.get(), kAssignmentStrategy, strategy, &size) ==
      RD_KAFKA_CONF_OK) {
    if (absl::Status eager = CheckAssignmentStrategy(strategy); !eager.ok()) {
      return eager;
    }
  }
  std::unique_ptr<Consumer> consumer(new Consumer(listener));
  char queued_min[32];
  size = sizeof(queued_min);
  if (rd_kafka_conf_get(conf.get(), "queued.min.messages", queued_min, &size) ==
      RD_KAFKA_CONF_OK) {
    consumer->refill_below_ = std::strtoul(queued_min, nullptr, 10) / 2;
  }
  rd_kafka_conf_set_opaque(conf.get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::OnRebalance);
  InstallErrorLogger(conf.get());
  char error[512];
  rd_kafka_t* handle =
      rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error));
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka consumer: ", error));
  }
  conf.release();
  consumer->handle_.reset(handle);
  // One queue for records, logs and errors: Poll() serves them all.
  rd_kafka_poll_set_consumer(handle);
  consumer->queue_.reset(rd_kafka_queue_get_consumer(handle));

  PartitionListPtr subscription(
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(),
                                      RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t subscribed =
      rd_kafka_subscribe(handle, subscription.get());
  if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(subscribed, absl::StrCat("cannot subscribe to ",
                                                  absl::StrJoin(topics, ",")));
  }
  return consumer;
}

Consumer::~Consumer() {
  if (absl::Status closed = Close(); !closed.ok()) {
    logging::Warning("consumer close: %s", closed.ToString());
  }
  // The queue reference is the handle's: given back before it is destroyed
  // (the members would go the other way round).
  queue_.reset();
}

absl::StatusOr<absl::optional<Message>> Consumer::Poll(int timeout_ms) {
  rd_kafka_message_t* raw = rd_kafka_consumer_poll(handle_.get(), timeout_ms);
  absl::optional<Message> message;
  if (raw != nullptr) message.emplace(raw);
  RefillPrefetch();
  // Rebalances are served inside the poll.
  if (!rebalance_failure_.ok()) return rebalance_failure_;
  if (raw == nullptr) return absl::nullopt;
  if (raw->err == RD_KAFKA_RESP_ERR_NO_ERROR) return message;
  if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return absl::nullopt;
  if (raw->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
    // auto.offset.reset=error: the position is not in the log; librdkafka
    // would otherwise have jumped to its start or end without a word.
    return absl::OutOfRangeError(absl::StrCat(
        raw->rkt != nullptr ? rd_kafka_topic_name(raw->rkt) : "?", "/",
        raw->partition, ": offset ", raw->offset,
        " is not in the partition's log (", rd_kafka_message_errstr(raw), ")"));
  }

  char fatal[512];
  if (rd_kafka_fatal_error(handle_.get(), fatal, sizeof(fatal)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("Kafka consumer failed: ", fatal));
  }
  // Refused by the brokers' ACLs (the topic, the group): librdkafka would ask
  // again forever, a warning each time; nothing works until a person grants
  // it (tests/secure_test).
  if (raw->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
      raw->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
      raw->err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    return ErrorToStatus(
        raw->err,
        absl::StrCat("the brokers' ACLs refuse this user (consuming",
                     raw->rkt != nullptr ? " " : "",
                     raw->rkt != nullptr ? rd_kafka_topic_name(raw->rkt) : "",
                     ": ", rd_kafka_message_errstr(raw), ")"));
  }
  // Everything else (a broker away, a topic not there yet) librdkafka retries
  // itself.
  logging::Warning("consume: %s", rd_kafka_message_errstr(raw));
  return absl::nullopt;
}

absl::Status Consumer::StoreOffset(const Message& message) {
  return StoreOffset(message.topic(), message.partition(),
                     message.offset() + 1);
}

absl::Status Consumer::StoreOffset(const std::string& topic, int32_t partition,
                                   int64_t next_offset) {
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)
      ->offset = next_offset;
  rd_kafka_resp_err_t error =
      rd_kafka_offsets_store(handle_.get(), offsets.get());
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) error = offsets->elems[0].err;
  // A partition revoked meanwhile cannot be stored: its new owner redoes the
  // record.
  return ErrorToStatus(error, absl::StrCat("cannot store offset ", next_offset,
                                           " of ", topic, "[", partition, "]"));
}

absl::Status Consumer::Commit() {
  rd_kafka_resp_err_t error = rd_kafka_commit(handle_.get(), nullptr, 0);
  if (error == RD_KAFKA_RESP_ERR__NO_OFFSET) return absl::OkStatus();
  return ErrorToStatus(error, "cannot commit offsets");
}

absl::Status Consumer::CommitOffsets(
    const std::vector<TopicPartition>& offsets) {
  if (offsets.empty()) return absl::OkStatus();
  PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartition& partition : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(),
                                      partition.partition)
        ->offset = partition.offset;
  }
  rd_kafka_resp_err_t error = rd_kafka_commit(handle_.get(), list.get(), 0);
  return ErrorToStatus(error, "cannot commit offsets");
}

GroupMetadataPtr Consumer::GroupMetadata() {
  return GroupMetadataPtr(rd_kafka_consumer_group_metadata(handle_.get()));
}

absl::Status Consumer::RewindToCommitted(absl::Duration timeout) {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  rd_kafka_resp_err_t error = rd_kafka_assignment(handle_.get(), &raw);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(error, "cannot rewind: no assignment");
  }
  PartitionListPtr assigned(raw);
  if (assigned->cnt == 0) return absl::OkStatus();
  error =
      rd_kafka_committed(handle_.get(), assigned.get(),
                         static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(error, "cannot rewind to the committed offsets");
  }
  for (int i = 0; i < assigned->cnt; ++i) {
    if (assigned->elems[i].offset < 0) {
      assigned->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  rd_kafka_error_t* failed = rd_kafka_seek_partitions(
      handle_.get(), assigned.get(),
      static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (failed != nullptr) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot rewind to the committed offsets: ",
                     rd_kafka_error_string(failed)));
    rd_kafka_error_destroy(failed);
    return status;
  }
  for (int i = 0; i < assigned->cnt; ++i) {
    if (assigned->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return ErrorToStatus(
          assigned->elems[i].err,
          absl::StrCat("cannot rewind ", assigned->elems[i].topic, "[",
                       assigned->elems[i].partition, "]"));
    }
  }
  return absl::OkStatus();
}

void Consumer::RefillPrefetch() {
  if (queue_ == nullptr || refill_below_ == 0) return;
  if (rd_kafka_queue_length(queue_.get()) >= refill_below_) {
    refilled_ = true;
    return;
  }
  // Looked at every 5 ms at most (a Poll() per record would otherwise ask
  // for the assignment each time an idle consumer's queue is empty), and
  // after a wake-up that brought nothing, again only after 50 ms.
  const absl::Time now = absl::Now();
  if (now < next_refill_check_) return;
  next_refill_check_ = now + absl::Milliseconds(5);
  if (!refilled_ && now - last_wake_ < absl::Milliseconds(50)) return;
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(handle_.get(), &assigned) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  PartitionListPtr assignment(assigned);
  if (assignment->cnt == 0) return;
  if (rd_kafka_position(handle_.get(), assignment.get()) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  PartitionListPtr behind(rd_kafka_topic_partition_list_new(assignment->cnt));
  for (int i = 0; i < assignment->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = assignment->elems[i];
    int64_t low = -1;
    int64_t high = -1;
    // The log's end as the last fetch of the partition saw it.
    if (partition.offset >= 0 &&
        rd_kafka_get_watermark_offsets(handle_.get(), partition.topic,
                                       partition.partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high > partition.offset) {
      rd_kafka_topic_partition_list_add(behind.get(), partition.topic,
                                        partition.partition)
          ->offset = RD_KAFKA_OFFSET_END;
    }
  }
  if (behind->cnt == 0) return;
  last_wake_ = now;
  refilled_ = false;
  // Timeout 0: the requests are sent, the answers dropped when they come
  // (librdkafka's own timed-out calls do the same).
  (void)rd_kafka_offsets_for_times(handle_.get(), behind.get(), 0);
}

absl::Status Consumer::Close() {
  if (closed_ || handle_ == nullptr) return absl::OkStatus();
  closed_ = true;
  rd_kafka_resp_err_t error = rd_kafka_consumer_close(handle_.get());
  return ErrorToStatus(error, "cannot leave the consumer group cleanly");
}

std::vector<absl::StatusOr<Watermarks>> Consumer::QueryLogBounds(
    const std::vector<TopicPartition>& partitions, absl::Duration timeout) {
  std::vector<absl::StatusOr<Watermarks>> bounds(partitions.size(),
                                                 Watermarks{});
  if (partitions.empty()) return bounds;
  const absl::Time deadline = absl::Now() + timeout;
  // ListOffsets for every partition in one call each: the "time" -2 asks for
  // the log's start, -1 for its end.
  for (const int64_t which : {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END}) {
    PartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const TopicPartition& partition : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(),
                                        partition.partition)
          ->offset = which;
    }
    const int timeout_ms = static_cast<int>(std::max<int64_t>(
        1, absl::ToInt64Milliseconds(deadline - absl::Now())));
    rd_kafka_resp_err_t error =
        rd_kafka_offsets_for_times(handle_.get(), list.get(), timeout_ms);
    for (size_t i = 0; i < partitions.size(); ++i) {
      if (!bounds[i].ok()) continue;
      const rd_kafka_resp_err_t got =
          error != RD_KAFKA_RESP_ERR_NO_ERROR ? error : list->elems[i].err;
      if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bounds[i] = ErrorToStatus(
            got,
            absl::StrCat("cannot ask where the log of ", partitions[i].topic,
                         "/", partitions[i].partition, " starts and ends"));
        continue;
      }
      (which == RD_KAFKA_OFFSET_BEGINNING ? bounds[i]->low : bounds[i]->high) =
          list->elems[i].offset;
    }
  }
  return bounds;
}

absl::StatusOr<int> Consumer::PartitionCount(const std::string& topic,
                                             absl::Duration timeout) {
  rd_kafka_topic_t* handle =
      rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr);
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no topic handle for ", topic));
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error =
      rd_kafka_metadata(handle_.get(), 0, handle, &metadata,
                        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  rd_kafka_topic_destroy(handle);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorToStatus(error,
                         absl::StrCat("cannot read the metadata of ", topic));
  }
  int count = -1;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic == metadata->topics[i].topic &&
        metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = metadata->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (count < 0) {
    return absl::NotFoundError(absl::StrCat("no metadata for topic ", topic));
  }
  return count;
}

absl::Status Consumer::Pause(const std::string& topic, int32_t partition) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  rd_kafka_resp_err_t error =
      rd_kafka_pause_partitions(handle_.get(), list.get());
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) error = list->elems[0].err;
  return ErrorToStatus(
      error, absl::StrCat("cannot pause ", topic, "[", partition, "]"));
}

absl::Status Consumer::Resume(const std::string& topic, int32_t partition,
                              int64_t offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)
      ->offset = offset;
  // Seek first: a resumed partition would go on from its fetch position,
  // past records the caller dropped while it waited.
  rd_kafka_error_t* sought =
      offset == kCommittedOffset
          ? nullptr
          : rd_kafka_seek_partitions(handle_.get(), list.get(),
                                     /*timeout_ms=*/0);
  if (sought != nullptr) {
    absl::Status status = ErrorToStatus(
        rd_kafka_error_code(sought),
        absl::StrCat("cannot seek ", topic, "[", partition, "] to ", offset));
    rd_kafka_error_destroy(sought);
    return status;
  }
  rd_kafka_resp_err_t error =
      rd_kafka_resume_partitions(handle_.get(), list.get());
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) error = list->elems[0].err;
  return ErrorToStatus(
      error, absl::StrCat("cannot resume ", topic, "[", partition, "]"));
}

std::vector<TopicPartition> Consumer::Assignment() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  PartitionListPtr list(raw);
  return ToVector(list.get());
}

std::vector<PartitionLag> Consumer::Lag(LagFrom from) {
  std::vector<PartitionLag> lags;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return lags;
  }
  PartitionListPtr assigned(raw);
  rd_kafka_position(handle_.get(), assigned.get());
  // Before the first fetch of a partition its position is unset and its
  // watermarks unknown: then ask the broker for the group's committed offset
  // and the partition's end (a few requests, only right after an assignment),
  // so that the lag said at start is the group's real backlog, the figure
  // kafka-consumer-groups --describe shows.
  PartitionListPtr committed(
      rd_kafka_topic_partition_list_copy(assigned.get()));
  bool any_unset = false;
  for (int i = 0; i < assigned->cnt; ++i) {
    if (from == LagFrom::kCommittedOffsets) assigned->elems[i].offset = -1;
    any_unset = any_unset || assigned->elems[i].offset < 0;
  }
  if (any_unset && rd_kafka_committed(handle_.get(), committed.get(), 5000) !=
                       RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < committed->cnt; ++i) committed->elems[i].offset = -1;
  }
  // The watermarks of the last fetch where there was one; the others asked of
  // the leaders all at once, 5 s in all. (Not one
  // rd_kafka_query_watermark_offsets each: in librdkafka 2.0.2 it can wait far
  // past its timeout while a partition's leader is a broker just killed, and
  // held a manager's first turn after a rebalance for good.)
  std::vector<Watermarks> marks(assigned->cnt, Watermarks{-1, -1});
  std::vector<TopicPartition> unknown;
  std::vector<int> unknown_at;
  for (int i = 0; i < assigned->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = assigned->elems[i];
    if (rd_kafka_get_watermark_offsets(
            handle_.get(), partition.topic, partition.partition, &marks[i].low,
            &marks[i].high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        marks[i].high < 0) {
      unknown.push_back({partition.topic, partition.partition});
      unknown_at.push_back(i);
    }
  }
  std::vector<absl::StatusOr<Watermarks>> asked =
      QueryLogBounds(unknown, absl::Seconds(5));
  for (size_t j = 0; j < asked.size(); ++j) {
    marks[unknown_at[j]] = asked[j].ok() ? *asked[j] : Watermarks{-1, -1};
  }
  for (int i = 0; i < assigned->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = assigned->elems[i];
    PartitionLag lag{partition.topic, partition.partition, -1};
    const int64_t low = marks[i].low;
    const int64_t high = marks[i].high;
    if (high >= 0) {
      // Unset position: from the committed offset, else from the start (what
      // auto.offset.reset=earliest will consume).
      int64_t position = partition.offset >= 0 ? partition.offset
                         : committed->elems[i].offset >= 0
                             ? committed->elems[i].offset
                             : low;
      lag.lag = std::max<int64_t>(high - std::max<int64_t>(position, 0), 0);
      lag.from = partition.offset >= 0             ? partition.offset
                 : committed->elems[i].offset >= 0 ? committed->elems[i].offset
                                                   : -1;
      lag.low = low;
      lag.high = high;
    }
    lags.push_back(std::move(lag));
  }
  return lags;
}

void Consumer::OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                           rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  std::vector<TopicPartition> changed = ToVector(partitions);

  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (self->listener_ != nullptr) {
      self->listener_->OnAssign(changed);
      for (size_t i = 0; i < changed.size(); ++i) {
        partitions->elems[i].offset = changed[i].offset;
      }
    }
    std::string assigned = DescribePartitions(changed);
    logging::Info("partitions assigned: %s", assigned);
    self->Assign(
        handle, partitions,
        absl::StrCat("cannot take the partitions assigned (", assigned, ")"));
    return;
  }

  // Revoked, or lost to a session timeout: finish up, then let go.
  bool lost = rd_kafka_assignment_lost(handle) != 0;
  logging::Info("partitions %s: %s", lost ? "lost" : "revoked",
                DescribePartitions(changed));
  if (self->listener_ != nullptr) self->listener_->OnRevoke(changed, lost);
  if (!lost) {
    // Progress made on these partitions must be committed before their next
    // owner reads the committed offset. During a rebalance this can fail (the
    // generation moved on); the records are then processed again:
    // at-least-once, not fatal.
    if (absl::Status committed = self->Commit(); !committed.ok()) {
      logging::Warning(
          "commit on revoke failed, the next owner may redo records: %s",
          committed.ToString());
    }
  }
  self->Assign(handle, nullptr, "cannot give up the partitions revoked");
}

void Consumer::Assign(rd_kafka_t* handle,
                      const rd_kafka_topic_partition_list_t* partitions,
                      absl::string_view what) {
  rd_kafka_resp_err_t error = rd_kafka_assign(handle, partitions);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  // librdkafka keeps the member in its group either way, consuming nothing
  // (or what it no longer owns): that must stop the service, not go unseen.
  absl::Status failed =
      ErrorToStatus(error, absl::StrCat(what, ": rd_kafka_assign"));
  logging::Error("%s", failed.message());
  if (rebalance_failure_.ok()) rebalance_failure_ = failed;
}

}  // namespace kitchen::kafka
