// File: orders/trace_context.cc

#include "orders/trace_context.h"

#include <cstdint>
#include <cstring>

#include "absl/random/random.h"

namespace kitchen::orders {
namespace {

// Which bytes are lowercase hex digits: kLowerHex.digit['a'] is true. A table,
// because every service reads a traceparent per record.
struct LowerHexTable {
  constexpr LowerHexTable() {
    for (char c = '0'; c <= '9'; ++c)
      digit[static_cast<unsigned char>(c)] = true;
    for (char c = 'a'; c <= 'f'; ++c)
      digit[static_cast<unsigned char>(c)] = true;
  }
  bool digit[256] = {};
};
constexpr LowerHexTable kLowerHex;

// The 8 bytes of `word` as 16 lowercase hex digits at `out`, the lowest nibble
// first (the digits of random bits: their order does not matter). Eight
// digits at a time in a 64-bit word, without a branch or table, because the
// waiter writes 48 per order: each nibble spread into a byte of its own, then
// '0' + n, and 'a' - '0' - 10 = 39 more where n >= 10.
void PutHexWord(uint64_t word, char* out) {
  for (int half = 0; half < 2; ++half) {
    uint64_t x = static_cast<uint32_t>(word >> (32 * half));
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    const uint64_t letters =
        ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    x += 0x3030303030303030ULL + letters * 39;
    std::memcpy(out + 8 * half, &x, sizeof(x));
  }
}

// Writes `words` random 64-bit words as 16 * words hex digits at `out`, not
// all zero.
void PutRandomHex(int words, char* out) {
  // Seeded from the OS once per thread; ids must be unique, not secret.
  thread_local absl::BitGen bits;
  bool all_zero = true;
  do {
    for (int i = 0; i < words; ++i) {
      const uint64_t word = bits();
      if (word != 0) all_zero = false;
      PutHexWord(word, out + 16 * i);
    }
  } while (all_zero);  // All zeros is invalid (and never drawn in practice).
}

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!kLowerHex.digit[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool AllZeros(absl::string_view text) {
  return text.find_first_not_of('0') == absl::string_view::npos;
}

}  // namespace

TraceContext TraceContext::New() {
  TraceContext trace;
  std::memcpy(trace.chars_.data(), "00-", 3);
  PutRandomHex(2, &trace.chars_[3]);  // 16 bytes.
  trace.chars_[35] = '-';
  trace.SetRandomSpanId();
  trace.chars_[52] = '-';
  trace.chars_[53] = '0';
  trace.chars_[54] = '1';  // Sampled: the kitchen keeps every order's trace.
  return trace;
}

absl::optional<TraceContext> TraceContext::Parse(absl::string_view header) {
  if (header.size() != 55 || header.substr(0, 3) != "00-" ||
      header[35] != '-' || header[52] != '-') {
    return absl::nullopt;
  }
  const absl::string_view trace_id = header.substr(3, 32);
  const absl::string_view span_id = header.substr(36, 16);
  const absl::string_view flags = header.substr(53, 2);
  if (!IsLowerHex(trace_id) || !IsLowerHex(span_id) || !IsLowerHex(flags) ||
      AllZeros(trace_id) || AllZeros(span_id)) {
    return absl::nullopt;
  }
  TraceContext trace;
  std::memcpy(trace.chars_.data(), header.data(), header.size());
  // Only the sampled flag (bit 0) is defined for version 00; the others are
  // not passed on.
  const int low_bits = flags[1] <= '9' ? flags[1] - '0' : flags[1] - 'a' + 10;
  trace.chars_[53] = '0';
  trace.chars_[54] = (low_bits & 1) != 0 ? '1' : '0';
  return trace;
}

TraceContext TraceContext::Continue(const absl::optional<std::string>& header) {
  if (header.has_value()) {
    if (absl::optional<TraceContext> parent = Parse(*header)) {
      TraceContext mine = parent->Child();
      mine.continued_ = true;
      return mine;
    }
  }
  return New();
}

TraceContext TraceContext::Child() const {
  TraceContext child = *this;
  child.SetRandomSpanId();
  return child;
}

void TraceContext::SetRandomSpanId() { PutRandomHex(1, &chars_[36]); }

}  // namespace kitchen::orders
