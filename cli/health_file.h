// File: cli/health_file.h
//
// A health file for container probes (docker-compose healthchecks, Kubernetes
// liveness/readiness), where a service has no HTTP port to ask. While the
// service's main loop runs it rewrites the file every second or so:
//   - the file's age says the loop is alive (liveness: younger than 30 s);
//   - its content says `ready` once the consumer is in its group with
//     partitions assigned, else `starting` (readiness).
// An empty path turns it off.
//
// Usage:
//   HealthFile health(absl::GetFlag(FLAGS_health_file));
//   while (running) {
//     ...
//     health.Beat([&] { return !consumer->Assignment().empty(); });
//   }

#ifndef KITCHEN_CLI_HEALTH_FILE_H_
#define KITCHEN_CLI_HEALTH_FILE_H_

#include <functional>
#include <string>

#include "absl/time/time.h"

namespace kitchen::cli {

class HealthFile {
 public:
  explicit HealthFile(std::string path) : path_(std::move(path)) {}

  // Rewrites the file if a second has passed since the last write; `ready` is
  // only asked then.
  void Beat(const std::function<bool()>& ready);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  absl::Time last_write_ = absl::InfinitePast();
};

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_HEALTH_FILE_H_
