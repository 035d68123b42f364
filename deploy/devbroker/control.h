// File: deploy/devbroker/control.h
//
// The dev broker's control channel: one text command per line, to inject
// faults through librdkafka's mock API while the kitchen runs. devbroker reads
// them from standard input (a terminal it runs in the foreground of, or a pipe
// from a test or the chaos run) and answers each with one line, `ok ...` or
// `error ...`.
//
//   broker down ID | broker up ID   take a broker off the network and back
//   leader TOPIC PARTITION ID       move a partition's leader
//   coordinator group GROUP ID      move a consumer group's coordinator
//   errors API COUNT ERROR          fail the next COUNT requests of API, e.g.
//                                   errors Produce 3 NOT_LEADER_FOR_PARTITION
//                                   (COUNT at most 10000)
//   rtt ID MILLISECONDS             add latency to a broker's answers
//   help                            list the commands
//
// Usage:
//   absl::StatusOr<std::string> done =
//       RunControlCommand(broker->cluster(), broker_count, line);

#ifndef KITCHEN_DEPLOY_DEVBROKER_CONTROL_H_
#define KITCHEN_DEPLOY_DEVBROKER_CONTROL_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kitchen::devbroker {

// Carries out one command. OK holds what was done; an error says what is wrong.
absl::StatusOr<std::string> RunControlCommand(rd_kafka_mock_cluster_t* cluster,
                                              int broker_count,
                                              absl::string_view line);

// The help text, one command per line.
std::string ControlHelp();

}  // namespace kitchen::devbroker

#endif  // KITCHEN_DEPLOY_DEVBROKER_CONTROL_H_
