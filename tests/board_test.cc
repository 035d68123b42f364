// File: tests/board_test.cc
//
// The board end to end, in a real browser: the board, cooks and the manager
// as real processes against a broker (tests/e2e.bzl: the dev broker and real
// Kafka), the page driven in Debian's chromium by tests/board_browser.py. What
// a person sees is checked: an order placed on the page moving to recorded,
// the waiter's errors for bad input, the downtime lesson (stop the cook,
// orders pile up and its lag grows; start it, they are cooked), and a dropped
// connection resumed without losing or doubling a card. The JSON API's errors
// are checked with curl.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/order.pb.h"
#include "tests/harness.h"

namespace kitchen::testing {
namespace {

// tests/board_browser.py as a process: commands through a FIFO, answers read
// from its standard output. Quit (and its process group killed) when it goes.
class Browser {
 public:
  static absl::StatusOr<std::unique_ptr<Browser>> Start() {
    ::signal(SIGPIPE, SIG_IGN);  // A browser that died is an error, not a kill.
    std::string fifo = TempPath("browser.commands");
    if (::mkfifo(fifo.c_str(), 0600) != 0) {
      return absl::ErrnoToStatus(errno, "mkfifo");
    }
    auto process = Process::Start(
        "browser", {"/usr/bin/python3", Binary("tests/board_browser.py")}, {},
        fifo);
    if (!process.ok()) return process.status();
    std::unique_ptr<Browser> browser(new Browser(*std::move(process)));
    // Opens once the child has opened its end, before it runs anything.
    browser->commands_ = ::open(fifo.c_str(), O_WRONLY);
    if (browser->commands_ < 0) return absl::ErrnoToStatus(errno, "open fifo");
    absl::StatusOr<std::string> ready = browser->Answer(0, absl::Seconds(60));
    if (!ready.ok()) return ready.status();
    return browser;
  }

  ~Browser() {
    if (commands_ >= 0) {
      (void)Do("quit", absl::Seconds(20));
      ::close(commands_);
    }
    (void)process_->Wait(absl::Seconds(10));
    ::kill(-process_->pid(), SIGKILL);  // chromedriver and chromium too.
  }

  // Asks `command` again (every 250 ms) until `done` holds for its answer or
  // `timeout` passes: the last answer ("" if none came).
  std::string AskUntil(const std::string& command,
                       const std::function<bool(const std::string&)>& done,
                       absl::Duration timeout) {
    std::string answer;
    for (absl::Time deadline = absl::Now() + timeout; absl::Now() < deadline;
         absl::SleepFor(absl::Milliseconds(250))) {
      answer = Do(command).value_or("");
      if (done(answer)) break;
    }
    return answer;
  }

  // Runs one command; its answer's text, or an error with the page's.
  absl::StatusOr<std::string> Do(const std::string& command,
                                 absl::Duration timeout = absl::Seconds(60)) {
    std::string line = command + "\n";
    if (::write(commands_, line.data(), line.size()) !=
        static_cast<ssize_t>(line.size())) {
      return absl::UnavailableError(
          absl::StrCat("the browser is gone: ", process_->Stderr()));
    }
    return Answer(++sent_, timeout);
  }

 private:
  explicit Browser(std::unique_ptr<Process> process)
      : process_(std::move(process)) {}

  absl::StatusOr<std::string> Answer(int number, absl::Duration timeout) {
    const std::string ok = absl::StrCat("ok ", number, " ");
    const std::string error = absl::StrCat("error ", number, " ");
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      for (absl::string_view line :
           absl::StrSplit(process_->Stdout(), '\n', absl::SkipEmpty())) {
        if (absl::ConsumePrefix(&line, ok)) return std::string(line);
        if (absl::ConsumePrefix(&line, error)) {
          return absl::InternalError(std::string(line));
        }
      }
      if (!process_->running()) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("no answer to command ", number,
                     "; browser said: ", process_->Stderr()));
  }

  std::unique_ptr<Process> process_;
  int commands_ = -1;
  int sent_ = 0;
};

// The order id in the page's "placed: margherita for table 17 (order ID) at
// p2 @3".
std::string OrderIdOf(const std::string& placed) {
  size_t start = placed.find("(order ");
  size_t end = placed.find(')', start);
  if (start == std::string::npos || end == std::string::npos) return "";
  return placed.substr(start + 7, end - start - 7);
}

class BoardTest : public BrokerTest {
 protected:
  // Starts the board on a free port; its URL.
  std::string StartBoard(std::vector<std::string> flags = {}) {
    flags.push_back("--port=0");
    auto board = StartService("board", flags);
    EXPECT_TRUE(board.ok()) << board.status();
    if (!board.ok()) return "";
    board_ = *std::move(board);
    absl::StatusOr<std::string> line =
        board_->WaitForStdoutLine(absl::Seconds(30));
    EXPECT_TRUE(line.ok()) << line.status() << board_->Stderr();
    std::string url;
    if (line.ok()) {
      absl::string_view view = *line;
      EXPECT_TRUE(absl::ConsumePrefix(&view, "board: http://127.0.0.1:"))
          << *line;
      url = std::string(absl::StripPrefix(*line, "board: "));
    }
    return url;
  }

  RunResult Curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-w",
                                     "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunToEnd(argv, absl::Seconds(30));
  }

  // A JSON POST as the board's own page sends it (Origin: the board).
  RunResult PostJson(const std::string& url, const std::string& path,
                     const std::string& json,
                     std::vector<std::string> extra = {}) {
    std::string origin(absl::StripSuffix(url, "/"));
    std::vector<std::string> args = {
        "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
        json};
    // Unless the case sends its own headers.
    if (std::find(extra.begin(), extra.end(), "-H") == extra.end()) {
      args.insert(args.end(), {"-H", "Origin: " + origin});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url + path);
    return Curl(args);
  }

  std::unique_ptr<Process> board_;
};

TEST_F(BoardTest, AnOrderPlacedOnThePageMovesToRecorded) {
  auto cook = StartService("cook", {"--prep_time=500ms", "--cook_id=cook-1"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  auto manager = StartService("manager", {"--ledger=" + TempPath("ledger")});
  ASSERT_TRUE(manager.ok()) << manager.status();
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  auto browser = Browser::Start();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Do("open " + url).ok());

  // Bad input: the waiter's own words, and nothing placed.
  absl::StatusOr<std::string> refused = (*browser)->Do("place margherita 0");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(*refused, "error: table 0 is out of range 1-100");
  refused = (*browser)->Do("place margherita x");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(*refused, "error: table \"x\" is not a number");

  absl::StatusOr<std::string> placed = (*browser)->Do("place margherita 17");
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_TRUE(absl::StartsWith(*placed, "placed: margherita for table 17"))
      << *placed;
  const std::string order_id = OrderIdOf(*placed);
  ASSERT_EQ(order_id.size(), 36u) << *placed;
  absl::StatusOr<std::string> recorded = (*browser)->Do(
      "wait_stage " + order_id + " recorded 60", absl::Seconds(70));
  EXPECT_TRUE(recorded.ok())
      << recorded.status() << board_->Stderr() << (*cook)->Stderr();
  EXPECT_TRUE((*browser)->Do("wait_count placed 1 10").ok());
  EXPECT_TRUE((*browser)->Do("screenshot " + TempPath("recorded.png")).ok());
}

TEST_F(BoardTest, StoppedCookPilesUpOrdersAndCatchesUpWhenBack) {
  auto manager = StartService("manager", {"--ledger=" + TempPath("ledger")});
  ASSERT_TRUE(manager.ok()) << manager.status();
  auto cook = StartService("cook", {"--prep_time=0", "--cook_id=cook-1"});
  ASSERT_TRUE(cook.ok()) << cook.status();
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  auto browser = Browser::Start();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Do("open " + url).ok());
  // The cook announced itself: all six partitions are its (the board holds
  // none: it is in no group).
  const std::string all_six = "cook-1: partitions 0, 1, 2, 3, 4, 5";
  ASSERT_EQ((*browser)->AskUntil(
                "members cook",
                [&](const std::string& members) { return members == all_six; },
                absl::Seconds(60)),
            all_six);

  // The cook leaves: orders pile up as placed, and the page says the lag.
  (*cook)->Signal(SIGTERM);
  ASSERT_TRUE((*cook)->Wait(absl::Seconds(30)).ok());
  absl::StatusOr<std::string> burst = (*browser)->Do("burst 20");
  ASSERT_TRUE(burst.ok()) << burst.status();
  EXPECT_EQ(*burst, "20 placed, 0 failed");
  EXPECT_TRUE((*browser)->Do("wait_count placed 20 30").ok());
  auto is = [](const char* expected) {
    return [expected](const std::string& answer) { return answer == expected; };
  };
  EXPECT_EQ((*browser)->AskUntil("lag cook", is("20"), absl::Seconds(30)),
            "20");
  EXPECT_EQ((*browser)->Do("members cook").value_or("?"), "no cook online");
  EXPECT_TRUE((*browser)->Do("screenshot " + TempPath("piled-up.png")).ok());

  // Back: it catches up on everything it missed.
  auto back = StartService("cook", {"--prep_time=0", "--cook_id=cook-1"});
  ASSERT_TRUE(back.ok()) << back.status();
  absl::StatusOr<std::string> all_ready =
      (*browser)->Do("wait_count ready 20 60", absl::Seconds(70));
  EXPECT_TRUE(all_ready.ok()) << all_ready.status() << (*back)->Stderr();
  EXPECT_EQ((*browser)->AskUntil("lag cook", is("0"), absl::Seconds(30)), "0");
}

TEST_F(BoardTest, DroppedConnectionResumesWithoutLosingOrDoublingACard) {
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  auto browser = Browser::Start();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Do("open " + url).ok());
  ASSERT_TRUE((*browser)->Do("burst 10").ok());
  ASSERT_TRUE((*browser)->Do("wait_count placed 10 30").ok());

  // Offline: the page's event stream breaks; orders keep coming meanwhile.
  ASSERT_TRUE((*browser)->Do("offline").ok());
  PlaceOrders(15);
  // The board itself saw them (its own API), before the page is back.
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       absl::Now() < deadline;) {
    RunResult state = Curl({url + "api/state"});
    if (absl::StrContains(state.out, "\"placed\":25")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE((*browser)->Do("online").ok());
  EXPECT_TRUE((*browser)->Do("wait_count placed 25 30").ok());
  absl::StatusOr<std::string> cards = (*browser)->Do("cards");
  ASSERT_TRUE(cards.ok()) << cards.status();
  EXPECT_EQ(
      *cards,
      "{\"shown\": 25, \"distinct\": 25, \"counted\": 25, \"known\": 25}");
}

TEST_F(BoardTest, ApiAnswersBadRequestsWithJsonErrors) {
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  RunResult result =
      PostJson(url, "api/orders", R"({"pizza":"margarita","table":3})");
  EXPECT_EQ(result.out,
            "{\"error\":\"\\\"margarita\\\" is not on the menu; did you mean "
            "margherita?\"}\n400");
  result = PostJson(url, "api/orders", R"({"pizza":"diavola","table":"200"})");
  EXPECT_EQ(result.out, "{\"error\":\"table 200 is out of range 1-100\"}\n400");
  result = PostJson(url, "api/orders", "[1, 2]");
  EXPECT_EQ(result.out, "{\"error\":\"the body must be a JSON object\"}\n400");
  result = PostJson(url, "api/burst", R"({"count":5000})");
  EXPECT_EQ(result.out,
            "{\"error\":\"a burst is 1 to 1000 orders, not 5000\"}\n400");
  result = Curl({url + "no/such/page"});
  EXPECT_EQ(result.out, "{\"error\":\"no such page\"}\n404");
  result = Curl({"-H", "Last-Event-ID: yesterday", url + "api/events"});
  EXPECT_EQ(result.out,
            "{\"error\":\"Last-Event-ID (or since) must be a version\"}\n400");

  // Orders come only from the board's own page: not from a form of another
  // site, not from another origin, not by a name that is not the board's
  // (DNS rebinding), not by a GET.
  result = Curl({"-X", "POST", "-H",
                 "Origin: " + std::string(absl::StripSuffix(url, "/")), "-d",
                 "pizza=margherita", "-d", "table=3", url + "api/orders"});
  EXPECT_EQ(result.out, "{\"error\":\"the body must be JSON\"}\n400");
  result = PostJson(url, "api/orders", R"({"pizza":"margherita","table":3})",
                    {"-H", "Origin: http://evil.example"});
  EXPECT_TRUE(absl::EndsWith(result.out, "403")) << result.out;
  result = PostJson(url, "api/orders", R"({"pizza":"margherita","table":3})",
                    {"-H", "Origin: http://evil.example", "-H",
                     "Origin: " + std::string(absl::StripSuffix(url, "/"))});
  EXPECT_TRUE(absl::EndsWith(result.out, "403")) << result.out;
  result = PostJson(url, "api/orders", R"({"pizza":"margherita","table":3})",
                    {"-H", "Host: rebound.example:80", "-H",
                     "Origin: http://rebound.example:80"});
  EXPECT_TRUE(absl::EndsWith(result.out, "403")) << result.out;
  result = Curl({url + "api/orders?pizza=margherita&table=3"});
  EXPECT_TRUE(absl::EndsWith(result.out, "404")) << result.out;

  // A body past 64 KiB is refused before it is read whole.
  std::string big = TempPath("big-body");
  {
    FILE* file = std::fopen(big.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::string chunk(1 << 20, 'x');
    std::fwrite(chunk.data(), 1, chunk.size(), file);
    std::fclose(file);
  }
  result = PostJson(url, "api/orders", "@" + big);
  EXPECT_TRUE(absl::EndsWith(result.out, "413")) << result.out;

  // Nothing of the above was placed; a good order is.
  RunResult state = Curl({url + "api/state"});
  EXPECT_TRUE(absl::StrContains(state.out, "\"placed\":0")) << state.out;
  result = PostJson(url, "api/orders", R"({"pizza":"Margherita","table":4})");
  EXPECT_TRUE(absl::EndsWith(result.out, "201")) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "\"pizza\":\"margherita\""))
      << result.out;
}

TEST_F(BoardTest, WhatARecordCarriesIsShownAsTextNeverAsHtml) {
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  // A foreign producer's order whose pizza is markup and a script.
  kitchen::v1::Order order;
  order.set_pizza(
      "<b id=\"injected\">bold</b><img src=x onerror=\"window.pwned=1\">"
      "<script>window.pwned=1</script>");
  order.set_table(5);
  order.set_order_id("<i>id</i>");
  ASSERT_TRUE(
      ProduceRaw(bootstrap(), topic(), "5", order.SerializeAsString()).ok());
  auto browser = Browser::Start();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Do("open " + url).ok());
  ASSERT_TRUE((*browser)->Do("wait_count placed 1 30").ok());
  absl::StatusOr<std::string> inert = (*browser)->Do("inert");
  ASSERT_TRUE(inert.ok()) << inert.status();
  EXPECT_EQ(*inert, "{\"elements\": 0, \"pwned\": false, \"shown\": true}");
}

TEST_F(BoardTest, TwoCooksEachWithTheirPartitions) {
  auto cook_1 = StartService("cook", {"--prep_time=0", "--cook_id=cook-1"});
  ASSERT_TRUE(cook_1.ok()) << cook_1.status();
  auto cook_2 = StartService("cook", {"--prep_time=0", "--cook_id=cook-2"});
  ASSERT_TRUE(cook_2.ok()) << cook_2.status();
  const std::string url = StartBoard();
  ASSERT_FALSE(url.empty());
  auto browser = Browser::Start();
  ASSERT_TRUE(browser.ok()) << browser.status();
  ASSERT_TRUE((*browser)->Do("open " + url).ok());
  // Each cook with three of the six partitions (eager rebalancing: the range
  // assignor gives 0-2 and 3-5), and none held twice.
  const std::string members = (*browser)->AskUntil(
      "members cook",
      [](const std::string& answer) {
        return answer ==
                   "cook-1: partitions 0, 1, 2; cook-2: partitions 3, 4, 5" ||
               answer ==
                   "cook-1: partitions 3, 4, 5; cook-2: partitions 0, 1, 2";
      },
      absl::Seconds(90));
  EXPECT_TRUE(absl::StrContains(members, "cook-1: partitions ") &&
              absl::StrContains(members, "; cook-2: partitions ") &&
              members.size() == std::string("cook-1: partitions 0, 1, 2; "
                                            "cook-2: partitions 3, 4, 5")
                                    .size())
      << members;
  EXPECT_TRUE((*browser)->Do("screenshot " + TempPath("two-cooks.png")).ok());
}

TEST_F(BoardTest, LiveStreamsAreCappedAndEndWhenTheBoardStops) {
  const std::string url = StartBoard({"--max_streams=2"});
  ASSERT_FALSE(url.empty());
  // Two pages hold their streams open...
  std::vector<std::unique_ptr<Process>> pages;
  for (int i = 0; i < 2; ++i) {
    auto page = Process::Start(absl::StrCat("page-", i),
                               {"/usr/bin/curl", "-sN", url + "api/events"});
    ASSERT_TRUE(page.ok()) << page.status();
    pages.push_back(*std::move(page));
  }
  for (const auto& page : pages) {
    ASSERT_TRUE(WaitUntil(
        [&] { return absl::StrContains(page->Stdout(), "event: summary"); },
        absl::Seconds(20)))
        << page->Stderr();
  }
  // ...a third is refused, and says why.
  RunResult third = Curl({url + "api/events"});
  EXPECT_EQ(third.out,
            "{\"error\":\"too many open event streams (at most 2)\"}\n503");
  // Stopping the board ends them: the pages' connections close.
  board_->Signal(SIGTERM);
  EXPECT_EQ(board_->Wait(absl::Seconds(15)).value_or(-1), 0)
      << board_->Stderr();
  for (const auto& page : pages) {
    EXPECT_EQ(page->Wait(absl::Seconds(10)).value_or(-1), 0);
  }
}

}  // namespace
}  // namespace kitchen::testing
