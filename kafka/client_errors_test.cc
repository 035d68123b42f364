// File: kafka/client_errors_test.cc
//
// The table of librdkafka errors: the errors the kitchen's services meet land
// in the class their handling rests on, the status code carries the class, and
// an error nobody listed stops rather than retries.

#include "kafka/client_errors.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kitchen::kafka {
namespace {

TEST(ClientErrorsTest, EachErrorTheServicesMeetHasItsClass) {
  struct Case {
    rd_kafka_resp_err_t error;
    ErrorClass expected;
  };
  const Case cases[] = {
      // A broker outage: librdkafka gave up after message.timeout.ms.
      {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR__TRANSPORT, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR__QUEUE_FULL, ErrorClass::kTransient},
      {RD_KAFKA_RESP_ERR__PURGE_QUEUE, ErrorClass::kTransient},
      // A poison record just under the limit, plus the dead-letter headers.
      {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, ErrorClass::kPermanentForRecord},
      {RD_KAFKA_RESP_ERR_INVALID_RECORD, ErrorClass::kPermanentForRecord},
      {RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
       ErrorClass::kPermanentForRecord},
      // What a person must fix.
      {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR__FATAL, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR_PRODUCER_FENCED, ErrorClass::kFatal},
      {RD_KAFKA_RESP_ERR__INVALID_ARG, ErrorClass::kFatal},
      // Not in the table: stop and name it, never retry it forever.
      {RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, ErrorClass::kFatal},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyError(c.error), c.expected) << rd_kafka_err2name(c.error);
    absl::Status status = ErrorToStatus(c.error, "sending");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(ClassOf(status), c.expected)
        << "the status code carries the class: " << status;
  }
}

TEST(ClientErrorsTest, TheStatusNamesTheContextAndTheError) {
  absl::Status status = ErrorToStatus(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      "cannot send to topic pizza-order.dlq");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(),
                               "cannot send to topic pizza-order.dlq: "))
      << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "(MSG_SIZE_TOO_LARGE)"))
      << status;
  EXPECT_TRUE(ErrorToStatus(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  EXPECT_EQ(ClassOf(absl::OkStatus()), ErrorClass::kTransient);
  EXPECT_EQ(ErrorClassName(ErrorClass::kPermanentForRecord),
            "permanent for the record");
}

}  // namespace
}  // namespace kitchen::kafka
