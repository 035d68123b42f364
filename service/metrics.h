// File: service/metrics.h
//
// A service's Prometheus metrics (README "Metrics"): a prometheus-cpp registry
// (Debian's prometheus-cpp-dev) with the families every consumer shares, fed by
// the consumer loop (service/loop.cc), and those a handler adds (the cook's
// orders cooked, the manager's ledger syncs); the process basics are read
// from /proc at each scrape. Served in the text format at GET /metrics by the
// kitchen's HTTP server (http/server.h) when a service is given
// --metrics_port (MetricsEndpoint).
//
// Names follow Prometheus' conventions: a `kitchen_` prefix, units in the
// name (`_seconds`, `_records`), `_total` for counters; labels are topics and
// partitions, never an order's id.
//
// Usage:
//   Metrics metrics;
//   prometheus::Counter& cooked =
//   metrics.Counter("kitchen_orders_cooked_total",
//                                                 "Orders cooked (READY).");
//   auto endpoint = MetricsEndpoint::Start(metrics, "127.0.0.1", 9464);
//   ... cooked.Increment();

#ifndef KITCHEN_SERVICE_METRICS_H_
#define KITCHEN_SERVICE_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "http/server.h"
#include "kafka/consumer.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kitchen::service {

// Buckets for an order's way through the kitchen, in seconds: 1 ms to 5 min.
std::vector<double> OrderLatencyBuckets();
// Buckets for a broker's or a disk's answer, in seconds: 100 us to 10 s.
std::vector<double> IoLatencyBuckets();

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A metric of the service's own, without labels; registered once per name.
  prometheus::Counter& Counter(const std::string& name,
                               const std::string& help);
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help);
  prometheus::Histogram& Histogram(const std::string& name,
                                   const std::string& help,
                                   const std::vector<double>& buckets);
  // The same with labels (a small, fixed set of values: never an order id).
  prometheus::Family<prometheus::Counter>& CounterFamily(
      const std::string& name, const std::string& help);

  // The consumer loop's, per partition (called on the loop's thread).
  void Consumed(absl::string_view topic, int32_t partition);
  void Handled(absl::string_view topic, int32_t partition);
  void DeadLettered(absl::string_view topic, int32_t partition);
  // The record just taken was `age` old (now minus its timestamp): the
  // oldest record not handled on its partition, as the loop takes it.
  void Taken(absl::string_view topic, int32_t partition, absl::Duration age);
  // The lag of each assigned partition; a partition caught up (0 records)
  // has 0 seconds of lag.
  void SetLag(const std::vector<kafka::PartitionLag>& lags);
  // "assigned", "revoked" or "lost".
  void Rebalanced(const std::string& kind);

  // Everything in the Prometheus text format (0.0.4), with the process
  // basics.
  std::string Text() const;

 private:
  struct Partition {
    prometheus::Counter* consumed;
    prometheus::Counter* handled;
    prometheus::Counter* dead_lettered;
    prometheus::Gauge* lag_records;
    prometheus::Gauge* lag_seconds;
  };
  Partition& Of(absl::string_view topic, int32_t partition);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Counter>& dead_lettered_;
  prometheus::Family<prometheus::Gauge>& lag_records_;
  prometheus::Family<prometheus::Gauge>& lag_seconds_;
  prometheus::Family<prometheus::Counter>& rebalances_;
  std::map<std::pair<std::string, int32_t>, Partition> partitions_;
};

// GET /metrics of `metrics` on `host`:`port`, served on a thread of its own
// until destroyed.
class MetricsEndpoint {
 public:
  // Unavailable when the address cannot be had.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const Metrics& metrics, const std::string& host, int port);
  ~MetricsEndpoint();

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  http::Server server_{http::ServerOptions{2, 1024}};
  int port_ = 0;
  std::thread serving_;
};

}  // namespace kitchen::service

#endif  // KITCHEN_SERVICE_METRICS_H_
