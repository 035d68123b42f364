// File: logging/printable.cc

#include "logging/printable.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace kitchen::logging {
namespace {

// The code point of the valid UTF-8 sequence at text[at], and its length; a
// length of 0 when the bytes there are not one (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF).
struct Decoded {
  uint32_t code_point = 0;
  size_t length = 0;
};

Decoded DecodeUtf8(absl::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(at);
  size_t length = 0;
  uint32_t code_point = 0;
  uint32_t smallest = 0;
  if (lead < 0x80) return {lead, 1};
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, code_point = lead & 0x1f, smallest = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, code_point = lead & 0x0f, smallest = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, code_point = lead & 0x07, smallest = 0x10000;
  } else {
    return {};
  }
  if (at + length > text.size()) return {};
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return {};
    code_point = (code_point << 6) | (byte(at + i) & 0x3f);
  }
  if (code_point < smallest || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return {};
  }
  return {code_point, length};
}

// Code points beyond ASCII that change what a reader sees: C1 controls, line
// and paragraph separators, bidirectional overrides and isolates.
bool IsHiddenControl(uint32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9f) || code_point == 0x2028 ||
         code_point == 0x2029 ||
         (code_point >= 0x202a && code_point <= 0x202e) ||
         (code_point >= 0x2066 && code_point <= 0x2069);
}

}  // namespace

std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (at < text.size()) {
    const auto byte = static_cast<uint8_t>(text[at]);
    if (byte >= 0x20 && byte < 0x7f) {  // The common case: printable ASCII.
      out.push_back(static_cast<char>(byte));
      ++at;
      continue;
    }
    switch (byte) {
      case '\n':
        out += "\\n";
        ++at;
        continue;
      case '\r':
        out += "\\r";
        ++at;
        continue;
      case '\t':
        out += "\\t";
        ++at;
        continue;
      default:
        break;
    }
    if (byte < 0x80) {  // Another C0 control, or DEL.
      absl::StrAppendFormat(&out, "\\x%02x", byte);
      ++at;
      continue;
    }
    Decoded decoded = DecodeUtf8(text, at);
    if (decoded.length == 0) {  // Not UTF-8: this byte alone is escaped.
      absl::StrAppendFormat(&out, "\\x%02x", byte);
      ++at;
    } else if (IsHiddenControl(decoded.code_point)) {
      absl::StrAppendFormat(&out, "\\u%04x", decoded.code_point);
      at += decoded.length;
    } else {
      out.append(text.data() + at, decoded.length);
      at += decoded.length;
    }
  }
  return out;
}

}  // namespace kitchen::logging
