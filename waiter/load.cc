// File: waiter/load.cc

#include "waiter/load.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace kitchen::waiter {
namespace {

constexpr int64_t kOrdersPerPoll = 32;

void ShowProgress(const OrderDesk& desk, int64_t count) {
  const Tally& tally = desk.tally();
  absl::FPrintF(stderr, "\r  sent %d/%d, acknowledged %d, failed %d   ",
                tally.sent, count, tally.acknowledged, tally.failed);
}

}  // namespace

void RunLoad(OrderDesk& desk, const Menu& menu, const TableRange& range,
             const LoadOptions& options, absl::Notification& stop) {
  std::mt19937_64 random(options.seed);
  // A draw in [0, n): the top 32 random bits scaled by n (multiply and shift,
  // not std::uniform_int_distribution's division; the bias, n / 2^32, is far
  // below anything a load test could notice).
  auto draw = [&random](uint64_t n) { return ((random() >> 32) * n) >> 32; };
  const uint64_t pizzas = menu.pizzas().size();
  const uint64_t tables = static_cast<uint64_t>(range.max - range.min) + 1;
  desk.Expect(options.count);
  const absl::Time start = absl::Now();
  absl::Time next_progress = start;

  for (int64_t i = 0; i < options.count && !stop.HasBeenNotified(); ++i) {
    if (options.rate > 0) {
      // Pace against the start, not the previous order, so that small delays do
      // not add up to a lower rate.
      absl::Time due =
          start + absl::Seconds(static_cast<double>(i) / options.rate);
      while (absl::Now() < due) {
        int64_t wait_ms = absl::ToInt64Milliseconds(due - absl::Now());
        if (wait_ms > 1) {
          desk.Poll(static_cast<int>(std::min<int64_t>(wait_ms - 1, 100)));
        } else {
          absl::SleepFor(due - absl::Now());
        }
      }
    }
    absl::Status placed =
        desk.Place(menu.pizzas()[draw(pizzas)],
                   range.min + static_cast<int32_t>(draw(tables)));
    if (!placed.ok()) {
      logging::Error("cannot place order: %s", placed.message());
      break;
    }
    // As fast as it goes, answers are served every so many orders, not after
    // each: a poll takes a lock even when there is nothing to serve, and an
    // answer that waits a few microseconds longer changes no latency figure.
    // Paced, after each: the next order may be a millisecond away.
    if (options.rate > 0 || i % kOrdersPerPoll == 0) desk.Poll(0);
    if (options.progress && absl::Now() >= next_progress) {
      ShowProgress(desk, options.count);
      next_progress = absl::Now() + absl::Milliseconds(250);
    }
  }
  if (options.progress) {
    ShowProgress(desk, options.count);
    std::fputs("\n", stderr);
  }
}

}  // namespace kitchen::waiter
