// File: logging/printable.h
//
// Text from outside (a pizza name or order id from the topic, a line of input)
// made safe to print on one line of a log, a report or a terminal. Without it a
// foreign producer can forge log lines (a pizza named "x\n2030-... INFO  cook:
// ready: ...") or drive the terminal of whoever reads them (ESC sequences).
//
// Printable(text) keeps valid, printable UTF-8 as it is and escapes the rest:
//   \n \r \t                     as \n \r \t
//   other C0 controls and DEL    as \xNN (\x1b for ESC)
//   C1 controls (U+0080-U+009F)  as \u0080 ... \u009f
//   line and paragraph separators (U+2028, U+2029) and the bidirectional
//   overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder or
//   break what a reader sees, as \u2028 ...
//   a byte that is not part of valid UTF-8 (a stray continuation byte, an
//   overlong form, a surrogate, past U+10FFFF, a cut sequence) as \xNN
// A backslash stays as it is: the result is for people, not to be parsed back.
//
// logging::Log applies it to every message, so every log line is one line;
// whatever prints outside text on standard output calls it too.
//
// Usage:
//   absl::PrintF("  %-24s %8d\n", logging::Printable(pizza), count);

#ifndef KITCHEN_LOGGING_PRINTABLE_H_
#define KITCHEN_LOGGING_PRINTABLE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kitchen::logging {

std::string Printable(absl::string_view text);

}  // namespace kitchen::logging

#endif  // KITCHEN_LOGGING_PRINTABLE_H_
