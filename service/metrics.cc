// File: service/metrics.cc

#include "service/metrics.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "prometheus/text_serializer.h"

namespace kitchen::service {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

const absl::Time kStarted = absl::Now();

prometheus::MetricFamily Basic(const std::string& name, const std::string& help,
                               prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

// The process basics Prometheus' client libraries export, from /proc.
std::vector<prometheus::MetricFamily> ProcessBasics() {
  std::vector<prometheus::MetricFamily> families;
  families.push_back(
      Basic("process_start_time_seconds",
            "Start time of the process since the Unix epoch.",
            prometheus::MetricType::Gauge,
            absl::ToDoubleSeconds(kStarted - absl::UnixEpoch())));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // The fields after the command's closing parenthesis: state is field 3;
  // utime 14, stime 15, rss 24 (pages).
  size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> fields =
        absl::StrSplit(text.substr(close + 2), ' ');
    double utime = 0, stime = 0, rss = 0;
    if (fields.size() > 21 && absl::SimpleAtod(fields[11], &utime) &&
        absl::SimpleAtod(fields[12], &stime) &&
        absl::SimpleAtod(fields[21], &rss)) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      families.push_back(Basic("process_cpu_seconds_total",
                               "User and system CPU time spent in seconds.",
                               prometheus::MetricType::Counter,
                               (utime + stime) / ticks));
      families.push_back(
          Basic("process_resident_memory_bytes",
                "Resident memory size in bytes.", prometheus::MetricType::Gauge,
                rss * static_cast<double>(sysconf(_SC_PAGESIZE))));
    }
  }
  return families;
}

}  // namespace

std::vector<double> OrderLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   30,    60,   120, 300};
}

std::vector<double> IoLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      consumed_(BuildCounter()
                    .Name("kitchen_records_consumed_total")
                    .Help("Records read from the topic, per partition.")
                    .Register(*registry_)),
      handled_(BuildCounter()
                   .Name("kitchen_records_handled_total")
                   .Help("Orders handled (done), per partition.")
                   .Register(*registry_)),
      dead_lettered_(BuildCounter()
                         .Name("kitchen_records_dead_lettered_total")
                         .Help("Records that were not orders, parked on the "
                               "dead-letter topic, per partition.")
                         .Register(*registry_)),
      lag_records_(BuildGauge()
                       .Name("kitchen_consumer_lag_records")
                       .Help("Records on the broker not consumed yet, per "
                             "assigned partition.")
                       .Register(*registry_)),
      lag_seconds_(BuildGauge()
                       .Name("kitchen_consumer_lag_seconds")
                       .Help("Age of the oldest record not handled, per "
                             "assigned partition, as the loop last took one "
                             "(0 once caught up).")
                       .Register(*registry_)),
      rebalances_(BuildCounter()
                      .Name("kitchen_rebalances_total")
                      .Help("Consumer group rebalances seen, by what they "
                            "did to this member (assigned, revoked, lost).")
                      .Register(*registry_)) {}

prometheus::Counter& Metrics::Counter(const std::string& name,
                                      const std::string& help) {
  return BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
}

prometheus::Gauge& Metrics::Gauge(const std::string& name,
                                  const std::string& help) {
  return BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
}

prometheus::Histogram& Metrics::Histogram(const std::string& name,
                                          const std::string& help,
                                          const std::vector<double>& buckets) {
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(help)
      .Register(*registry_)
      .Add({}, buckets);
}

prometheus::Family<prometheus::Counter>& Metrics::CounterFamily(
    const std::string& name, const std::string& help) {
  return BuildCounter().Name(name).Help(help).Register(*registry_);
}

Metrics::Partition& Metrics::Of(absl::string_view topic, int32_t partition) {
  auto key = std::make_pair(std::string(topic), partition);
  auto found = partitions_.find(key);
  if (found != partitions_.end()) return found->second;
  const prometheus::Labels labels = {{"topic", key.first},
                                     {"partition", absl::StrCat(partition)}};
  Partition made{&consumed_.Add(labels), &handled_.Add(labels),
                 &dead_lettered_.Add(labels), &lag_records_.Add(labels),
                 &lag_seconds_.Add(labels)};
  return partitions_.emplace(std::move(key), made).first->second;
}

void Metrics::Consumed(absl::string_view topic, int32_t partition) {
  Of(topic, partition).consumed->Increment();
}

void Metrics::Handled(absl::string_view topic, int32_t partition) {
  Of(topic, partition).handled->Increment();
}

void Metrics::DeadLettered(absl::string_view topic, int32_t partition) {
  Of(topic, partition).dead_lettered->Increment();
}

void Metrics::Taken(absl::string_view topic, int32_t partition,
                    absl::Duration age) {
  Of(topic, partition)
      .lag_seconds->Set(std::max(0.0, absl::ToDoubleSeconds(age)));
}

void Metrics::SetLag(const std::vector<kafka::PartitionLag>& lags) {
  for (const kafka::PartitionLag& lag : lags) {
    if (lag.lag < 0) continue;  // Unknown until its first fetch.
    Partition& of = Of(lag.topic, lag.partition);
    of.lag_records->Set(static_cast<double>(lag.lag));
    if (lag.lag == 0) of.lag_seconds->Set(0);
  }
}

void Metrics::Rebalanced(const std::string& kind) {
  rebalances_.Add({{"kind", kind}}).Increment();
}

std::string Metrics::Text() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& basic : ProcessBasics()) {
    families.push_back(std::move(basic));
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const Metrics& metrics, const std::string& host, int port) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->server_.routes().Get(
      "/metrics",
      [&metrics](const httplib::Request&, httplib::Response& response) {
        response.set_content(metrics.Text(),
                             "text/plain; version=0.0.4; charset=utf-8");
      });
  absl::StatusOr<int> bound = endpoint->server_.Listen(host, port);
  if (!bound.ok()) {
    return absl::UnavailableError(
        absl::StrCat("metrics: ", bound.status().message()));
  }
  endpoint->port_ = *bound;
  MetricsEndpoint* raw = endpoint.get();
  endpoint->serving_ = std::thread([raw] { raw->server_.Serve(); });
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  server_.Stop();
  if (serving_.joinable()) serving_.join();
}

}  // namespace kitchen::service
