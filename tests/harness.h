// File: tests/harness.h
//
// What every end-to-end test needs: a real devbroker process on a port it
// picks, the kitchen's binaries started against it, and a way to look at a
// topic from outside.
//
// Usage:
//   auto broker = DevBrokerProcess::Start();
//   auto cook =
//       StartService("cook", {"--prep_time=0"}, (*broker)->bootstrap());
//   int64_t records = CountRecords((*broker)->bootstrap(), "pizza-order");

#ifndef KITCHEN_TESTS_HARNESS_H_
#define KITCHEN_TESTS_HARNESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kafka/message.h"
#include "tests/process.h"

namespace kitchen::testing {

class DevBrokerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<DevBrokerProcess>> Start(
      std::vector<std::string> extra_flags = {});

  const std::string& bootstrap() const { return bootstrap_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
};

// A test with its own devbroker process, started before each test and stopped
// after it, however the test ends.
class DevBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override;

  const std::string& bootstrap() const { return broker_->bootstrap(); }
  // Places `count` random orders with the waiter's load mode.
  void PlaceOrders(int count);

  std::unique_ptr<DevBrokerProcess> broker_;
};

// Starts waiter/cook/manager ("cook" → //cook:cook) with --brokers=`bootstrap`.
absl::StatusOr<std::unique_ptr<Process>> StartService(
    absl::string_view service, std::vector<std::string> flags,
    const std::string& bootstrap);

// Runs waiter/cook/manager to its end (killed after a minute) with
// --brokers=`bootstrap` and `args`.
RunResult RunService(absl::string_view service, const std::string& bootstrap,
                     std::vector<std::string> args,
                     const std::string& input = "");

// RunService("waiter", ...).
RunResult RunWaiter(const std::string& bootstrap, std::vector<std::string> args,
                    const std::string& input = "");

// The number of records on `topic` (sum of high watermarks over its
// partitions).
absl::StatusOr<int64_t> CountRecords(const std::string& bootstrap,
                                     const std::string& topic);

// Produces one raw record (a poison record, say) and waits for the broker's
// answer.
absl::Status ProduceRaw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value);

// A copy of a record read (a kafka::Message cannot outlive its consumer).
struct Record {
  std::string key;
  std::string value;
  kafka::Headers headers;
  absl::optional<std::string> header(absl::string_view name) const;
};

// Reads records of `topic` from the start until `count` arrived or `timeout`
// passed.
std::vector<Record> ReadRecords(const std::string& bootstrap,
                                const std::string& topic, size_t count,
                                absl::Duration timeout);

// The lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text,
                                   absl::string_view needle);

// Waits until `predicate` holds, checking every 50 ms; false if `timeout`
// passes.
bool WaitUntil(const std::function<bool()>& predicate, absl::Duration timeout);

}  // namespace kitchen::testing

#endif  // KITCHEN_TESTS_HARNESS_H_
