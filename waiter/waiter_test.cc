// File: waiter/waiter_test.cc
//
// The waiter's modes: what Create refuses before anything connects, and what
// Run places against a real Kafka protocol peer (an in-process dev broker) in
// each mode: one order, an order file, a pipe, a terminal, load.

#include "waiter/waiter.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/peak_memory.h"
#include "deploy/devbroker/dev_broker.h"
#include "gtest/gtest.h"
#include "kafka/config.h"
#include "kafka/handle.h"

namespace kitchen::waiter {
namespace {

// `text` without the trace ids that end the waiter's acknowledgements.
std::string Untraced(const std::string& text) {
  return std::regex_replace(text, std::regex(" trace [0-9a-f]{32}"), "");
}

constexpr char kPrompt[] = "order (PIZZA TABLE; Ctrl-D to finish)> ";

// A FILE* writing into memory: what the waiter prints.
class MemoryFile {
 public:
  MemoryFile() : file_(open_memstream(&data_, &size_)) {}
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() {
    std::fclose(file_);
    std::free(data_);
  }

  FILE* get() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

// A file descriptor closed with the test.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string WriteFile(absl::string_view name, absl::string_view text) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << text;
  return path;
}

void Write(int fd, absl::string_view text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class WaiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = devbroker::StartDevBroker({{orders::kOrderTopic, 6}});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  kafka::ClientConfig Kafka() { return {broker_->bootstrap_servers(), {}}; }

  // Options that print into out_ and prompt_, and read `input` if they read.
  WaiterOptions Options(int input = -1) {
    WaiterOptions options;
    options.input = input;
    options.out = out_.get();
    options.prompt = prompt_.get();
    return options;
  }

  // Creates a waiter for `options` and runs it to its end.
  absl::StatusOr<Tally> Run(WaiterOptions options) {
    auto waiter = Waiter::Create(std::move(options));
    if (!waiter.ok()) return waiter.status();
    return (*waiter)->Run(Kafka(), stop_);
  }

  // The records the broker holds on the order topic.
  int64_t Records() {
    auto conf = kafka::BuildConf(Kafka(), {});
    EXPECT_TRUE(conf.ok()) << conf.status();
    char error[512];
    kafka::HandlePtr client(
        rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error)));
    EXPECT_NE(client, nullptr) << error;
    if (client == nullptr) return -1;
    (void)conf->release();  // The handle owns it now.
    int64_t total = 0;
    for (int32_t partition = 0; partition < 6; ++partition) {
      int64_t low = 0;
      int64_t high = 0;
      EXPECT_EQ(
          rd_kafka_query_watermark_offsets(client.get(), orders::kOrderTopic,
                                           partition, &low, &high, 10000),
          RD_KAFKA_RESP_ERR_NO_ERROR);
      total += high;
    }
    return total;
  }

  std::unique_ptr<devbroker::MockCluster> broker_;
  MemoryFile out_;
  MemoryFile prompt_;
  absl::Notification stop_;
};

TEST_F(WaiterTest, CreateRefusesWhatIsWrongBeforeConnecting) {
  struct Case {
    std::function<void(WaiterOptions&)> set;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](WaiterOptions& o) {
         o.tables = {5, 4};
       },
       "table range 5-4 is empty or not positive"},
      {[](WaiterOptions& o) {
         o.tables = {0, 10};
       },
       "table range 0-10 is empty or not positive"},
      {[](WaiterOptions& o) { o.topic = "pizza order"; },
       "--topic: topic name \"pizza order\" may hold only letters"},
      {[](WaiterOptions& o) { o.delivery_timeout = absl::ZeroDuration(); },
       "--delivery_timeout must be positive"},
      {[](WaiterOptions& o) { o.count = -1; }, "--count must not be negative"},
      {[](WaiterOptions& o) { o.rate = -1; }, "--rate must not be negative"},
      {[](WaiterOptions& o) {
         o.count = 5;
         o.arguments = {"margherita", "3"};
       },
       "give one of: an order (--pizza/--table or PIZZA TABLE), --file, "
       "--count"},
      {[](WaiterOptions& o) {
         o.file = "orders.txt";
         o.pizza = "margherita";
       },
       "give one of"},
      {[](WaiterOptions& o) {
         o.pizza = "margherita";
         o.arguments = {"diavola", "3"};
       },
       "give the order either as --pizza/--table or as PIZZA TABLE"},
      {[](WaiterOptions& o) { o.arguments = {"margherita"}; },
       "missing table: waiter PIZZA TABLE"},
      {[](WaiterOptions& o) { o.pizza = "margherita"; }, "missing table"},
      {[](WaiterOptions& o) {
         o.pizza = "margarita";
         o.table = "3";
       },
       "did you mean margherita?"},
      {[](WaiterOptions& o) {
         o.arguments = {"margherita", "101"};
       },
       "table 101 is out of range 1-100"},
      {[](WaiterOptions& o) { o.file = "/nonexistent/orders.txt"; },
       "cannot read /nonexistent/orders.txt"},
      {[](WaiterOptions& o) {
         o.wait = true;
         o.wait_timeout = absl::ZeroDuration();
       },
       "--wait_timeout must be positive"},
      {[](WaiterOptions& o) {
         o.wait = true;
         o.status_topic = "order status";
       },
       "--status_topic: topic name \"order status\""},
  };
  for (const Case& c : cases) {
    WaiterOptions options = Options();
    c.set(options);
    absl::Status status = Waiter::Create(std::move(options)).status();
    EXPECT_FALSE(status.ok()) << c.message;
    EXPECT_NE(status.code(), absl::StatusCode::kUnavailable) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), c.message))
        << status.message() << "\nwanted: " << c.message;
  }
  EXPECT_EQ(out_.text(), "");
  EXPECT_EQ(Records(), 0);
}

TEST_F(WaiterTest, CreateChoosesTheModeAndReadsTheOrderFromTheArguments) {
  WaiterOptions options = Options();
  options.arguments = {"quattro", "formaggi", "4"};
  auto waiter = Waiter::Create(options);
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  EXPECT_EQ((*waiter)->mode(), Mode::kOneOrder);

  options = Options();
  options.count = 3;
  EXPECT_EQ(Waiter::Create(options).value()->mode(), Mode::kLoad);
  options = Options();
  options.file = "-";
  EXPECT_EQ(Waiter::Create(options).value()->mode(), Mode::kLines);
  EXPECT_EQ(Waiter::Create(Options()).value()->mode(), Mode::kLines);
}

TEST_F(WaiterTest, OneOrderIsReportedOnceAcknowledged) {
  WaiterOptions options = Options();
  options.arguments = {"quattro", "formaggi", "4"};
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->sent, 1);
  EXPECT_EQ(tally->acknowledged, 1);
  std::vector<std::string> lines = Lines(out_.text());
  ASSERT_EQ(lines.size(), 1u) << out_.text();
  EXPECT_TRUE(absl::StartsWith(lines[0], "order ")) << lines[0];
  EXPECT_TRUE(absl::StrContains(
      lines[0], ": quattro formaggi for table 4 -> pizza-order partition "))
      << lines[0];
  // The order's trace id last: 32 hex digits.
  EXPECT_TRUE(
      std::regex_search(lines[0], std::regex(" offset 0 trace [0-9a-f]{32}$")))
      << lines[0];
  EXPECT_EQ(Records(), 1);
}

TEST_F(WaiterTest, ABrokerThatNeverAnswersFailsTheOrderWithinTheTimeout) {
  for (int32_t id = 1; id <= 3; ++id) {
    rd_kafka_mock_broker_set_down(broker_->cluster(), id);
  }
  WaiterOptions options = Options();
  options.pizza = "margherita";
  options.table = "3";
  options.delivery_timeout = absl::Milliseconds(300);
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->sent, 1);
  EXPECT_EQ(tally->acknowledged, 0);
  EXPECT_EQ(tally->failed, 1);
  EXPECT_EQ(out_.text(), "") << "nothing reported as placed";
}

TEST_F(WaiterTest, AConfigurationLibrdkafkaRefusesPlacesNothing) {
  WaiterOptions options = Options();
  options.arguments = {"margherita", "3"};
  auto waiter = Waiter::Create(std::move(options));
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  kafka::ClientConfig config = Kafka();
  config.properties.push_back({"acks", "most"});
  absl::Status status = (*waiter)->Run(config, stop_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "Kafka property acks:"))
      << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "most")) << status;
  EXPECT_EQ(Records(), 0);
}

TEST_F(WaiterTest, AnOrderFileSkipsBadLinesAndPlacesTheRest) {
  WaiterOptions options = Options();
  options.file = WriteFile("orders.txt",
                           "# lunch\nmargherita 3\n\ndiavola 0\n"
                           "marinara 5 # window\nsushi 4\nquattro formaggi 12");
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->sent, 3);
  EXPECT_EQ(tally->acknowledged, 3);
  EXPECT_EQ(tally->skipped, 2);
  std::vector<std::string> lines = Lines(out_.text());
  ASSERT_EQ(lines.size(), 3u) << out_.text();
  EXPECT_EQ(prompt_.text(), "") << "a file is not a terminal";
  EXPECT_EQ(Records(), 3);
}

TEST_F(WaiterTest, AStrictOrderFileWithABadLineSendsNothing) {
  WaiterOptions options = Options();
  options.file = WriteFile("strict.txt", "margherita 3\ndiavola x\n");
  options.strict = true;
  const std::string path = options.file;
  absl::Status status = Run(std::move(options)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), absl::StrCat(path,
                                           ":2: table \"x\" is not a number "
                                           "(--strict: nothing sent)"));
  EXPECT_EQ(out_.text(), "");
  EXPECT_EQ(Records(), 0);
}

// An order file is read as it is placed, not loaded whole: 2 million comment
// lines (4 MiB) cost no memory to speak of, with --strict (checked, then
// placed) and without.
TEST_F(WaiterTest, AnOrderFileIsStreamedNotLoaded) {
  std::string text = "margherita 3\n";
  for (int i = 0; i < 2000000; ++i) text += "#\n";
  text += "romana 4\n";
  const std::string path = WriteFile("long.txt", text);
  text.clear();
  text.shrink_to_fit();
  for (bool strict : {false, true}) {
    ASSERT_TRUE(cli::ResetPeakResident());
    const int64_t peak_before = cli::PeakResidentKib();
    ASSERT_GT(peak_before, 0);
    WaiterOptions options = Options();
    options.file = path;
    options.strict = strict;
    absl::StatusOr<Tally> tally = Run(std::move(options));
    ASSERT_TRUE(tally.ok()) << tally.status();
    EXPECT_EQ(tally->acknowledged, 2) << "strict " << strict;
    EXPECT_LT(cli::PeakResidentKib() - peak_before, 16 * 1024)
        << "KiB more at peak, strict " << strict;
  }
  EXPECT_EQ(Records(), 4);
}

// A line longer than the line reader's limit ends the input; the orders
// before it are placed and acknowledged, and the tally says the input was not
// read to its end.
TEST_F(WaiterTest, ALineTooLongEndsTheInputAfterPlacingTheOrdersBeforeIt) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  Fd read_end(ends[0]);
  Fd write_end(ends[1]);
  Write(write_end.get(), "calzone 8\n");
  // The writer's write after the reader has gone fails with EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  std::thread writer([fd = write_end.get()] {
    std::string endless(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) {
      if (::write(fd, endless.data(), endless.size()) <= 0) return;
    }
  });
  absl::StatusOr<Tally> tally = Run(Options(read_end.get()));
  read_end.reset();  // The writer's next write fails: it ends.
  writer.join();
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->acknowledged, 1);
  EXPECT_TRUE(tally->input_unread);
  EXPECT_EQ(Records(), 1);
}

// The same in a file checked by --strict: nothing is sent.
TEST_F(WaiterTest, AStrictOrderFileWithALineTooLongSendsNothing) {
  WaiterOptions options = Options();
  options.file = WriteFile(
      "too_long.txt", absl::StrCat("margherita 3\n", std::string(70000, 'x')));
  options.strict = true;
  const std::string path = options.file;
  absl::Status status = Run(std::move(options)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(),
            absl::StrCat(path,
                         ": line 2 is longer than 65536 bytes; input not read "
                         "further (--strict: nothing sent)"));
  EXPECT_EQ(Records(), 0);
}

TEST_F(WaiterTest, APipeIsReadLineByLine) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  Fd read_end(ends[0]);
  Fd write_end(ends[1]);
  Write(write_end.get(), "calzone 8\nsushi 8\nromana 8\n");
  write_end.reset();  // The end of input.

  absl::StatusOr<Tally> tally = Run(Options(read_end.get()));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->acknowledged, 2);
  EXPECT_EQ(tally->skipped, 1);
  std::vector<std::string> lines = Lines(out_.text());
  ASSERT_EQ(lines.size(), 2u) << out_.text();
  // One table, one partition, in the order placed.
  EXPECT_TRUE(absl::StrContains(lines[0], "calzone for table 8")) << lines[0];
  EXPECT_TRUE(absl::EndsWith(Untraced(lines[0]), "offset 0")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], "romana for table 8")) << lines[1];
  EXPECT_TRUE(absl::EndsWith(Untraced(lines[1]), "offset 1")) << lines[1];
  EXPECT_EQ(prompt_.text(), "") << "a pipe is not a terminal";
}

TEST_F(WaiterTest, AStrictPipeStopsAtTheFirstBadLine) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  Fd read_end(ends[0]);
  Fd write_end(ends[1]);
  Write(write_end.get(), "calzone 8\nsushi 8\nromana 8\n");
  write_end.reset();

  WaiterOptions options = Options(read_end.get());
  options.strict = true;
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->sent, 1) << "nothing after the bad line";
  EXPECT_EQ(tally->acknowledged, 1);
  EXPECT_EQ(tally->skipped, 1);
  EXPECT_EQ(Records(), 1);
}

// On a terminal the waiter prompts, and waits for each order's answer before
// prompting again: the acknowledgement comes between the two prompts.
TEST_F(WaiterTest, ATerminalIsPromptedAndEachAnswerAwaited) {
  Fd terminal(::posix_openpt(O_RDWR | O_NOCTTY));
  ASSERT_GE(terminal.get(), 0);
  ASSERT_EQ(::grantpt(terminal.get()), 0);
  ASSERT_EQ(::unlockpt(terminal.get()), 0);
  Fd person(::open(::ptsname(terminal.get()), O_RDWR | O_NOCTTY));
  ASSERT_GE(person.get(), 0);
  // A line, then Ctrl-D at the start of the next: the end of input.
  Write(terminal.get(), "margherita 17\n\x04");

  WaiterOptions options = Options(person.get());
  options.prompt = out_.get();  // Both into one stream, to see their order.
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->acknowledged, 1);
  const std::string text = out_.text();
  ASSERT_TRUE(absl::StartsWith(text, absl::StrCat(kPrompt, "order "))) << text;
  EXPECT_TRUE(absl::EndsWith(Untraced(text),
                             absl::StrCat(" offset 0\n", kPrompt, "\n")))
      << text;
  EXPECT_TRUE(absl::StrContains(text, ": margherita for table 17 -> ")) << text;
}

TEST_F(WaiterTest, LoadModePlacesCountOrdersAndPrintsOnlyTheSummary) {
  WaiterOptions options = Options();
  options.count = 500;
  options.seed = 7;
  absl::StatusOr<Tally> tally = Run(std::move(options));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->acknowledged, 500);
  std::vector<std::string> lines = Lines(out_.text());
  ASSERT_EQ(lines.size(), 1u) << out_.text();
  EXPECT_TRUE(absl::StartsWith(
      lines[0], "500 sent, 500 acknowledged, 0 failed, 0 skipped in "))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "delivery latency p50 ")) << lines[0];
  EXPECT_EQ(Records(), 500);
}

TEST_F(WaiterTest, AStopEndsLoadModeBeforeTheCount) {
  WaiterOptions options = Options();
  options.count = 1000000;
  options.rate = 1000;
  auto waiter = Waiter::Create(std::move(options));
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  stop_.Notify();  // As SIGINT would.
  absl::StatusOr<Tally> tally = (*waiter)->Run(Kafka(), stop_);
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->sent, 0);
  EXPECT_TRUE(absl::StartsWith(out_.text(), "0 sent, 0 acknowledged"))
      << out_.text();
}

}  // namespace
}  // namespace kitchen::waiter
