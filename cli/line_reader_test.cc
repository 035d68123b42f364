// File: cli/line_reader_test.cc
//
// The line reader over real pipes: lines as written, the last one without a
// newline, and a line longer than the limit ending the input with an error
// that names it, in bounded memory however much more the writer has.

#include "cli/line_reader.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cli/peak_memory.h"
#include "gtest/gtest.h"

namespace kitchen::cli {
namespace {

// A pipe whose write end a thread feeds with `text` until done or the read end
// is closed.
class Pipe {
 public:
  explicit Pipe(std::string text, size_t repeat = 1) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_end_ = fds[0];
    writer_ = std::thread([fd = fds[1], text = std::move(text), repeat] {
      for (size_t i = 0; i < repeat; ++i) {
        size_t done = 0;
        while (done < text.size()) {
          ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
          if (wrote <= 0) {  // EPIPE: the reader has gone.
            ::close(fd);
            return;
          }
          done += static_cast<size_t>(wrote);
        }
      }
      ::close(fd);
    });
  }
  ~Pipe() {
    CloseReadEnd();
    writer_.join();
  }
  int read_end() const { return read_end_; }
  void CloseReadEnd() {
    if (read_end_ >= 0) ::close(read_end_);
    read_end_ = -1;
  }

 private:
  int read_end_ = -1;
  std::thread writer_;
};

class LineReaderTest : public ::testing::Test {
 protected:
  // Writes to a pipe nobody reads fail with EPIPE instead of killing the test.
  static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }
  absl::Notification stop_;
};

TEST_F(LineReaderTest, ReadsLinesAndALastLineWithoutANewline) {
  Pipe pipe("margherita 3\n\nromana 4");
  LineReader reader(pipe.read_end());
  EXPECT_EQ(reader.Next(stop_).value_or("?"), "margherita 3");
  EXPECT_EQ(reader.Next(stop_).value_or("?"), "");
  EXPECT_EQ(reader.Next(stop_).value_or("?"), "romana 4");
  EXPECT_FALSE(reader.Next(stop_).has_value());
  EXPECT_TRUE(reader.status().ok()) << reader.status();
}

TEST_F(LineReaderTest, ALineLongerThanTheLimitEndsTheInputNamingIt) {
  Pipe pipe("margherita 3\n" + std::string(LineReader::kMaxLineBytes + 1, 'a') +
            "\nromana 4\n");
  LineReader reader(pipe.read_end());
  EXPECT_EQ(reader.Next(stop_).value_or("?"), "margherita 3");
  EXPECT_FALSE(reader.Next(stop_).has_value());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.status().message(),
            "line 2 is longer than 65536 bytes; input not read further");
  EXPECT_FALSE(reader.Next(stop_).has_value()) << "nothing after it";
}

TEST_F(LineReaderTest, ALineOfExactlyTheLimitIsRead) {
  Pipe pipe(std::string(LineReader::kMaxLineBytes, 'a') + "\n");
  LineReader reader(pipe.read_end());
  EXPECT_EQ(reader.Next(stop_).value_or("?").size(), LineReader::kMaxLineBytes);
  EXPECT_FALSE(reader.Next(stop_).has_value());
  EXPECT_TRUE(reader.status().ok()) << reader.status();
}

// `waiter < /dev/zero`: an endless line. 256 MiB of zeros on offer; the reader
// must give up after the limit, holding about that much.
TEST_F(LineReaderTest, AnEndlessLineIsRefusedInBoundedMemory) {
  ASSERT_TRUE(ResetPeakResident());
  const int64_t peak_before = PeakResidentKib();
  ASSERT_GT(peak_before, 0);
  Pipe pipe(std::string(1 << 20, '\0'), 256);
  LineReader reader(pipe.read_end());
  EXPECT_FALSE(reader.Next(stop_).has_value());
  EXPECT_TRUE(absl::StrContains(reader.status().message(),
                                "line 1 is longer than 65536 bytes"))
      << reader.status();
  pipe.CloseReadEnd();
  EXPECT_LT(PeakResidentKib() - peak_before, 16 * 1024) << "KiB more at peak";
}

}  // namespace
}  // namespace kitchen::cli
