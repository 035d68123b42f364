// File: board/watcher.cc

#include "board/watcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kafka/consumer.h"
#include "logging/log.h"
#include "orders/dead_letter.h"
#include "orders/order_event.h"
#include "proto/member_event.pb.h"

namespace kitchen::board {
namespace {

constexpr absl::Duration kTopicLookInterval = absl::Seconds(3);
constexpr absl::Duration kProgressInterval = absl::Seconds(1);
// Short: the watcher's one thread also reads the topics.
constexpr int kRequestTimeoutMs = 1000;

absl::StatusOr<kafka::HandlePtr> NewConsumerHandle(
    const kafka::ClientConfig& config, kafka::Properties defaults) {
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::BuildConf(config, std::move(defaults));
  if (!conf.ok()) return conf.status();
  char error[512];
  kafka::HandlePtr handle(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof(error)));
  if (handle == nullptr) return absl::InvalidArgumentError(error);
  (void)conf->release();  // The handle owns it now.
  return handle;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Watcher>> Watcher::Create(
    const kafka::ClientConfig& config, WatcherTopics topics, Board& board,
    service::Metrics* metrics) {
  std::unique_ptr<Watcher> watcher(new Watcher(std::move(topics), board));
  if (metrics != nullptr) {
    watcher->records_read_ = &metrics->CounterFamily(
        "kitchen_board_records_read_total",
        "Records the board read, per topic and partition.");
  }
  // Partitions are assigned, not given by a group, and nothing is ever
  // committed; librdkafka still wants a group.id for a consumer, so one of
  // its own that no one else has (and that never holds an offset).
  const bool dev_broker = kafka::IsDevBroker(config, absl::Seconds(3));
  absl::StatusOr<kafka::HandlePtr> consumer = NewConsumerHandle(
      config,
      {
          {"group.id", absl::StrCat("board-watcher-", orders::NewOrderId())},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          // A page shows what a transactional reader sees: one READY
          // per order on real Kafka.
          {"isolation.level", "read_committed"},
          // The mock holds an empty fetch this long (see
          // kafka::ConsumerDefaultsFor).
          {"fetch.wait.max.ms", dev_broker ? "5" : "100"},
      });
  if (!consumer.ok()) return consumer.status();
  watcher->consumer_ = *std::move(consumer);
  rd_kafka_poll_set_consumer(watcher->consumer_.get());
  for (const auto& [role, group] :
       {std::pair<std::string, std::string>{kCookGroup,
                                            board.options().cook_group},
        {kManagerGroup, board.options().manager_group}}) {
    absl::StatusOr<kafka::HandlePtr> client = NewConsumerHandle(
        config, {{"group.id", group}, {"enable.auto.commit", "false"}});
    if (!client.ok()) return client.status();
    watcher->group_clients_.emplace_back(role, *std::move(client));
  }
  return watcher;
}

void Watcher::Run(absl::Notification& stop) {
  while (!stop.HasBeenNotified()) {
    const absl::Time now = absl::Now();
    if (now >= next_topic_look_) {
      next_topic_look_ = now + kTopicLookInterval;
      AssignNewPartitions();
    }
    if (now >= next_progress_read_) {
      next_progress_read_ = now + kProgressInterval;
      ReadProgress();
    }
    rd_kafka_message_t* polled = rd_kafka_consumer_poll(consumer_.get(), 100);
    if (polled == nullptr) continue;
    kafka::Message message(polled);
    if (polled->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (polled->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        logging::Warning("reading %s: %s", message.topic(),
                         rd_kafka_message_errstr(polled));
      }
      continue;
    }
    Take(message);
  }
}

void Watcher::AssignNewPartitions() {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(consumer_.get(), /*all_topics=*/1, nullptr, &metadata,
                        kRequestTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;  // The brokers are away: looked for again later.
  }
  bool grew = false;
  for (const std::string* topic : {&topics_.orders, &topics_.status,
                                   &topics_.dead_letters, &topics_.members}) {
    for (int t = 0; t < metadata->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& found = metadata->topics[t];
      if (*topic != found.topic || found.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        continue;
      }
      std::vector<int32_t>& partitions = assigned_[*topic];
      if (static_cast<int>(partitions.size()) < found.partition_cnt) {
        grew = true;
        partitions.clear();
        for (int p = 0; p < found.partition_cnt; ++p) {
          partitions.push_back(found.partitions[p].id);
        }
      }
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (!grew) return;

  // The whole assignment again: partitions read so far go on from their
  // position, new ones from the start.
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(24));
  for (const auto& [topic, partitions] : assigned_) {
    for (int32_t partition : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)
          ->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  kafka::PartitionListPtr positions(
      rd_kafka_topic_partition_list_copy(list.get()));
  rd_kafka_position(consumer_.get(), positions.get());
  for (int i = 0; i < list->cnt; ++i) {
    if (positions->elems[i].offset >= 0) {
      list->elems[i].offset = positions->elems[i].offset;
    }
  }
  if (rd_kafka_resp_err_t error = rd_kafka_assign(consumer_.get(), list.get());
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    logging::Warning("cannot read the kitchen's topics: %s",
                     rd_kafka_err2str(error));
    assigned_.clear();  // Tried again at the next look.
    return;
  }
  logging::Info("watching %d partitions", list->cnt);
}

void Watcher::Take(const kafka::Message& message) {
  const std::string topic = message.topic();
  const absl::Time record_time = message.timestamp().value_or(absl::Now());
  const int32_t partition = message.partition();
  const int64_t offset = message.offset();
  if (records_read_ != nullptr) {
    prometheus::Counter*& read = read_of_[{topic, partition}];
    if (read == nullptr) {
      read = &records_read_->Add(
          {{"topic", topic}, {"partition", absl::StrCat(partition)}});
    }
    read->Increment();
  }
  if (topic == topics_.orders) {
    absl::StatusOr<kitchen::v1::Order> order =
        orders::DecodeOrder(message.value());
    board_.Update([&](KitchenView& view) {
      if (order.ok()) {
        view.OnOrder(partition, offset, *order, record_time);
      } else {
        view.OnUnreadable(partition, offset, record_time);
      }
    });
  } else if (topic == topics_.status) {
    absl::StatusOr<kitchen::v1::OrderEvent> event =
        orders::DecodeEvent(message.value());
    if (!event.ok()) return;  // Not the board's to judge: shown nowhere.
    const absl::Time at = orders::EventTime(*event).value_or(record_time);
    board_.Update([&](KitchenView& view) {
      switch (event->state()) {
        case kitchen::v1::OrderEvent::COOKING:
          view.OnCooking(event->order_partition(), event->order_offset(),
                         event->cook(), at);
          break;
        case kitchen::v1::OrderEvent::READY:
          view.OnReady(event->order_partition(), event->order_offset(),
                       event->cook(), at);
          break;
        default:
          break;  // ABANDONED: the next COOKING says the order goes on.
      }
    });
  } else if (topic == topics_.members) {
    kitchen::v1::MemberEvent event;
    if (!event.ParseFromArray(message.value().data(),
                              static_cast<int>(message.value().size()))) {
      return;
    }
    const std::string role =
        event.group() == board_.options().cook_group      ? kCookGroup
        : event.group() == board_.options().manager_group ? kManagerGroup
                                                          : "";
    if (role.empty() || event.topic() != topics_.orders) return;
    const absl::Time at = absl::FromUnixSeconds(event.at().seconds()) +
                          absl::Nanoseconds(event.at().nanos());
    board_.Update([&](KitchenView& view) {
      view.OnMember(role, event.member(),
                    {event.partitions().begin(), event.partitions().end()}, at,
                    event.state() == kitchen::v1::MemberEvent::LEFT);
    });
  } else if (topic == topics_.dead_letters) {
    // Only dead letters of the order topic have cards.
    absl::optional<std::string> original =
        message.header(orders::kDeadLetterTopicHeader);
    int32_t original_partition = 0;
    int64_t original_offset = 0;
    absl::optional<std::string> partition_header =
        message.header(orders::kDeadLetterPartitionHeader);
    absl::optional<std::string> offset_header =
        message.header(orders::kDeadLetterOffsetHeader);
    if (original != topics_.orders || !partition_header || !offset_header ||
        !absl::SimpleAtoi(*partition_header, &original_partition) ||
        !absl::SimpleAtoi(*offset_header, &original_offset)) {
      return;
    }
    const std::string reason =
        message.header(orders::kDeadLetterReasonHeader).value_or("");
    board_.Update([&](KitchenView& view) {
      view.OnDeadLetter(original_partition, original_offset, reason,
                        record_time);
    });
  }
}

void Watcher::ReadProgress() {
  auto orders = assigned_.find(topics_.orders);
  if (orders == assigned_.end()) return;
  const absl::Time now = absl::Now();
  for (int32_t partition : orders->second) {
    int64_t low = 0;
    int64_t high = 0;
    // From the last fetch: no request.
    if (rd_kafka_get_watermark_offsets(consumer_.get(), topics_.orders.c_str(),
                                       partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      board_.Update(
          [&](KitchenView& view) { view.OnEndOffset(partition, high); });
    }
  }
  for (const auto& [group, client] : group_clients_) {
    kafka::PartitionListPtr list(
        rd_kafka_topic_partition_list_new(orders->second.size()));
    for (int32_t partition : orders->second) {
      rd_kafka_topic_partition_list_add(list.get(), topics_.orders.c_str(),
                                        partition);
    }
    if (rd_kafka_committed(client.get(), list.get(), kRequestTimeoutMs) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    board_.Update([&](KitchenView& view) {
      for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& got = list->elems[i];
        if (got.err == RD_KAFKA_RESP_ERR_NO_ERROR && got.offset >= 0) {
          view.OnCommitted(group, got.partition, got.offset, now);
        }
      }
    });
  }
}

}  // namespace kitchen::board
