// File: http/server_test.cc
//
// The embedded server's binding: a port another server holds is refused, not
// shared.

#include "http/server.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kitchen::http {
namespace {

TEST(ServerTest, AnyPortIsAFreePort) {
  Server server;
  absl::StatusOr<int> port = server.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
}

// cpp-httplib's default socket options add SO_REUSEPORT, with which Linux lets
// a second process bind a port that a live server listens on and then shares
// its connections between the two: a board started twice would answer half
// the requests from each. A port in use must be an error at start.
TEST(ServerTest, APortInUseIsRefused) {
  Server first;
  absl::StatusOr<int> port = first.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();

  Server second;
  absl::StatusOr<int> again = second.Listen("127.0.0.1", *port);
  ASSERT_FALSE(again.ok()) << "bound port " << *port << " a second time";
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(again.status().message(), "in use"))
      << again.status();
}

}  // namespace
}  // namespace kitchen::http
