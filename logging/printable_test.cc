// File: logging/printable_test.cc

#include "logging/printable.h"

#include <string>

#include "gtest/gtest.h"

namespace kitchen::logging {
namespace {

TEST(PrintableTest, KeepsPrintableTextAsItIs) {
  EXPECT_EQ(Printable(""), "");
  EXPECT_EQ(Printable("quattro formaggi for table 12"),
            "quattro formaggi for table 12");
  EXPECT_EQ(Printable("pizza \\n with a backslash"),
            "pizza \\n with a backslash");
  // Valid UTF-8 of every length: é, €, 𝄞, and a non-breaking space.
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\xc2\xa0"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\xc2\xa0");
}

TEST(PrintableTest, AForgedLogLineStaysOnOneLine) {
  EXPECT_EQ(
      Printable("margherita\n2030-01-01T00:00:00.000Z INFO  cook: ready: x"),
      "margherita\\n2030-01-01T00:00:00.000Z INFO  cook: ready: x");
  EXPECT_EQ(Printable("a\rb\tc"), "a\\rb\\tc");
}

TEST(PrintableTest, EscapesControlCharacters) {
  EXPECT_EQ(Printable("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("\x7f\x01\x1f"), "\\x7f\\x01\\x1f");
  // C1 controls, as UTF-8: U+0085 (next line), U+009B (CSI).
  EXPECT_EQ(Printable("a\xc2\x85"
                      "b\xc2\x9b"
                      "2J"),
            "a\\u0085b\\u009b2J");
}

TEST(PrintableTest, EscapesSeparatorsAndBidirectionalOverrides) {
  EXPECT_EQ(Printable("a\xe2\x80\xa8"
                      "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029");
  EXPECT_EQ(Printable("\xe2\x80\xae"
                      "txt.exe"),
            "\\u202etxt.exe");
  EXPECT_EQ(Printable("\xe2\x81\xa6"
                      "x\xe2\x81\xa9"),
            "\\u2066x\\u2069");
}

TEST(PrintableTest, EscapesEachByteThatIsNotValidUtf8) {
  EXPECT_EQ(Printable("\xff"), "\\xff");
  EXPECT_EQ(Printable("a\x80z"), "a\\x80z");       // Stray continuation.
  EXPECT_EQ(Printable("\xc3"), "\\xc3");           // Cut at the end.
  EXPECT_EQ(Printable("\xc3z"), "\\xc3z");         // Cut in the middle.
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");  // Overlong '/'.
  EXPECT_EQ(Printable("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");  // Overlong.
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // Surrogate.
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"),
            "\\xf4\\x90\\x80\\x80");               // Past max.
  EXPECT_EQ(Printable("\xe2\x82"), "\\xe2\\x82");  // € cut short.
}

}  // namespace
}  // namespace kitchen::logging
