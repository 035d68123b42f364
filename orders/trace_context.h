// File: orders/trace_context.h
//
// W3C Trace Context (https://www.w3.org/TR/trace-context/) for the kitchen's
// records, without a tracing SDK: the `traceparent` record header,
//
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//   version, trace id (16 bytes), span id (8 bytes), flags (01: sampled)
//
// The waiter (and the board's order desk) starts a trace per order; every
// service that handles the record continues it with a span id of its own and
// sends that on what it writes about the order (order events, dead-letter
// copies), and names the trace id in its log lines about the order. A record
// with no traceparent, or one that is not a valid version-00 traceparent
// (parsed strictly: any bytes can arrive in a header), starts a new trace.
//
// Usage:
//   TraceContext trace = TraceContext::New();                   // the waiter
//   headers.push_back({kTraceparentHeader, trace.header()});
//   TraceContext mine =
//   TraceContext::Continue(message.header(kTraceparentHeader));
//   logging::Info("cooking ... trace %s", mine.trace_id());

#ifndef KITCHEN_ORDERS_TRACE_CONTEXT_H_
#define KITCHEN_ORDERS_TRACE_CONTEXT_H_

#include <array>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace kitchen::orders {

inline constexpr char kTraceparentHeader[] = "traceparent";

class TraceContext {
 public:
  // A new trace: random trace id and span id, sampled.
  static TraceContext New();

  // The traceparent `header` holds, or nullopt unless it is exactly a version
  // 00 traceparent: 55 characters, lowercase hex, dashes where they go, a trace
  // id and a span id that are not all zeros. Higher versions are not read
  // (nullopt): the kitchen writes and reads version 00 only.
  static absl::optional<TraceContext> Parse(absl::string_view header);

  // The trace id of a traceparent this process made (New(), Child()) and got
  // back unchanged, as from a delivery report: read where the format puts it,
  // not checked again (a Parse() costs more than a New()). Empty unless
  // `traceparent` has a traceparent's length.
  static absl::string_view TraceIdOfOwn(absl::string_view traceparent) {
    return traceparent.size() == 55 ? traceparent.substr(3, 32)
                                    : absl::string_view();
  }

  // The context of a service that handles a record whose traceparent header is
  // `header`: the same trace and sampled flag, a span id of its own; a new
  // trace (New()) when there is no header or it does not parse.
  static TraceContext Continue(const absl::optional<std::string>& header);

  // The same trace, a new span id of its own (the sampled flag kept).
  TraceContext Child() const;

  // 32 lowercase hex digits.
  absl::string_view trace_id() const { return view().substr(3, 32); }
  // 16 lowercase hex digits.
  absl::string_view span_id() const { return view().substr(36, 16); }
  bool sampled() const { return chars_[54] == '1'; }
  // The traceparent header's value.
  std::string header() const { return std::string(view()); }
  absl::string_view traceparent() const { return view(); }  // The same.

  // Whether Continue() continued a valid incoming trace (false: it started a
  // new one).
  bool continued() const { return continued_; }

 private:
  TraceContext() = default;
  absl::string_view view() const { return {chars_.data(), chars_.size()}; }
  void SetRandomSpanId();

  std::array<char, 55> chars_;
  bool continued_ = false;
};

}  // namespace kitchen::orders

#endif  // KITCHEN_ORDERS_TRACE_CONTEXT_H_
