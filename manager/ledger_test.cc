// File: manager/ledger_test.cc
//
// The ledger file on a real file system: positions, torn lines, the lock,
// damage, and the report.

#include "manager/ledger.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "gtest/gtest.h"
#include "manager/report.h"

namespace kitchen::manager {
namespace {

std::string TempPath(absl::string_view name) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  ::unlink(path.c_str());
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

LedgerEntry Entry(int32_t partition, int64_t offset,
                  absl::string_view pizza = "margherita", int32_t table = 7) {
  LedgerEntry entry;
  entry.order_id = absl::StrCat("id-", partition, "-", offset);
  entry.pizza = std::string(pizza);
  entry.table = table;
  entry.placed_at = absl::FromUnixSeconds(1700000000 + offset);
  entry.topic = "pizza-order";
  entry.partition = partition;
  entry.offset = offset;
  entry.recorded_at = absl::FromUnixSeconds(1700000100);
  return entry;
}

TEST(LedgerTest, RemembersNextOffsetsAcrossReopen) {
  std::string path = TempPath("positions.jsonl");
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    EXPECT_FALSE((*ledger)->NextOffset("pizza-order", 0).has_value());
    ASSERT_TRUE(
        (*ledger)->Append({Entry(0, 0), Entry(0, 1), Entry(4, 9)}).ok());
    EXPECT_EQ((*ledger)->NextOffset("pizza-order", 0), 2);
  }
  auto reopened = Ledger::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->lines(), 3);
  EXPECT_EQ((*reopened)->NextOffset("pizza-order", 0), 2);
  EXPECT_EQ((*reopened)->NextOffset("pizza-order", 4), 10);
  EXPECT_FALSE((*reopened)->NextOffset("pizza-order", 1).has_value());
}

TEST(LedgerTest, SetsATornLastLineAsideAndRepairs) {
  std::string path = TempPath("torn.jsonl");
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->Append({Entry(1, 0), Entry(1, 1)}).ok());
  }
  std::string whole = ReadAll(path);
  std::ofstream(path, std::ios::app) << "{\"order_id\":\"id-1-2\",\"pi";

  auto ledger = Ledger::Open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ((*ledger)->lines(), 2);
  EXPECT_EQ((*ledger)->NextOffset("pizza-order", 1), 2);
  EXPECT_EQ(ReadAll(path), whole) << "cut back to the last whole line";
  // The torn bytes are kept in a side file next to the ledger.
  int side_files = 0;
  for (const auto& file :
       std::filesystem::directory_iterator(std::getenv("TEST_TMPDIR"))) {
    if (file.path().filename().string().rfind("torn.jsonl.torn-", 0) != 0)
      continue;
    ++side_files;
    EXPECT_EQ(ReadAll(file.path().string()), "{\"order_id\":\"id-1-2\",\"pi");
  }
  EXPECT_EQ(side_files, 1);
  // And appending goes on after the last whole line.
  ASSERT_TRUE((*ledger)->Append({Entry(1, 2)}).ok());
  EXPECT_EQ((*ledger)->lines(), 3);
}

TEST(LedgerTest, SecondWriterIsRefused) {
  std::string path = TempPath("locked.jsonl");
  auto first = Ledger::Open(path);
  ASSERT_TRUE(first.ok());
  auto second = Ledger::Open(path);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another manager"),
            std::string::npos);
  first->reset();
  EXPECT_TRUE(Ledger::Open(path).ok()) << "the lock goes with its holder";
}

TEST(LedgerTest, DamageInTheMiddleIsAnErrorNamingTheLine) {
  std::string path = TempPath("damaged.jsonl");
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->Append({Entry(0, 0)}).ok());
  }
  std::ofstream(path, std::ios::app) << "not json\n"
                                     << FormatLedgerLine(Entry(0, 1)) << "\n";
  std::string before = ReadAll(path);
  auto ledger = Ledger::Open(path);
  EXPECT_EQ(ledger.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ledger.status().message().find("damaged.jsonl:2:"),
            std::string::npos)
      << ledger.status().message();
  EXPECT_EQ(ReadAll(path), before) << "a damaged ledger is left untouched";
  EXPECT_EQ(ReportOnLedger(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST(LedgerTest, UnwritablePathIsAnErrorNamingIt) {
  auto ledger = Ledger::Open("/nonexistent-directory/ledger.jsonl");
  EXPECT_FALSE(ledger.ok());
  EXPECT_NE(
      ledger.status().message().find("/nonexistent-directory/ledger.jsonl"),
      std::string::npos);
}

TEST(LedgerTest, SomethingThatIsNotAFileIsRefused) {
  EXPECT_EQ(Ledger::Open("/dev/full").status().message(),
            "ledger /dev/full is not a regular file");
}

TEST(LedgerTest, AnOffsetWithNoOffsetAfterItIsRefusedAndNothingWritten) {
  std::string path = TempPath("last-offset.jsonl");
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ASSERT_TRUE((*ledger)->Append({Entry(1, 4)}).ok());
    absl::Status appended = (*ledger)->Append(
        {Entry(1, 5), Entry(1, std::numeric_limits<int64_t>::max())});
    EXPECT_EQ(appended.message(),
              "cannot record pizza-order[1] offset 9223372036854775807: the "
              "next offset would overflow");
    EXPECT_EQ((*ledger)->NextOffset("pizza-order", 1), 5);
  }
  auto reopened = Ledger::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->lines(), 1);
}

TEST(LedgerTest, FilesAreCreatedReadableByTheirOwnerAndGroupOnly) {
  std::string path = TempPath("mode.jsonl");
  ::umask(0);  // What is asked for, not what a umask leaves of it.
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ASSERT_TRUE((*ledger)->Append({Entry(0, 0)}).ok());
  }
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640);
  std::ofstream(path, std::ios::app) << "{\"torn";
  ASSERT_TRUE(Ledger::Open(path).ok());
  int side_files = 0;
  for (const auto& file : std::filesystem::directory_iterator(
           std::filesystem::path(path).parent_path())) {
    if (file.path().string().find("mode.jsonl.torn-") == std::string::npos) {
      continue;
    }
    ++side_files;
    ASSERT_EQ(::stat(file.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0640) << file.path();
  }
  EXPECT_EQ(side_files, 1);
  ::umask(022);
}

TEST(LedgerTest, ALedgerDeletedOrRenamedUnderItIsNeverWrittenAgain) {
  std::string path = TempPath("moved.jsonl");
  std::string moved = TempPath("moved-away.jsonl");
  auto ledger = Ledger::Open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_TRUE((*ledger)->Append({Entry(0, 0)}).ok());
  ASSERT_EQ(::rename(path.c_str(), moved.c_str()), 0);
  absl::Status appended = (*ledger)->Append({Entry(0, 1)});
  EXPECT_EQ(appended.message(),
            absl::StrCat("ledger ", path,
                         " was renamed or replaced while the manager ran (the "
                         "file open is no longer the file of that name): "
                         "nothing more is written to it"));
  EXPECT_EQ(ReadAll(moved), FormatLedgerLine(Entry(0, 0)) + "\n");
  // Another manager may lock the path now: that is another ledger.
  auto second = Ledger::Open(path);
  ASSERT_TRUE(second.ok()) << second.status();

  std::string deleted = TempPath("deleted.jsonl");
  auto third = Ledger::Open(deleted);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(::unlink(deleted.c_str()), 0);
  EXPECT_EQ((*third)->Append({Entry(0, 1)}).message(),
            absl::StrCat("ledger ", deleted,
                         " was deleted while the manager ran: nothing more is "
                         "written to it"));
}

TEST(ReportTest, CountsPerPizzaAndTableWithFirstAndLastTimes) {
  std::string path = TempPath("report.jsonl");
  {
    auto ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE(
        (*ledger)
            ->Append({Entry(0, 5, "diavola", 3), Entry(0, 6, "margherita", 3),
                      Entry(2, 1, "margherita", 12)})
            .ok());
    LedgerEntry parked = Entry(2, 2);
    parked.dead_lettered = true;
    parked.reason = "not an order";
    ASSERT_TRUE((*ledger)->Append({parked}).ok());
    EXPECT_EQ((*ledger)->orders(), 3);
    EXPECT_EQ((*ledger)->NextOffset("pizza-order", 2), 3);
  }
  absl::StatusOr<LedgerReport> report = ReportOnLedger(path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->orders, 3) << "a dead-lettered record is no order";
  EXPECT_EQ(report->dead_lettered, 1);
  EXPECT_EQ(report->by_pizza.at("margherita"), 2);
  EXPECT_EQ(report->by_table.at(3), 2);
  EXPECT_EQ(report->first_placed, absl::FromUnixSeconds(1700000001));
  EXPECT_EQ(report->last_placed, absl::FromUnixSeconds(1700000006));
  EXPECT_EQ(
      FormatReportJson(*report),
      absl::StrCat(
          "{\"ledger\":\"", path,
          "\",\"orders\":3,\"first_placed_at\":\"2023-11-14T22:13:21.000Z\","
          "\"last_placed_at\":\"2023-11-14T22:13:26.000Z\","
          "\"per_pizza\":{\"diavola\":1,\"margherita\":2},"
          "\"per_table\":{\"3\":2,\"12\":1},\"dead_lettered\":1,"
          "\"unfinished_bytes\":0}\n"));
}

}  // namespace
}  // namespace kitchen::manager
