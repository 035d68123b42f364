// File: service/presence.cc

#include "service/presence.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::service {

std::string DefaultMemberName() {
  char host[256] = "localhost";
  (void)gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

std::string MemberKey(const MemberIdentity& identity) {
  return absl::StrCat(identity.group, "/", identity.member);
}

absl::StatusOr<std::unique_ptr<Presence>> Presence::Start(
    const kafka::ClientConfig& config, std::string topic,
    MemberIdentity identity, absl::Duration heartbeat_interval) {
  std::unique_ptr<Presence> presence(
      new Presence(std::move(topic), std::move(identity), heartbeat_interval));
  absl::StatusOr<kafka::ConfPtr> conf = kafka::BuildConf(
      kafka::ForProducer(config),
      {
          // An announcement is stale after one heartbeat: no point in
          // retrying it for longer.
          {"message.timeout.ms",
           absl::StrCat(absl::ToInt64Milliseconds(heartbeat_interval))},
          {"linger.ms", "0"},
      });
  if (!conf.ok()) return conf.status();
  Presence* raw = presence.get();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(
          *std::move(conf), [raw](const kafka::Delivery& delivery) {
            if (delivery.status.ok() || raw->failure_logged_) {
              return;
            }
            raw->failure_logged_ = true;
            logging::Warning(
                "cannot announce this member on %s (the "
                "board will not show it): %s",
                raw->topic_, delivery.status.message());
          });
  if (!producer.ok()) return producer.status();
  presence->producer_ = *std::move(producer);
  presence->producer_->TopicHandle(presence->topic_);
  presence->producer_->set_close_timeout(absl::Seconds(2));
  presence->thread_ = std::thread([raw] { raw->Run(); });
  return presence;
}

Presence::~Presence() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  Send(kitchen::v1::MemberEvent::LEFT);
  (void)producer_->Flush(absl::Seconds(2));
}

void Presence::Announce(const std::vector<kafka::TopicPartition>& assignment) {
  absl::MutexLock lock(&mu_);
  partitions_.clear();
  for (const kafka::TopicPartition& partition : assignment) {
    if (partition.topic == identity_.topic) {
      partitions_.push_back(partition.partition);
    }
  }
  changed_ = true;
}

void Presence::Run() {
  absl::Time next_heartbeat = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return changed_ || stopping_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&due), next_heartbeat);
      if (stopping_) return;
      changed_ = false;
    }
    Send(kitchen::v1::MemberEvent::ASSIGNED);
    next_heartbeat = absl::Now() + heartbeat_interval_;
    producer_->Poll(0);
  }
}

void Presence::Send(kitchen::v1::MemberEvent::State state) {
  kitchen::v1::MemberEvent event;
  event.set_group(identity_.group);
  event.set_member(identity_.member);
  event.set_service(identity_.service);
  event.set_topic(identity_.topic);
  event.set_state(state);
  {
    absl::MutexLock lock(&mu_);
    for (int32_t partition : partitions_) event.add_partitions(partition);
  }
  const absl::Time now = absl::Now();
  const int64_t nanos = absl::ToUnixNanos(now);
  event.mutable_at()->set_seconds(nanos / 1'000'000'000);
  event.mutable_at()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  const std::string value = event.SerializeAsString();
  const std::string key = MemberKey(identity_);
  absl::Status sent = producer_->Send({topic_, key, value, nullptr}, 0);
  if (!sent.ok() && !failure_logged_) {
    failure_logged_ = true;
    logging::Warning("cannot announce this member on %s: %s", topic_,
                     sent.message());
  }
}

}  // namespace kitchen::service
