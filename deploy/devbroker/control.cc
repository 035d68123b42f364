// File: deploy/devbroker/control.cc

#include "deploy/devbroker/control.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kitchen::devbroker {
namespace {

// Kafka protocol API keys (the mock API takes the numbers).
struct ApiKey {
  const char* name;
  int16_t key;
};
constexpr ApiKey kApiKeys[] = {
    {"Produce", 0},          {"Fetch", 1},        {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8}, {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},   {"Heartbeat", 12},
    {"LeaveGroup", 13},      {"SyncGroup", 14},   {"InitProducerId", 22},
};

absl::StatusOr<int16_t> ApiKeyNamed(absl::string_view name) {
  std::vector<std::string> names;
  for (const ApiKey& api : kApiKeys) {
    if (absl::EqualsIgnoreCase(api.name, name)) return api.key;
    names.push_back(api.name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown API \"", name, "\"; one of ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<rd_kafka_resp_err_t> ErrorNamed(absl::string_view name) {
  const rd_kafka_err_desc* descriptions = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descriptions, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descriptions[i].name != nullptr &&
        absl::EqualsIgnoreCase(descriptions[i].name, name)) {
      return descriptions[i].code;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown error \"", name,
                   "\" (Kafka error names such as NOT_LEADER_FOR_PARTITION, "
                   "REQUEST_TIMED_OUT, COORDINATOR_NOT_AVAILABLE)"));
}

absl::StatusOr<int32_t> Number(absl::string_view text, absl::string_view what) {
  int32_t number = 0;
  if (!absl::SimpleAtoi(text, &number) || number < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", text, "\" is not a number"));
  }
  return number;
}

// The most requests one `errors` command may fail: the mock holds the count as
// that many error codes, so a mistyped count (errors Produce 2000000000 ...)
// would take gigabytes. The chaos run asks for at most 5.
constexpr int32_t kMostInjectedErrors = 10000;

absl::StatusOr<int32_t> BrokerId(absl::string_view text, int broker_count) {
  absl::StatusOr<int32_t> id = Number(text, "broker id");
  if (!id.ok()) return id;
  if (*id < 1 || *id > broker_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("no broker ", *id, "; brokers are 1 to ", broker_count));
  }
  return id;
}

absl::StatusOr<std::string> Done(rd_kafka_resp_err_t error, std::string what) {
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " failed: ", rd_kafka_err2str(error)));
  }
  return what;
}

absl::Status Usage(absl::string_view command) {
  return absl::InvalidArgumentError(
      absl::StrCat("usage: ", command, " (type help for all commands)"));
}

}  // namespace

std::string ControlHelp() {
  return "broker down ID | broker up ID; leader TOPIC PARTITION ID; "
         "coordinator group "
         "GROUP ID; errors API COUNT ERROR; rtt ID MILLISECONDS; help";
}

absl::StatusOr<std::string> RunControlCommand(rd_kafka_mock_cluster_t* cluster,
                                              int broker_count,
                                              absl::string_view line) {
  std::vector<std::string> words = absl::StrSplit(
      absl::StripAsciiWhitespace(line), ' ', absl::SkipWhitespace());
  if (words.empty()) return absl::InvalidArgumentError("empty command");
  const std::string& command = words[0];

  if (command == "help") return ControlHelp();
  if (command == "broker") {
    if (words.size() != 3 || (words[1] != "down" && words[1] != "up")) {
      return Usage("broker down ID | broker up ID");
    }
    absl::StatusOr<int32_t> id = BrokerId(words[2], broker_count);
    if (!id.ok()) return id.status();
    bool down = words[1] == "down";
    return Done(down ? rd_kafka_mock_broker_set_down(cluster, *id)
                     : rd_kafka_mock_broker_set_up(cluster, *id),
                absl::StrCat("broker ", *id, down ? " down" : " up"));
  }
  if (command == "leader") {
    if (words.size() != 4) return Usage("leader TOPIC PARTITION ID");
    absl::StatusOr<int32_t> partition = Number(words[2], "partition");
    if (!partition.ok()) return partition.status();
    absl::StatusOr<int32_t> id = BrokerId(words[3], broker_count);
    if (!id.ok()) return id.status();
    return Done(rd_kafka_mock_partition_set_leader(cluster, words[1].c_str(),
                                                   *partition, *id),
                absl::StrCat("leader of ", words[1], "/", *partition,
                             " is broker ", *id));
  }
  if (command == "coordinator") {
    if (words.size() != 4 || words[1] != "group") {
      return Usage("coordinator group GROUP ID");
    }
    absl::StatusOr<int32_t> id = BrokerId(words[3], broker_count);
    if (!id.ok()) return id.status();
    return Done(
        rd_kafka_mock_coordinator_set(cluster, "group", words[2].c_str(), *id),
        absl::StrCat("coordinator of group ", words[2], " is broker ", *id));
  }
  if (command == "errors") {
    if (words.size() != 4) return Usage("errors API COUNT ERROR");
    absl::StatusOr<int16_t> api = ApiKeyNamed(words[1]);
    if (!api.ok()) return api.status();
    absl::StatusOr<int32_t> count = Number(words[2], "count");
    if (!count.ok()) return count.status();
    if (*count > kMostInjectedErrors) {
      return absl::InvalidArgumentError(
          absl::StrCat("count ", *count, " is more than ", kMostInjectedErrors,
                       " requests at once"));
    }
    absl::StatusOr<rd_kafka_resp_err_t> error = ErrorNamed(words[3]);
    if (!error.ok()) return error.status();
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(*count),
                                            *error);
    rd_kafka_mock_push_request_errors_array(cluster, *api, errors.size(),
                                            errors.data());
    return absl::StrCat("next ", *count, " ", words[1], " requests fail with ",
                        rd_kafka_err2name(*error));
  }
  if (command == "rtt") {
    if (words.size() != 3) return Usage("rtt ID MILLISECONDS");
    absl::StatusOr<int32_t> id = BrokerId(words[1], broker_count);
    if (!id.ok()) return id.status();
    absl::StatusOr<int32_t> millis = Number(words[2], "milliseconds");
    if (!millis.ok()) return millis.status();
    return Done(
        rd_kafka_mock_broker_set_rtt(cluster, *id, *millis),
        absl::StrCat("broker ", *id, " answers ", *millis, " ms later"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command \"", command, "\"; ", ControlHelp()));
}

}  // namespace kitchen::devbroker
