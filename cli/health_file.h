// File: cli/health_file.h
//
// A health file for container probes (docker-compose healthchecks, Kubernetes
// liveness/readiness), where a service has no HTTP port to ask. While the
// service's main loop runs it rewrites the file every second or so:
//   - the file's age says the loop is alive (liveness: younger than 30 s);
//   - its first line says `ready` once the consumer is in its group with
//     partitions assigned, else `starting` (readiness); the service writes
//     `starting` before anything slow it does first (the manager reads its
//     ledger), so a probe must read `ready`, not only see the file, before it
//     counts the service as started;
//   - each further line, `waiting: ...`, says what the service waits for
//     while it goes on (a poison record's dead-letter copy, say).
// An empty path turns it off. A path that cannot be written is found at start
// (Prepare), not by the probes; should writing fail later, that is logged once
// and its recovery once.
//
// Usage:
//   if (!HealthFile::Prepare(path).ok()) ...   // exit 1: a usage error
//   HealthFile health(path);
//   while (running) {
//     ...
//     health.Beat([&] { return !consumer->Assignment().empty(); },
//                 [&] { return dead_letters->Waiting(); });
//   }

#ifndef KITCHEN_CLI_HEALTH_FILE_H_
#define KITCHEN_CLI_HEALTH_FILE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kitchen::cli {

class HealthFile {
 public:
  // `now` tells the time: absl::Now, or a test's own clock.
  explicit HealthFile(std::string path,
                      std::function<absl::Time()> now = absl::Now)
      : path_(std::move(path)), now_(std::move(now)) {}

  // Writes `starting` to `path` (nothing for an empty path). The error says
  // why the file cannot be written.
  static absl::Status Prepare(const std::string& path);

  // Rewrites the file if a second has passed since the last write; `ready` and
  // `waiting` (one line each; may be empty) are only asked then.
  void Beat(const std::function<bool()>& ready,
            const std::function<std::vector<std::string>()>& waiting = {});

 private:
  std::string path_;
  std::function<absl::Time()> now_;
  absl::Time last_write_ = absl::InfinitePast();
  bool failing_ = false;  // The last write failed (and was logged).
};

}  // namespace kitchen::cli

#endif  // KITCHEN_CLI_HEALTH_FILE_H_
