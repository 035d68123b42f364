// File: tests/metrics_test.cc
//
// Metrics end to end (#18, README "Metrics"): cook, manager and board as real
// processes with --metrics_port, /metrics scraped over HTTP while orders flow
// and once the kitchen is quiet: every counter equals the orders placed, every
// latency histogram counted each order, and the lag is 0.

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// A port free now (the kernel's choice), for a service to listen on.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// GET /metrics on 127.0.0.1:`port`; "" if it does not answer 200.
std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  httplib::Result got = client.Get("/metrics");
  return got && got->status == 200 ? got->body : "";
}

// The samples of metric `name` (any labels) in `text`: their values.
std::vector<double> Samples(const std::string& text, const std::string& name) {
  std::vector<double> values;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    if (!line.empty() && line[0] == '{') {
      size_t close = line.find('}');
      if (close == line.npos) continue;
      line.remove_prefix(close + 1);
    }
    if (!absl::ConsumePrefix(&line, " ")) continue;  // Another metric.
    double value = 0;
    if (absl::SimpleAtod(line, &value)) values.push_back(value);
  }
  return values;
}

double Sum(const std::string& text, const std::string& name) {
  double sum = 0;
  for (double value : Samples(text, name)) sum += value;
  return sum;
}

// The sum of metric `name`'s samples whose labels contain `label` (such as
// topic="pizza-order").
double SumWhere(const std::string& text, const std::string& name,
                const std::string& label) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, "{")) {
      continue;
    }
    size_t close = line.find('}');
    if (close == line.npos ||
        !absl::StrContains(line.substr(0, close), label)) {
      continue;
    }
    line.remove_prefix(close + 1);
    double value = 0;
    if (absl::ConsumePrefix(&line, " ") && absl::SimpleAtod(line, &value)) {
      sum += value;
    }
  }
  return sum;
}

double Max(const std::string& text, const std::string& name) {
  double max = 0;
  for (double value : Samples(text, name)) max = std::max(max, value);
  return max;
}

class MetricsTest : public BrokerTest {};

TEST_F(MetricsTest, CountersEqualTheOrdersPlacedAndTheLagIsZeroOnceQuiet) {
  constexpr int kOrders = 300;
  const int cook_port = FreePort();
  const int manager_port = FreePort();
  const int board_port = FreePort();
  ASSERT_GT(cook_port, 0);
  ASSERT_GT(manager_port, 0);
  ASSERT_GT(board_port, 0);
  auto cook = StartService(
      "cook", {"--prep_time=0", absl::StrCat("--metrics_port=", cook_port)});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager =
      StartService("manager", {"--ledger=" + TempPath("ledger.jsonl"),
                               absl::StrCat("--metrics_port=", manager_port)});
  ASSERT_TRUE(manager.ok()) << manager.status();
  auto board = StartService(
      "board", {"--port=0", absl::StrCat("--metrics_port=", board_port)});
  ASSERT_TRUE(board.ok()) << board.status();
  ASSERT_TRUE((*cook)->WaitForStderr(
      absl::StrCat("metrics at http://127.0.0.1:", cook_port, "/metrics"),
      absl::Seconds(30)))
      << (*cook)->Stderr();

  // Scraped while the orders flow, from another thread: it answers all along.
  std::atomic<bool> placing{true};
  std::atomic<int> scrapes{0};
  std::atomic<int> failed_scrapes{0};
  std::thread scraper([&] {
    while (placing.load()) {
      if (Scrape(cook_port).empty()) {
        ++failed_scrapes;
      } else {
        ++scrapes;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  RunResult waiter = RunWaiter({absl::StrCat("--count=", kOrders)});
  placing = false;
  scraper.join();
  ASSERT_EQ(waiter.exit_status, 0) << waiter.err;
  EXPECT_GT(scrapes.load(), 0);
  EXPECT_EQ(failed_scrapes.load(), 0);

  // Once quiet: the counters reach the orders placed, and the lag 0.
  std::string cook_text;
  EXPECT_TRUE(WaitUntil(
      [&] {
        cook_text = Scrape(cook_port);
        return Sum(cook_text, "kitchen_orders_cooked_total") == kOrders &&
               Sum(cook_text, "kitchen_records_handled_total") == kOrders &&
               // Each COOKING acknowledged (served at the cook's next poll).
               Sum(cook_text, "kitchen_producer_delivery_seconds_count") ==
                   kOrders &&
               !Samples(cook_text, "kitchen_consumer_lag_records").empty() &&
               Max(cook_text, "kitchen_consumer_lag_records") == 0 &&
               Max(cook_text, "kitchen_consumer_lag_seconds") == 0;
      },
      absl::Seconds(60)))
      << cook_text << (*cook)->Stderr();
  std::string manager_text;
  EXPECT_TRUE(WaitUntil(
      [&] {
        manager_text = Scrape(manager_port);
        return Sum(manager_text, "kitchen_orders_recorded_total") == kOrders &&
               Sum(manager_text, "kitchen_records_handled_total") == kOrders &&
               !Samples(manager_text, "kitchen_consumer_lag_records").empty() &&
               Max(manager_text, "kitchen_consumer_lag_records") == 0 &&
               Max(manager_text, "kitchen_consumer_lag_seconds") == 0;
      },
      absl::Seconds(60)))
      << manager_text << (*manager)->Stderr();
  // The board reads every order (and each one's events) outside any group.
  std::string board_text;
  EXPECT_TRUE(WaitUntil(
      [&] {
        board_text = Scrape(board_port);
        return SumWhere(board_text, "kitchen_board_records_read_total",
                        absl::StrCat("topic=\"", topic(), "\"")) == kOrders;
      },
      absl::Seconds(60)))
      << board_text << (*board)->Stderr();
  EXPECT_EQ(Sum(board_text, "kitchen_board_orders_placed_total"), 0);
  EXPECT_EQ(Sum(board_text, "kitchen_board_order_errors_total"), 0);
  EXPECT_EQ(Sum(board_text, "kitchen_board_event_streams"), 0);
  EXPECT_GT(Sum(board_text, "process_resident_memory_bytes"), 0);

  EXPECT_EQ(Sum(cook_text, "kitchen_records_consumed_total"), kOrders);
  EXPECT_EQ(Sum(cook_text, "kitchen_order_placed_to_cooking_seconds_count"),
            kOrders);
  EXPECT_EQ(Sum(cook_text, "kitchen_order_placed_to_ready_seconds_count"),
            kOrders);
  EXPECT_EQ(Sum(manager_text, "kitchen_order_placed_to_recorded_seconds_count"),
            kOrders);
  EXPECT_EQ(Sum(manager_text, "kitchen_ledger_batch_orders_sum"), kOrders);
  EXPECT_GT(Sum(manager_text, "kitchen_ledger_sync_seconds_count"), 0);
  EXPECT_EQ(Sum(cook_text, "kitchen_producer_delivery_errors_total"), 0);
  EXPECT_EQ(Sum(cook_text, "kitchen_records_dead_lettered_total"), 0);
  EXPECT_GE(Sum(cook_text, "kitchen_rebalances_total"), 1);
  EXPECT_GT(Sum(cook_text, "process_resident_memory_bytes"), 0);
  EXPECT_GT(Sum(cook_text, "process_start_time_seconds"), 1.7e9);
  // Per partition, never per order.
  EXPECT_FALSE(absl::StrContains(cook_text, "order_id")) << cook_text;
}

TEST_F(MetricsTest, APortThatIsNotOneIsABadFlag) {
  RunResult cook = RunService("cook", {"--metrics_port=70000"});
  EXPECT_EQ(cook.exit_status, 1);
  EXPECT_TRUE(absl::StrContains(
      cook.err, "--metrics_port 70000 is not a port (1 to 65535; 0: off)"))
      << cook.err;
}

}  // namespace
}  // namespace kitchen::testing
