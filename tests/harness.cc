// File: tests/harness.cc

#include "tests/harness.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/handle.h"
#include "kafka/producer.h"
#include "orders/order_event.h"
#include "orders/order_record.h"

namespace kitchen::testing {
namespace {

// The kitchen's topics have 6 partitions (README), as the devbroker's do.
constexpr int kPartitions = 6;
// Nodes of the shared Kafka cluster ($KITCHEN_TEST_KAFKA_NODES, set by
// tests/e2e.bzl's kafka_nodes; 1 unless a test needs a real cluster's
// failover); every topic has one replica per node.
int KafkaNodes() {
  const char* nodes = std::getenv("KITCHEN_TEST_KAFKA_NODES");
  return nodes != nullptr && std::string(nodes) == "3" ? 3 : 1;
}

// Owns a librdkafka object, destroyed with `Destroy`.
template <auto Destroy>
struct Destroyer {
  template <typename T>
  void operator()(T* object) const {
    Destroy(object);
  }
};
using AdminOptionsPtr =
    std::unique_ptr<rd_kafka_AdminOptions_t,
                    Destroyer<rd_kafka_AdminOptions_destroy>>;
using NewTopicPtr =
    std::unique_ptr<rd_kafka_NewTopic_t, Destroyer<rd_kafka_NewTopic_destroy>>;
using QueuePtr =
    std::unique_ptr<rd_kafka_queue_t, Destroyer<rd_kafka_queue_destroy>>;
using EventPtr =
    std::unique_ptr<rd_kafka_event_t, Destroyer<rd_kafka_event_destroy>>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t,
                                    Destroyer<rd_kafka_metadata_destroy>>;
using TopicPtr =
    std::unique_ptr<rd_kafka_topic_t, Destroyer<rd_kafka_topic_destroy>>;

// A plain client for looking at the cluster: metadata, watermarks, admin; a
// consumer of `group` (which it never joins) for the group's offsets.
absl::StatusOr<kafka::HandlePtr> NewClient(const std::string& bootstrap,
                                           const std::string& group = "") {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      {bootstrap, {}}, group.empty() ? kafka::Properties{}
                                     : kafka::Properties{{"group.id", group}});
  if (!conf.ok()) return conf.status();
  char error[512];
  kafka::HandlePtr handle(
      rd_kafka_new(group.empty() ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                   conf->get(), error, sizeof(error)));
  if (handle == nullptr) return absl::InternalError(error);
  (void)conf->release();  // The handle owns it now.
  return handle;
}

// Why `metadata` does not show each of `topics` with `partitions` partitions,
// each with a leader; OK when it does.
absl::Status CheckLeaders(const rd_kafka_metadata_t& metadata,
                          const std::vector<std::string>& topics,
                          int partitions) {
  for (const std::string& name : topics) {
    const rd_kafka_metadata_topic_t* topic = nullptr;
    for (int i = 0; i < metadata.topic_cnt; ++i) {
      if (name == metadata.topics[i].topic) topic = &metadata.topics[i];
    }
    if (topic == nullptr) {
      return absl::UnavailableError(absl::StrCat(name, " is not in metadata"));
    }
    if (topic->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          absl::StrCat(name, ": ", rd_kafka_err2str(topic->err)));
    }
    if (topic->partition_cnt != partitions) {
      return absl::UnavailableError(absl::StrCat(
          name, " has ", topic->partition_cnt, " partitions in metadata"));
    }
    for (int p = 0; p < topic->partition_cnt; ++p) {
      if (topic->partitions[p].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
          topic->partitions[p].leader < 0) {
        return absl::UnavailableError(
            absl::StrCat(name, "/", topic->partitions[p].id, " has no leader"));
      }
    }
  }
  return absl::OkStatus();
}

// Why a partition of `topics` cannot answer for its offsets yet; OK when all
// can. Right after a topic is created, metadata names a leader that may still
// answer NOT_LEADER_OR_FOLLOWER for a moment.
absl::Status CheckLeadersServe(rd_kafka_t* handle,
                               const std::vector<std::string>& topics,
                               int partitions) {
  for (const std::string& topic : topics) {
    for (int partition = 0; partition < partitions; ++partition) {
      int64_t low = 0;
      int64_t high = 0;
      rd_kafka_resp_err_t got = rd_kafka_query_watermark_offsets(
          handle, topic.c_str(), partition, &low, &high, 5000);
      if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(
            absl::StrCat(topic, "/", partition, ": ", rd_kafka_err2str(got)));
      }
    }
  }
  return absl::OkStatus();
}

// Waits until every partition of `topics` has a leader that serves.
absl::Status WaitForLeaders(rd_kafka_t* handle,
                            const std::vector<std::string>& topics,
                            int partitions, absl::Time deadline) {
  while (true) {
    const rd_kafka_metadata_t* answer = nullptr;
    rd_kafka_resp_err_t got =
        rd_kafka_metadata(handle, /*all_topics=*/1, nullptr, &answer, 5000);
    MetadataPtr metadata(got == RD_KAFKA_RESP_ERR_NO_ERROR ? answer : nullptr);
    absl::Status led = metadata == nullptr
                           ? absl::UnavailableError(absl::StrCat(
                                 "no metadata: ", rd_kafka_err2str(got)))
                           : CheckLeaders(*metadata, topics, partitions);
    if (led.ok()) led = CheckLeadersServe(handle, topics, partitions);
    if (led.ok() || absl::Now() > deadline) return led;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// Whether `args` set flag `name` (--name, --name=..., or with one dash).
bool HasFlag(const std::vector<std::string>& args, absl::string_view name) {
  for (absl::string_view arg : args) {
    if (arg == "--") break;  // Positional arguments from here on.
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    if (arg == name || absl::StartsWith(arg, absl::StrCat(name, "="))) {
      return true;
    }
  }
  return false;
}

// "127.0.0.1:PORT[,127.0.0.1:PORT...]", what tools/kafka up prints when ready.
bool IsBootstrapList(absl::string_view line) {
  if (line.empty()) return false;
  for (absl::string_view server : absl::StrSplit(line, ',')) {
    size_t colon = server.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        colon + 1 == server.size() ||
        absl::StrContains(server.substr(0, colon), ' ')) {
      return false;
    }
    for (char c : server.substr(colon + 1)) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

std::string LastLines(const std::string& text, size_t count) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - count);
  return absl::StrJoin(lines, "\n");
}

}  // namespace

absl::StatusOr<BrokerKind> TestBroker() {
  const char* name = std::getenv("KITCHEN_TEST_BROKER");
  if (name == nullptr || absl::string_view(name) == "dev") {
    return BrokerKind::kDev;
  }
  if (absl::string_view(name) == "kafka") return BrokerKind::kKafka;
  return absl::InvalidArgumentError(
      absl::StrCat("KITCHEN_TEST_BROKER=", name, ": expected dev or kafka"));
}

absl::StatusOr<std::unique_ptr<DevBrokerProcess>> DevBrokerProcess::Start(
    std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {Binary("deploy/devbroker/devbroker"),
                                   "--port=0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto process = Process::Start("devbroker", argv);
  if (!process.ok()) return process.status();
  auto broker = std::make_unique<DevBrokerProcess>();
  broker->process_ = *std::move(process);
  absl::StatusOr<std::string> line =
      broker->process_->WaitForStdoutLine(absl::Seconds(20));
  if (!line.ok()) return line.status();
  broker->bootstrap_ = *line;
  return broker;
}

absl::StatusOr<KafkaCluster*> KafkaCluster::Shared() {
  // Destroyed at exit, which stops the cluster once every case has run. (A
  // test process that dies takes the script with it: PR_SET_PDEATHSIG.)
  static absl::StatusOr<std::unique_ptr<KafkaCluster>> cluster =
      Start(KafkaNodes());
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

absl::StatusOr<std::unique_ptr<KafkaCluster>> KafkaCluster::Start(int nodes) {
  std::unique_ptr<KafkaCluster> cluster(new KafkaCluster());
  cluster->nodes_ = nodes;
  cluster->state_dir_ = TempPath("kafka");
  auto process = Process::Start(
      "kafka", {Binary("tools/kafka"), "up", "--foreground", "--nodes",
                absl::StrCat(nodes), "--state_dir", cluster->state_dir_});
  if (!process.ok()) return process.status();
  cluster->process_ = *std::move(process);
  // Once every node serves, the script prints the bootstrap list as its last
  // line on standard output. JVMs start slowly on a loaded 2-core machine.
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (true) {
    std::string out = cluster->process_->Stdout();
    std::vector<absl::string_view> lines = absl::StrSplit(out, '\n');
    lines.pop_back();  // Not a whole line (yet), or empty.
    for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
      if (IsBootstrapList(*line)) {
        cluster->bootstrap_ = std::string(*line);
        return cluster;
      }
    }
    if (!cluster->process_->running()) {
      return absl::UnavailableError(absl::StrCat(
          "tools/kafka up exited with status ",
          cluster->process_->Wait(absl::ZeroDuration()).value_or(-1),
          " before printing the bootstrap list; the end of its standard "
          "error:\n",
          LastLines(cluster->process_->Stderr(), 20)));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "tools/kafka up printed no bootstrap list within 120 s; the end of "
          "its standard error:\n",
          LastLines(cluster->process_->Stderr(), 20)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

KafkaCluster::~KafkaCluster() {
  if (process_ != nullptr && process_->running()) {
    process_->Signal(SIGTERM);
    // The script gives its nodes 15 s to stop before it SIGKILLs them.
    (void)process_->Wait(absl::Seconds(60));
  }
  // Then SIGKILL if it lingers still (Process's destructor).
}

absl::Status KafkaCluster::Control(std::vector<std::string> args) const {
  return Query(std::move(args)).status();
}

absl::StatusOr<std::string> KafkaCluster::Query(
    std::vector<std::string> args) const {
  std::vector<std::string> argv = {Binary("tools/kafka"), "--state_dir",
                                   state_dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  // `start N` waits until the node serves, up to the script's 120 s.
  RunResult run = RunToEnd(argv, absl::Seconds(180));
  if (run.exit_status != 0) {
    return absl::InternalError(
        absl::StrCat("tools/kafka ", absl::StrJoin(args, " "),
                     " exited with status ", run.exit_status, ": ", run.err));
  }
  return run.out;
}

void BrokerTest::SetUp() {
  absl::StatusOr<BrokerKind> broker = TestBroker();
  ASSERT_TRUE(broker.ok()) << broker.status();
  broker_ = *broker;
  if (broker_ == BrokerKind::kDev) {
    auto dev_broker = DevBrokerProcess::Start();
    ASSERT_TRUE(dev_broker.ok()) << dev_broker.status();
    dev_broker_ = *std::move(dev_broker);
    bootstrap_ = dev_broker_->bootstrap();
    topic_ = orders::kOrderTopic;
    dead_letter_topic_ = orders::kDeadLetterTopic;
    status_topic_ = orders::kStatusTopic;
    members_topic_ = "kitchen-members";
    return;
  }
  absl::StatusOr<KafkaCluster*> cluster = KafkaCluster::Shared();
  ASSERT_TRUE(cluster.ok()) << "no real Kafka cluster: " << cluster.status();
  kafka_ = *cluster;
  bootstrap_ = kafka_->bootstrap();
  static int cases = 0;
  suffix_ = absl::StrCat("-", ++cases, "-", ::getpid());
  topic_ = absl::StrCat(orders::kOrderTopic, suffix_);
  dead_letter_topic_ = absl::StrCat(topic_, ".dlq");
  status_topic_ = absl::StrCat(orders::kStatusTopic, suffix_);
  members_topic_ = absl::StrCat("kitchen-members", suffix_);
  absl::Status created = CreateTopics(
      bootstrap_, {topic_, dead_letter_topic_, status_topic_, members_topic_},
      kPartitions, kafka_->nodes(), absl::Seconds(60));
  ASSERT_TRUE(created.ok()) << created;
}

void BrokerTest::TearDown() {
  if (paused_) ResumeBroker();
}

std::string BrokerTest::group(absl::string_view base) const {
  return absl::StrCat(base, suffix_);
}

std::vector<std::string> BrokerTest::CaseFlags(
    absl::string_view service, std::vector<std::string> flags) const {
  std::vector<std::string> all;
  if (broker_ == BrokerKind::kKafka) {
    auto add_unless_given = [&](absl::string_view name,
                                absl::string_view value) {
      if (!HasFlag(flags, name)) {
        all.push_back(absl::StrCat("--", name, "=", value));
      }
    };
    add_unless_given("topic", topic_);
    if (service != "waiter") {  // The waiter has neither.
      add_unless_given("dead_letter_topic", dead_letter_topic_);
      if (service != "board") add_unless_given("group", group(service));
    }
    // The cook publishes there; the waiter (--wait) and the board read it.
    if (service == "cook" || service == "waiter" || service == "board") {
      add_unless_given("status_topic", status_topic_);
    }
    if (service != "waiter") add_unless_given("members_topic", members_topic_);
    if (service == "board") {
      add_unless_given("cook_group", group("cook"));
      add_unless_given("manager_group", group("manager"));
    }
  }
  all.insert(all.end(), flags.begin(), flags.end());
  return all;
}

std::vector<std::string> BrokerTest::ServiceCommand(
    absl::string_view service, std::vector<std::string> flags) const {
  std::vector<std::string> argv = {Binary(absl::StrCat(service, "/", service)),
                                   absl::StrCat("--brokers=", bootstrap_)};
  for (std::string& flag : CaseFlags(service, std::move(flags))) {
    argv.push_back(std::move(flag));
  }
  return argv;
}

absl::StatusOr<std::unique_ptr<Process>> BrokerTest::StartService(
    absl::string_view service, std::vector<std::string> flags) {
  return Process::Start(service, ServiceCommand(service, std::move(flags)));
}

RunResult BrokerTest::RunService(absl::string_view service,
                                 std::vector<std::string> args,
                                 const std::string& input) {
  return RunToEnd(ServiceCommand(service, std::move(args)), absl::Seconds(60),
                  input);
}

RunResult BrokerTest::RunWaiter(std::vector<std::string> args,
                                const std::string& input) {
  return RunService("waiter", std::move(args), input);
}

void BrokerTest::PlaceOrders(int count) {
  RunResult waiter = RunWaiter({absl::StrCat("--count=", count)});
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
}

std::unique_ptr<EventReader> BrokerTest::ReadEvents(
    kafka::Isolation isolation) {
  auto reader = EventReader::Start(bootstrap_, status_topic_, isolation);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? *std::move(reader) : nullptr;
}

void BrokerTest::PauseBroker() { SignalBroker(/*pause=*/true); }

void BrokerTest::ResumeBroker() { SignalBroker(/*pause=*/false); }

void BrokerTest::SignalBroker(bool pause) {
  paused_ = pause;
  if (broker_ == BrokerKind::kDev) {
    dev_broker_->process().Signal(pause ? SIGSTOP : SIGCONT);
    return;
  }
  for (int node = 1; node <= kafka_->nodes(); ++node) {
    absl::Status done =
        kafka_->Control({pause ? "pause" : "resume", absl::StrCat(node)});
    EXPECT_TRUE(done.ok()) << done;
  }
}

void BrokerTest::TakeBrokerDown() {
  if (broker_ == BrokerKind::kDev) {
    dev_broker_.reset();  // Stops the devbroker.
    return;
  }
  PauseBroker();
}

absl::Status CreateTopics(const std::string& bootstrap,
                          const std::vector<std::string>& topics,
                          int partitions, int replication_factor,
                          absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<kafka::HandlePtr> client = NewClient(bootstrap);
  if (!client.ok()) return client.status();
  rd_kafka_t* handle = client->get();
  char error[512];
  std::vector<NewTopicPtr> new_topics;
  std::vector<rd_kafka_NewTopic_t*> requests;
  for (const std::string& topic : topics) {
    new_topics.emplace_back(rd_kafka_NewTopic_new(
        topic.c_str(), partitions, replication_factor, error, sizeof(error)));
    if (new_topics.back() == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(topic, ": ", error));
    }
    requests.push_back(new_topics.back().get());
  }
  // The request may wait for a controller; the broker answers once the topics
  // exist, or after the operation timeout.
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms,
                                                error, sizeof(error)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms / 2,
                                                  error, sizeof(error)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(error);
  }
  QueuePtr queue(rd_kafka_queue_new(handle));
  rd_kafka_CreateTopics(handle, requests.data(), requests.size(), options.get(),
                        queue.get());
  EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (event == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrCat("no answer to CreateTopics ", absl::StrJoin(topics, ", "),
                     " within ", absl::FormatDuration(timeout)));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("CreateTopics ", absl::StrJoin(topics, ", "), ": ",
                     rd_kafka_event_error_string(event.get())));
  }
  const rd_kafka_CreateTopics_result_t* result =
      rd_kafka_event_CreateTopics_result(event.get());
  if (result == nullptr) {
    return absl::InternalError(absl::StrCat("CreateTopics answered with ",
                                            rd_kafka_event_name(event.get())));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(
          "creating topic ", rd_kafka_topic_result_name(results[i]), ": ",
          rd_kafka_topic_result_error_string(results[i])));
    }
  }
  return WaitForLeaders(handle, topics, partitions, deadline);
}

namespace {

// The partitions of `topic`, as the cluster's metadata names them.
absl::StatusOr<std::vector<int32_t>> Partitions(rd_kafka_t* handle,
                                                const std::string& topic) {
  TopicPtr topic_handle(rd_kafka_topic_new(handle, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* answer = nullptr;
  rd_kafka_resp_err_t got =
      rd_kafka_metadata(handle, 0, topic_handle.get(), &answer, 10000);
  MetadataPtr metadata(got == RD_KAFKA_RESP_ERR_NO_ERROR ? answer : nullptr);
  if (metadata == nullptr || metadata->topic_cnt != 1) {
    return absl::UnavailableError(absl::StrCat("no metadata for ", topic));
  }
  std::vector<int32_t> partitions;
  for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) {
    partitions.push_back(metadata->topics[0].partitions[i].id);
  }
  return partitions;
}

}  // namespace

absl::StatusOr<PartitionOffsets> CommittedOffsets(const std::string& bootstrap,
                                                  const std::string& group,
                                                  const std::string& topic) {
  absl::StatusOr<kafka::HandlePtr> client = NewClient(bootstrap, group);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::vector<int32_t>> partitions =
      Partitions(client->get(), topic);
  if (!partitions.ok()) return partitions.status();
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions->size())));
  for (int32_t partition : *partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  rd_kafka_resp_err_t got =
      rd_kafka_committed(client->get(), list.get(), 10000);
  if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(rd_kafka_err2str(got));
  }
  PartitionOffsets committed;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(rd_kafka_err2str(list->elems[i].err));
    }
    // -1001: none yet.
    committed[list->elems[i].partition] =
        std::max<int64_t>(list->elems[i].offset, 0);
  }
  return committed;
}

absl::StatusOr<int64_t> CountCommitted(const std::string& bootstrap,
                                       const std::string& group,
                                       const std::string& topic) {
  absl::StatusOr<PartitionOffsets> committed =
      CommittedOffsets(bootstrap, group, topic);
  if (!committed.ok()) return committed.status();
  int64_t total = 0;
  for (const auto& [partition, offset] : *committed) total += offset;
  return total;
}

absl::StatusOr<PartitionOffsets> HighWatermarks(const std::string& bootstrap,
                                                const std::string& topic) {
  absl::StatusOr<kafka::HandlePtr> client = NewClient(bootstrap);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::vector<int32_t>> partitions =
      Partitions(client->get(), topic);
  if (!partitions.ok()) return partitions.status();
  PartitionOffsets ends;
  for (int32_t partition : *partitions) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t got = rd_kafka_query_watermark_offsets(
        client->get(), topic.c_str(), partition, &low, &high, 10000);
    if (got != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(rd_kafka_err2str(got));
    }
    ends[partition] = high;
  }
  return ends;
}

absl::StatusOr<int64_t> CountRecords(const std::string& bootstrap,
                                     const std::string& topic) {
  absl::StatusOr<PartitionOffsets> ends = HighWatermarks(bootstrap, topic);
  if (!ends.ok()) return ends.status();
  int64_t total = 0;
  for (const auto& [partition, end] : *ends) total += end;
  return total;
}

absl::StatusOr<std::unique_ptr<EventReader>> EventReader::Start(
    const std::string& bootstrap, const std::string& topic,
    kafka::Isolation isolation) {
  auto reader = kafka::TopicReader::Create(
      {bootstrap, {}}, topic, kafka::TopicReader::Start::kEarliest, isolation);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<EventReader>(new EventReader(*std::move(reader)));
}

bool EventReader::ReadSome(int timeout_ms) {
  auto polled = reader_->Poll(timeout_ms);
  if (!polled.ok()) {
    ADD_FAILURE() << polled.status();
    return false;
  }
  if (!polled->has_value()) return true;
  const kafka::Message& message = **polled;
  absl::StatusOr<kitchen::v1::OrderEvent> event =
      orders::DecodeEvent(message.value());
  if (!event.ok()) {
    ++undecodable_;
    return true;
  }
  events_.push_back({*std::move(event), message.partition(), message.offset()});
  return true;
}

bool EventReader::WaitFor(
    const std::function<bool(const std::vector<StatusEvent>&)>& condition,
    absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!condition(events_)) {
    if (absl::Now() > deadline || !ReadSome(50)) return false;
  }
  return true;
}

bool EventReader::CatchUp(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<kafka::TopicReader::Offsets> ends = reader_->EndOffsets();
  if (!ends.ok()) {
    ADD_FAILURE() << ends.status();
    return false;
  }
  while (!reader_->CaughtUp(*ends)) {
    if (absl::Now() > deadline || !ReadSome(50)) return false;
  }
  return true;
}

std::map<OrderPosition, int> CountByOrder(
    const std::vector<StatusEvent>& events,
    kitchen::v1::OrderEvent::State state) {
  std::map<OrderPosition, int> counts;
  for (const StatusEvent& event : events) {
    if (event.event.state() == state) ++counts[event.order()];
  }
  return counts;
}

std::vector<OrderPosition> AllOrders(const PartitionOffsets& high_watermarks) {
  std::vector<OrderPosition> orders;
  for (const auto& [partition, end] : high_watermarks) {
    for (int64_t offset = 0; offset < end; ++offset) {
      orders.emplace_back(partition, offset);
    }
  }
  return orders;
}

absl::Status ProduceRaw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value) {
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf({bootstrap, {}}, {});
  if (!conf.ok()) return conf.status();
  absl::Status delivered = absl::UnknownError("no delivery report");
  auto producer = kafka::Producer::Create(
      *std::move(conf),
      [&](const kafka::Delivery& d) { delivered = d.status; });
  if (!producer.ok()) return producer.status();
  absl::Status sent = (*producer)->Send({topic, key, value, nullptr}, 0);
  if (!sent.ok()) return sent;
  if (absl::Status flushed = (*producer)->Flush(absl::Seconds(10));
      !flushed.ok()) {
    return flushed;
  }
  return delivered;
}

absl::optional<std::string> Record::header(absl::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name == name) return it->value;
  }
  return absl::nullopt;
}

std::vector<Record> ReadRecords(const std::string& bootstrap,
                                const std::string& topic, size_t count,
                                absl::Duration timeout) {
  std::vector<Record> records;
  static int reader = 0;
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      {bootstrap, {}}, kafka::ConsumerDefaults(absl::StrCat(
                           "test-reader-", ::getpid(), "-", reader++)));
  if (!conf.ok()) return records;
  auto consumer = kafka::Consumer::Create(*std::move(conf), {topic}, nullptr);
  if (!consumer.ok()) return records;
  absl::Time deadline = absl::Now() + timeout;
  while (records.size() < count && absl::Now() < deadline) {
    auto polled = (*consumer)->Poll(100);
    if (polled.ok() && polled->has_value()) {
      const kafka::Message& message = **polled;
      records.push_back({std::string(message.key()),
                         std::string(message.value()), message.headers()});
    }
  }
  return records;
}

std::vector<std::string> LinesWith(const std::string& text,
                                   absl::string_view needle) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) lines.emplace_back(line);
  }
  return lines;
}

bool WaitUntil(const std::function<bool()>& predicate, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (predicate()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return predicate();
}

}  // namespace kitchen::testing
