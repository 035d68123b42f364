// File: service/transaction_test.cc
//
// The transactional producer against an in-process dev broker (librdkafka's
// mock cluster, real librdkafka clients): a commit with offsets, an abortable
// error (aborted, the next transaction commits), a fence while the
// transaction is young (stop) and after it outlived its timeout (a new
// producer), and a send of offsets that never comes back in time (guarded:
// DeadlineExceeded at the deadline, its thread joined when it returns).

#include "service/transaction.h"

#include <librdkafka/rdkafka_mock.h>

#include <memory>

#include "absl/time/clock.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/handle.h"

namespace kitchen::service {
namespace {

// Kafka's API keys of the requests faults are injected into.
constexpr int16_t kAddPartitionsToTxn = 24;
constexpr int16_t kTxnOffsetCommit = 28;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker =
        devbroker::StartDevBroker({{"order-status", 3}, {"pizza-order", 3}});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  absl::StatusOr<std::unique_ptr<TransactionalProducer>> Make(
      TransactionOptions options) {
    return TransactionalProducer::Create({broker_->bootstrap_servers(), {}},
                                         std::move(options));
  }

  static absl::Status SendOne(TransactionalProducer& producer) {
    static const kafka::Headers kNone;
    return producer.Send({"order-status", "17", "ready", &kNone});
  }

  static kafka::GroupMetadataPtr Group() {
    return kafka::GroupMetadataPtr(
        rd_kafka_consumer_group_metadata_new("cook"));
  }

  const std::vector<kafka::TopicPartition> offsets_ = {{"pizza-order", 1, 5}};
  std::unique_ptr<devbroker::MockCluster> broker_;
};

TEST_F(TransactionTest, CommitsWhatWasSentWithTheOffsets) {
  auto producer = Make({"cook-1"});
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE(SendOne(**producer).ok());
  EXPECT_TRUE((*producer)->open());
  absl::StatusOr<TransactionOutcome> outcome =
      (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, TransactionOutcome::kCommitted);
  EXPECT_FALSE((*producer)->open());
  // A batch of offsets only (a poison record parked) has a transaction too.
  outcome = (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ((*producer)->committed(), 2);
}

TEST_F(TransactionTest, AStaleGenerationAbortsAndTheNextTransactionCommits) {
  auto producer = Make({"cook-1"});
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE(SendOne(**producer).ok());
  rd_kafka_mock_push_request_errors(broker_->cluster(), kTxnOffsetCommit, 1,
                                    RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  absl::StatusOr<TransactionOutcome> outcome =
      (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, TransactionOutcome::kAborted);
  EXPECT_EQ((*producer)->aborted(), 1);
  EXPECT_FALSE((*producer)->open());

  ASSERT_TRUE(SendOne(**producer).ok());
  outcome = (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, TransactionOutcome::kCommitted);
}

TEST_F(TransactionTest, FencedWhileYoungMeansAnotherInstanceHasTheIdSoStop) {
  auto producer = Make({"cook-1"});
  ASSERT_TRUE(producer.ok()) << producer.status();
  rd_kafka_mock_push_request_errors(broker_->cluster(), kAddPartitionsToTxn, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  ASSERT_TRUE(SendOne(**producer).ok());
  // The fence comes back on the request that adds the record's partition to
  // the transaction, sent in the background.
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       !(*producer)->failed_for_good() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE((*producer)->failed_for_good());
  absl::StatusOr<TransactionOutcome> outcome =
      (*producer)->Commit(offsets_, Group());
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(outcome.status())) << outcome.status();
  EXPECT_NE(outcome.status().message().find(
                "fenced by another producer with transactional id cook-1"),
            std::string::npos)
      << outcome.status();
}

TEST_F(TransactionTest, FencedAfterOutlivingItsTimeoutMakesANewProducer) {
  TransactionOptions options{"cook-1"};
  options.transaction_timeout = absl::Seconds(2);
  auto producer = Make(options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  // One transaction first, so that the producer knows the topic's partitions
  // and the fenced request goes out at once (not after a metadata wait that
  // a loaded machine can stretch past the record's timeout).
  ASSERT_TRUE(SendOne(**producer).ok());
  ASSERT_EQ((*producer)
                ->Commit(offsets_, Group())
                .value_or(TransactionOutcome::kAborted),
            TransactionOutcome::kCommitted);
  rd_kafka_mock_push_request_errors(broker_->cluster(), kAddPartitionsToTxn, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  ASSERT_TRUE(SendOne(**producer).ok());
  // The fence comes back on the request that adds the record's partition to
  // the transaction, sent in the background.
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       !(*producer)->failed_for_good() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE((*producer)->failed_for_good());
  absl::SleepFor(absl::Milliseconds(2200));  // Older than its timeout.
  absl::StatusOr<TransactionOutcome> outcome =
      (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, TransactionOutcome::kRecovered);
  EXPECT_EQ((*producer)->recovered(), 1);
  // The new producer works.
  ASSERT_TRUE(SendOne(**producer).ok());
  outcome = (*producer)->Commit(offsets_, Group());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, TransactionOutcome::kCommitted);
}

TEST_F(TransactionTest, AnOffsetSendPastItsDeadlineFailsAtTheDeadline) {
  // The group coordinator answers only after 3 s; the transaction
  // coordinator at once.
  rd_kafka_mock_coordinator_set(broker_->cluster(), "transaction", "cook-1", 1);
  rd_kafka_mock_coordinator_set(broker_->cluster(), "group", "cook", 2);
  TransactionOptions options{"cook-1"};
  options.offsets_deadline = absl::Seconds(1);
  auto producer = Make(options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  rd_kafka_mock_broker_set_rtt(broker_->cluster(), 2, 3000);
  absl::Time start = absl::Now();
  absl::StatusOr<TransactionOutcome> outcome =
      (*producer)->Commit(offsets_, Group());
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(outcome.status())) << outcome.status();
  EXPECT_NE(outcome.status().message().find("does not enforce"),
            std::string::npos);
  EXPECT_LT(took, absl::Milliseconds(2500));
  // Nothing more may be asked of it.
  EXPECT_TRUE(absl::IsFailedPrecondition(SendOne(**producer)));
  EXPECT_TRUE(
      absl::IsFailedPrecondition((*producer)->Commit({}, nullptr).status()));
  // The destructor waits for the call's thread and joins it: it returns once
  // the slow coordinator answered, not before.
  producer->reset();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(2900));
}

}  // namespace
}  // namespace kitchen::service
