// File: service/presence.h
//
// A consumer service saying who it is and what it holds, on the topic
// kitchen-members (proto/member_event.proto): after every rebalance, every
// 5 seconds while it runs (a member killed with SIGKILL is seen to go quiet),
// and once more when it leaves. The board reads it to show the cooks online
// and their partitions on any broker (librdkafka's mock, the dev broker, cannot
// describe consumer groups).
//
// Best effort by design: an announcement that cannot be delivered is logged
// once and never holds up the service's real work. Everything is sent from the
// presence's own thread, so Announce() may be called from a rebalance callback.
//
// Usage:
//   auto presence = Presence::Start(kafka, "kitchen-members",
//                                   {"cook", "cook-1", "cook", "pizza-order"});
//   (*presence)->Announce(consumer->Assignment());
//   presence->reset();  // LEFT, sent and waited for (at most 2 s).

#ifndef KITCHEN_SERVICE_PRESENCE_H_
#define KITCHEN_SERVICE_PRESENCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kafka/config.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "proto/member_event.pb.h"

namespace kitchen::service {

inline constexpr char kMembersTopic[] = "kitchen-members";

struct MemberIdentity {
  std::string group;    // "cook"
  std::string member;   // "cook-1"
  std::string service;  // "cook"
  std::string topic;    // "pizza-order"
};

// A member name for an instance that was given none: "HOSTNAME-PID".
std::string DefaultMemberName();

// The record key of a member's announcements: "GROUP/MEMBER".
std::string MemberKey(const MemberIdentity& identity);

class Presence {
 public:
  static absl::StatusOr<std::unique_ptr<Presence>> Start(
      const kafka::ClientConfig& config, std::string topic,
      MemberIdentity identity,
      absl::Duration heartbeat_interval = absl::Seconds(5));

  Presence(const Presence&) = delete;
  Presence& operator=(const Presence&) = delete;
  // Announces LEFT and waits for it (at most 2 s).
  ~Presence();

  // The member now holds `assignment` (of its topic): said at once.
  void Announce(const std::vector<kafka::TopicPartition>& assignment);

 private:
  Presence(std::string topic, MemberIdentity identity,
           absl::Duration heartbeat_interval)
      : topic_(std::move(topic)),
        identity_(std::move(identity)),
        heartbeat_interval_(heartbeat_interval) {}
  void Run();
  void Send(kitchen::v1::MemberEvent::State state);

  const std::string topic_;
  const MemberIdentity identity_;
  const absl::Duration heartbeat_interval_;

  absl::Mutex mu_;
  std::vector<int32_t> partitions_ ABSL_GUARDED_BY(mu_);
  bool changed_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  bool failure_logged_ = false;  // The presence thread's.
  std::unique_ptr<kafka::Producer> producer_;
  std::thread thread_;  // Last: started once the rest is built.
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_PRESENCE_H_
