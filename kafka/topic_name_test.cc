// File: kafka/topic_name_test.cc

#include "kafka/topic_name.h"

#include <string>

#include "gtest/gtest.h"

namespace kitchen::kafka {
namespace {

TEST(ValidateTopicNameTest, AcceptsWhatKafkaAccepts) {
  for (const std::string& name :
       {std::string("pizza-order"), std::string("pizza-order.dlq"),
        std::string("a"), std::string("Under_score.9"), std::string(249, 'x'),
        std::string("...")}) {
    EXPECT_TRUE(ValidateTopicName(name).ok()) << name;
  }
}

TEST(ValidateTopicNameTest, RefusesWhatKafkaRefusesSayingWhy) {
  EXPECT_EQ(ValidateTopicName("").message(), "topic name is empty");
  EXPECT_EQ(ValidateTopicName("..").message(),
            "topic name \"..\" is not allowed");
  EXPECT_EQ(ValidateTopicName(std::string(250, 'x')).message(),
            "topic name is 250 characters long; at most 249 are allowed");
  for (const std::string& name :
       {std::string("pizza order"), std::string("pizza/order"),
        std::string("pizza\norder"),
        std::string("piz\xc3\xa7"
                    "a")}) {
    absl::Status status = ValidateTopicName(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("only letters, digits"), std::string::npos)
        << status;
  }
}

}  // namespace
}  // namespace kitchen::kafka
