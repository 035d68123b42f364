// File: service/metrics_test.cc
//
// The metrics' text and their endpoint, scraped over real HTTP.

#include "service/metrics.h"

#include <httplib.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kitchen::service {
namespace {

TEST(MetricsTest, CountsPerPartitionAndLagInThePrometheusTextFormat) {
  Metrics metrics;
  metrics.Consumed("pizza-order", 2);
  metrics.Consumed("pizza-order", 2);
  metrics.Handled("pizza-order", 2);
  metrics.DeadLettered("pizza-order", 2);
  metrics.Taken("pizza-order", 2, absl::Seconds(3));
  metrics.SetLag({{"pizza-order", 2, 5}, {"pizza-order", 4, -1}});
  metrics.Rebalanced("assigned");
  metrics.Counter("kitchen_orders_cooked_total", "Orders cooked.").Increment(7);
  metrics
      .Histogram("kitchen_order_placed_to_ready_seconds", "Latency.",
                 OrderLatencyBuckets())
      .Observe(0.2);
  const std::string text = metrics.Text();
  for (const char* line : {
           "# TYPE kitchen_records_consumed_total counter",
           "kitchen_records_consumed_total{partition=\"2\",topic=\"pizza-"
           "order\"} 2",
           "kitchen_records_handled_total{partition=\"2\",topic=\"pizza-"
           "order\"} 1",
           "kitchen_records_dead_lettered_total{partition=\"2\",topic=\"pizza-"
           "order\"} 1",
           "kitchen_consumer_lag_records{partition=\"2\",topic=\"pizza-order\"}"
           " 5",
           "kitchen_consumer_lag_seconds{partition=\"2\",topic=\"pizza-order\"}"
           " 3",
           "kitchen_rebalances_total{kind=\"assigned\"} 1",
           "kitchen_orders_cooked_total 7",
           "kitchen_order_placed_to_ready_seconds_bucket{le=\"0.25\"} 1",
           "kitchen_order_placed_to_ready_seconds_count 1",
           "# TYPE process_cpu_seconds_total counter",
           "process_resident_memory_bytes ",
           "process_start_time_seconds ",
       }) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << "\n" << text;
  }
  // A partition whose lag is unknown is not made up.
  EXPECT_FALSE(absl::StrContains(text, "partition=\"4\"")) << text;
  // Caught up: no lag in seconds either.
  metrics.SetLag({{"pizza-order", 2, 0}});
  EXPECT_TRUE(absl::StrContains(
      metrics.Text(),
      "kitchen_consumer_lag_seconds{partition=\"2\",topic=\"pizza-order\"} 0"))
      << metrics.Text();
}

TEST(MetricsEndpointTest, ServesMetricsOverHttp) {
  Metrics metrics;
  metrics.Consumed("pizza-order", 0);
  auto endpoint = MetricsEndpoint::Start(metrics, "127.0.0.1", 0);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  httplib::Client client("127.0.0.1", (*endpoint)->port());
  httplib::Result got = client.Get("/metrics");
  ASSERT_TRUE(got) << httplib::to_string(got.error());
  EXPECT_EQ(got->status, 200);
  EXPECT_TRUE(absl::StartsWith(got->get_header_value("Content-Type"),
                               "text/plain; version=0.0.4"));
  EXPECT_TRUE(absl::StrContains(got->body, "kitchen_records_consumed_total{"))
      << got->body;
  EXPECT_EQ(client.Get("/other")->status, 404);
  // An address not of this machine (TEST-NET-1): a clear error naming it.
  auto elsewhere = MetricsEndpoint::Start(metrics, "192.0.2.1", 9464);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().message(),
            "metrics: cannot listen on 192.0.2.1:9464 (in use, or not an "
            "address of this machine)");
}

}  // namespace
}  // namespace kitchen::service
