// File: orders/trace_context.cc

#include "orders/trace_context.h"

#include <cstdint>
#include <cstring>

#include "absl/random/random.h"

namespace kitchen::orders {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Writes `count` random bytes as 2 * count hex digits at `out`, not all zero.
void PutRandomHex(int count, char* out) {
  // Seeded from the OS once per thread; ids must be unique, not secret.
  thread_local absl::BitGen bits;
  bool all_zero = true;
  do {
    for (int i = 0; i < count; i += 8) {
      uint64_t word = bits();
      if (word != 0) all_zero = false;
      for (int j = 0; j < 8 && i + j < count; ++j) {
        const unsigned byte = static_cast<unsigned>(word >> (8 * j)) & 0xFF;
        out[2 * (i + j)] = kHex[byte >> 4];
        out[2 * (i + j) + 1] = kHex[byte & 0xF];
      }
    }
  } while (all_zero);  // All zeros is invalid (and never drawn in practice).
}

bool IsLowerHex(absl::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

bool AllZeros(absl::string_view text) {
  return text.find_first_not_of('0') == absl::string_view::npos;
}

}  // namespace

TraceContext TraceContext::New() {
  TraceContext trace;
  std::memcpy(trace.chars_.data(), "00-", 3);
  PutRandomHex(16, &trace.chars_[3]);
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

void TraceContext::SetRandomSpanId() { PutRandomHex(8, &chars_[36]); }

}  // namespace kitchen::orders
