// File: tests/order_events_test.cc
//
// The order events end to end (README, "Order events"), read from the status
// topic by two readers from its start, one read_committed and one
// read_uncommitted, while cooks are killed on purpose:
//  - between COOKING and READY (a long preparation time, SIGKILL once the
//    COOKING is seen);
//  - inside an open transaction (the cook's --test_hold_transaction hook holds
//    it open; SIGKILL once the read_uncommitted reader has seen its READY, so
//    the kill lands inside the transaction for certain);
//  - alive, by a second cook with the same --cook_id, which fences it.
// Each time a second cook finishes the work. On real Kafka a read_committed
// reader then sees exactly one READY per order, never the READY of the
// aborted transaction that the read_uncommitted reader did see, and the cook
// group has committed every READY's order offset. The dev broker is not
// transactional: there every order is still cooked (READY at least once) and
// the group's committed offsets reach the end, and its "read_committed"
// reader sees the aborted READY too (README, Known limits).

#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kafka/topic_reader.h"
#include "proto/order_event.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

using kitchen::v1::OrderEvent;
using StatusPosition = std::pair<int32_t, int64_t>;

// The first event of `events` in `state` by cook `cook`, if any.
const StatusEvent* FindEvent(const std::vector<StatusEvent>& events,
                             OrderEvent::State state, const std::string& cook) {
  for (const StatusEvent& event : events) {
    if (event.event.state() == state && event.event.cook() == cook) {
      return &event;
    }
  }
  return nullptr;
}

// Where on the status topic `events` were read.
std::set<StatusPosition> StatusPositions(const std::vector<StatusEvent>& events,
                                         OrderEvent::State state) {
  std::set<StatusPosition> positions;
  for (const StatusEvent& event : events) {
    if (event.event.state() == state) {
      positions.emplace(event.partition, event.offset);
    }
  }
  return positions;
}

class OrderEventsTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    committed_ = ReadEvents(kafka::Isolation::kReadCommitted);
    uncommitted_ = ReadEvents(kafka::Isolation::kReadUncommitted);
    ASSERT_NE(committed_, nullptr);
    ASSERT_NE(uncommitted_, nullptr);
  }

  // A cook named `cook_id` whose death its group notices within 6 s.
  std::unique_ptr<Process> StartCook(const std::string& cook_id,
                                     std::vector<std::string> extra) {
    std::vector<std::string> flags = {"--cook_id=" + cook_id, "-X",
                                      "session.timeout.ms=6000"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto cook = StartService("cook", flags);
    EXPECT_TRUE(cook.ok()) << cook.status();
    return cook.ok() ? *std::move(cook) : nullptr;
  }

  // Places `count` orders; their positions on the order topic.
  std::vector<OrderPosition> Place(int count) {
    PlaceOrders(count);
    absl::StatusOr<PartitionOffsets> ends =
        HighWatermarks(bootstrap(), topic());
    EXPECT_TRUE(ends.ok()) << ends.status();
    std::vector<OrderPosition> orders =
        AllOrders(ends.value_or(PartitionOffsets{}));
    EXPECT_EQ(orders.size(), static_cast<size_t>(count));
    return orders;
  }

  // Whether the cook group has committed every order of the topic.
  bool GroupDrained(absl::Duration timeout) {
    return WaitUntil(
        [&] {
          auto ends = HighWatermarks(bootstrap(), topic());
          auto committed =
              CommittedOffsets(bootstrap(), group("cook"), topic());
          return ends.ok() && committed.ok() && *ends == *committed;
        },
        timeout);
  }

  // Every order cooked: a READY for each in the read_committed reader (on
  // Kafka exactly one, and none for anything else), the group's offsets at
  // the end of the order topic, and each READY's order offset committed.
  void ExpectEveryOrderReady(const std::vector<OrderPosition>& orders) {
    ASSERT_TRUE(committed_->WaitFor(
        [&](const std::vector<StatusEvent>& events) {
          return CountByOrder(events, OrderEvent::READY).size() >=
                 orders.size();
        },
        absl::Seconds(90)))
        << CountByOrder(committed_->events(), OrderEvent::READY).size()
        << " of " << orders.size() << " orders ready";
    ASSERT_TRUE(GroupDrained(absl::Seconds(60)));
    // Nothing more to come: read what the topic holds now, to its end.
    ASSERT_TRUE(committed_->CatchUp(absl::Seconds(60)));
    ASSERT_TRUE(uncommitted_->CatchUp(absl::Seconds(60)));
    EXPECT_EQ(committed_->undecodable(), 0);
    EXPECT_EQ(uncommitted_->undecodable(), 0);

    std::map<OrderPosition, int> ready =
        CountByOrder(committed_->events(), OrderEvent::READY);
    EXPECT_EQ(ready.size(), orders.size()) << "READY for an unknown order";
    for (const OrderPosition& order : orders) {
      if (broker() == BrokerKind::kKafka) {
        EXPECT_EQ(ready[order], 1)
            << "order " << order.first << "@" << order.second << ": READY "
            << ready[order] << " times for read_committed";
      } else {
        EXPECT_GE(ready[order], 1)
            << "order " << order.first << "@" << order.second << " not ready";
      }
    }
    absl::StatusOr<PartitionOffsets> committed =
        CommittedOffsets(bootstrap(), group("cook"), topic());
    ASSERT_TRUE(committed.ok()) << committed.status();
    for (const StatusEvent& event : committed_->events()) {
      if (event.event.state() != OrderEvent::READY) continue;
      EXPECT_GT((*committed)[event.event.order_partition()],
                event.event.order_offset())
          << "READY of order " << event.event.order_partition() << "@"
          << event.event.order_offset() << " but its offset is not committed";
    }
  }

  // The READYs that `uncommitted_` saw of a transaction that never committed
  // (`held`): on Kafka the read_committed reader never sees them; on the dev
  // broker, which writes no abort markers, it does.
  void ExpectHeldReadiesWereAborted(const std::set<StatusPosition>& held) {
    ASSERT_FALSE(held.empty());
    std::set<StatusPosition> seen =
        StatusPositions(committed_->events(), OrderEvent::READY);
    for (const StatusPosition& position : held) {
      if (broker() == BrokerKind::kKafka) {
        EXPECT_EQ(seen.count(position), 0u)
            << "the aborted READY at " << status_topic() << "/"
            << position.first << "@" << position.second
            << " reached a read_committed reader";
      } else {
        EXPECT_EQ(seen.count(position), 1u)
            << "the dev broker is not transactional: its read_committed "
               "reader sees aborted records";
      }
    }
  }

  std::unique_ptr<EventReader> committed_;
  std::unique_ptr<EventReader> uncommitted_;
};

TEST_F(OrderEventsTest,
       ACookKilledBetweenCookingAndReadyLeavesTheOrderToTheNext) {
  std::vector<OrderPosition> orders = Place(6);
  auto first = StartCook("cook-1", {"--prep_time=60s"});
  // COOKING is outside any transaction: read_committed readers see it at once.
  ASSERT_TRUE(committed_->WaitFor(
      [](const std::vector<StatusEvent>& events) {
        return FindEvent(events, OrderEvent::COOKING, "cook-1") != nullptr;
      },
      absl::Seconds(45)))
      << first->Stderr();
  const OrderPosition started =
      FindEvent(committed_->events(), OrderEvent::COOKING, "cook-1")->order();
  first->Signal(SIGKILL);
  ASSERT_EQ(first->Wait(absl::Seconds(10)).value_or(-1), 128 + SIGKILL);

  auto second = StartCook("cook-2", {"--prep_time=0"});
  ExpectEveryOrderReady(orders);
  // The order the first cook was cooking: cooked again and ready by the
  // second, never ready nor abandoned (it was killed, not stopped) by the
  // first.
  std::vector<std::string> readied_by;
  for (const StatusEvent& event : committed_->events()) {
    if (event.order() != started) continue;
    EXPECT_NE(event.event.state(), OrderEvent::ABANDONED);
    if (event.event.state() == OrderEvent::READY) {
      readied_by.push_back(event.event.cook());
    }
  }
  EXPECT_EQ(readied_by, std::vector<std::string>{"cook-2"});
  EXPECT_EQ(FindEvent(committed_->events(), OrderEvent::READY, "cook-1"),
            nullptr);
  EXPECT_TRUE(second->running()) << second->Stderr();
}

TEST_F(OrderEventsTest, ACookKilledInsideAnOpenTransactionPublishesNoReady) {
  std::vector<OrderPosition> orders = Place(8);
  // READY sent, its transaction held open (test hook) far past the kill.
  auto first =
      StartCook("cook-1", {"--prep_time=0", "--test_hold_transaction=60s"});
  ASSERT_TRUE(uncommitted_->WaitFor(
      [](const std::vector<StatusEvent>& events) {
        return FindEvent(events, OrderEvent::READY, "cook-1") != nullptr;
      },
      absl::Seconds(45)))
      << first->Stderr();
  ASSERT_TRUE(
      absl::StrContains(first->Stderr(), "holding the open transaction"))
      << first->Stderr();
  const std::set<StatusPosition> held =
      StatusPositions(uncommitted_->events(), OrderEvent::READY);
  first->Signal(SIGKILL);
  ASSERT_EQ(first->Wait(absl::Seconds(10)).value_or(-1), 128 + SIGKILL);

  // Its successor, with its id: starting, it ends what the first left open.
  auto second = StartCook("cook-1", {"--prep_time=0"});
  ExpectEveryOrderReady(orders);
  ExpectHeldReadiesWereAborted(held);
  EXPECT_TRUE(second->running()) << second->Stderr();
}

TEST_F(OrderEventsTest, ASecondCookWithTheSameIdFencesTheFirst) {
  std::vector<OrderPosition> orders = Place(8);
  // Held open 8 s: the second cook starts inside it, and the first's commit
  // comes while its transaction is younger than transaction.timeout.ms (10 s).
  auto first =
      StartCook("cook-1", {"--prep_time=0", "--test_hold_transaction=8s"});
  ASSERT_TRUE(uncommitted_->WaitFor(
      [](const std::vector<StatusEvent>& events) {
        return FindEvent(events, OrderEvent::READY, "cook-1") != nullptr;
      },
      absl::Seconds(45)))
      << first->Stderr();
  const std::set<StatusPosition> held =
      StatusPositions(uncommitted_->events(), OrderEvent::READY);
  auto second = StartCook("cook-1", {"--prep_time=0"});
  // Its transactions are initialised before it says it started.
  ASSERT_TRUE(second->WaitForStderr("cook started in group", absl::Seconds(30)))
      << second->Stderr();
  if (broker() == BrokerKind::kKafka) {
    // The first stops cleanly (README: exit 2, saying why), its transaction
    // aborted by the second's start.
    EXPECT_EQ(first->Wait(absl::Seconds(60)).value_or(-1), 2)
        << first->Stderr();
    EXPECT_TRUE(absl::StrContains(
        first->Stderr(), absl::StrCat("fenced by another producer with "
                                      "transactional id ",
                                      group("cook"), "-cook-1")))
        << first->Stderr();
    EXPECT_TRUE(absl::StrContains(first->Stderr(), "cook stopped:"))
        << first->Stderr();
    ExpectEveryOrderReady(orders);
    ExpectHeldReadiesWereAborted(held);
  } else {
    // The dev broker fences nobody: the first commits after its hold and the
    // two share the orders.
    ExpectEveryOrderReady(orders);
    EXPECT_TRUE(first->running()) << first->Stderr();
  }
  EXPECT_TRUE(second->running()) << second->Stderr();
}

}  // namespace
}  // namespace kitchen::testing
