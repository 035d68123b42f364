// File: manager/ledger_line.cc

#include "manager/ledger_line.h"

#include <cstdio>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kitchen::manager {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E3SZ";

void AppendTime(absl::Time when, std::string& out) {
  out.push_back('"');
  AppendUtcMillis(when, out);
  out.push_back('"');
}

// A JSON value of a flat object: a string, a number or null, as text.
struct JsonValue {
  enum Kind { kString, kNumber, kNull } kind;
  std::string text;
};

// A small parser for one flat JSON object of strings, numbers and null: the
// only shape a ledger line has.
class FlatObjectParser {
 public:
  explicit FlatObjectParser(absl::string_view text) : rest_(text) {}

  absl::StatusOr<absl::flat_hash_map<std::string, JsonValue>> Parse() {
    absl::flat_hash_map<std::string, JsonValue> fields;
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    if (Consume('}')) return End(fields);
    while (true) {
      SkipSpace();
      absl::StatusOr<std::string> name = String();
      if (!name.ok()) return name.status();
      SkipSpace();
      if (!Consume(':')) return Error("expected ':'");
      SkipSpace();
      absl::StatusOr<JsonValue> value = Value();
      if (!value.ok()) return value.status();
      fields[*name] = *std::move(value);
      SkipSpace();
      if (Consume('}')) return End(fields);
      if (!Consume(',')) return Error("expected ',' or '}'");
    }
  }

 private:
  absl::StatusOr<absl::flat_hash_map<std::string, JsonValue>> End(
      absl::flat_hash_map<std::string, JsonValue>& fields) {
    SkipSpace();
    if (!rest_.empty()) return Error("text after the object");
    return std::move(fields);
  }

  absl::Status Error(absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ledger line: ", what));
  }

  void SkipSpace() {
    while (!rest_.empty() &&
           (rest_[0] == ' ' || rest_[0] == '\t' || rest_[0] == '\r')) {
      rest_.remove_prefix(1);
    }
  }

  bool Consume(char c) {
    if (rest_.empty() || rest_[0] != c) return false;
    rest_.remove_prefix(1);
    return true;
  }

  absl::StatusOr<JsonValue> Value() {
    if (!rest_.empty() && rest_[0] == '"') {
      absl::StatusOr<std::string> text = String();
      if (!text.ok()) return text.status();
      return JsonValue{JsonValue::kString, *std::move(text)};
    }
    if (absl::ConsumePrefix(&rest_, "null"))
      return JsonValue{JsonValue::kNull, ""};
    size_t length = 0;
    while (length < rest_.size() &&
           (absl::ascii_isdigit(rest_[length]) || rest_[length] == '-' ||
            rest_[length] == '+' || rest_[length] == '.' ||
            rest_[length] == 'e' || rest_[length] == 'E')) {
      ++length;
    }
    if (length == 0) return Error("expected a string, number or null");
    JsonValue value{JsonValue::kNumber, std::string(rest_.substr(0, length))};
    rest_.remove_prefix(length);
    return value;
  }

  absl::StatusOr<std::string> String() {
    if (!Consume('"')) return Error("expected '\"'");
    std::string out;
    while (true) {
      if (rest_.empty()) return Error("unterminated string");
      char c = rest_[0];
      rest_.remove_prefix(1);
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (rest_.empty()) return Error("unterminated escape");
      char escape = rest_[0];
      rest_.remove_prefix(1);
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out.push_back(escape);
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          uint32_t code = 0;
          if (rest_.size() < 4 ||
              !absl::SimpleHexAtoi(rest_.substr(0, 4), &code)) {
            return Error("bad \\u escape");
          }
          rest_.remove_prefix(4);
          AppendUtf8(code, out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
  }

  static void AppendUtf8(uint32_t code, std::string& out) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  absl::string_view rest_;
};

absl::Status Missing(absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat("ledger line has no valid \"", field, "\""));
}

}  // namespace

namespace {

// "2026-11-24T05:58:19.065Z" of a Unix time in milliseconds.
void FormatUtcMillis(int64_t millis, char (&text)[25]) {
  // absl::FormatTime goes through the time-zone machinery for every call; UTC
  // needs only the civil-from-days arithmetic (Howard Hinnant's algorithm,
  // exact for the proleptic Gregorian calendar).
  int64_t days =
      millis >= 0 ? millis / 86400000 : (millis - 86399999) / 86400000;
  int64_t in_day = millis - days * 86400000;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t day_of_era = z - era * 146097;
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                         day_of_era / 146096) /
                        365;
  int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_index = (5 * day_of_year + 2) / 153;
  int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  // Digits by hand: snprintf with seven conversions cost more than the rest of
  // a ledger line together.
  std::memcpy(text, "0000-00-00T00:00:00.000Z", sizeof(text));
  auto put = [&text](int at, int64_t value, int digits) {
    for (int i = at + digits - 1; i >= at; --i) {
      text[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, in_day / 3600000, 2);
  put(14, in_day / 60000 % 60, 2);
  put(17, in_day / 1000 % 60, 2);
  put(20, in_day % 1000, 3);
}

}  // namespace

void AppendUtcMillis(absl::Time when, std::string& out) {
  // The ledger writes two times a line, placed_at and recorded_at, and a
  // batch's lines share their recorded_at and mostly the second of their
  // placed_at: the text of the last two seconds is kept, and only the
  // milliseconds are written anew.
  struct Second {
    int64_t second = std::numeric_limits<int64_t>::min();
    char text[25];
  };
  thread_local Second kept[2];
  thread_local int older = 0;
  const int64_t millis = absl::ToUnixMillis(when);
  const int64_t second =
      millis >= 0 ? millis / 1000 : (millis - 999) / 1000;  // Floor.
  Second* slot = kept[0].second == second   ? &kept[0]
                 : kept[1].second == second ? &kept[1]
                                            : nullptr;
  if (slot == nullptr) {
    slot = &kept[older];
    older = 1 - older;
    FormatUtcMillis(second * 1000, slot->text);
    slot->second = second;
  }
  const int64_t in_second = millis - second * 1000;
  slot->text[20] = static_cast<char>('0' + in_second / 100);
  slot->text[21] = static_cast<char>('0' + in_second / 10 % 10);
  slot->text[22] = static_cast<char>('0' + in_second % 10);
  out.append(slot->text, 24);
}

void AppendJsonString(absl::string_view text, std::string& out) {
  out.push_back('"');
  // Runs of characters that need no escaping (all of them, in an ordinary
  // order) are appended whole: this is on the ledger's hot path.
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) {
      continue;
    }
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        char escaped[8];
        std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
        out.append(escaped);
      }
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

void AppendLedgerLine(const LedgerEntry& entry, std::string& out) {
  out.append("{\"order_id\":");
  AppendJsonString(entry.order_id, out);
  out.append(",\"pizza\":");
  AppendJsonString(entry.pizza, out);
  absl::StrAppend(&out, ",\"table\":", entry.table, ",\"placed_at\":");
  if (entry.placed_at.has_value()) {
    AppendTime(*entry.placed_at, out);
  } else {
    out.append("null");
  }
  out.append(",\"topic\":");
  AppendJsonString(entry.topic, out);
  absl::StrAppend(&out, ",\"partition\":", entry.partition,
                  ",\"offset\":", entry.offset, ",\"recorded_at\":");
  AppendTime(entry.recorded_at, out);
  out.push_back('}');
}

std::string FormatLedgerLine(const LedgerEntry& entry) {
  std::string line;
  AppendLedgerLine(entry, line);
  return line;
}

absl::StatusOr<LedgerEntry> ParseLedgerLine(absl::string_view line) {
  absl::StatusOr<absl::flat_hash_map<std::string, JsonValue>> fields =
      FlatObjectParser(line).Parse();
  if (!fields.ok()) return fields.status();

  auto text = [&](absl::string_view name) -> const std::string* {
    auto found = fields->find(name);
    if (found == fields->end() || found->second.kind != JsonValue::kString) {
      return nullptr;
    }
    return &found->second.text;
  };
  auto number = [&](absl::string_view name, int64_t& out) {
    auto found = fields->find(name);
    return found != fields->end() && found->second.kind == JsonValue::kNumber &&
           absl::SimpleAtoi(found->second.text, &out);
  };
  auto time = [&](absl::string_view name, absl::Time& out) {
    const std::string* value = text(name);
    std::string error;
    return value != nullptr &&
           absl::ParseTime(kTimeFormat, *value, absl::UTCTimeZone(), &out,
                           &error);
  };

  LedgerEntry entry;
  if (const std::string* id = text("order_id")) entry.order_id = *id;
  const std::string* pizza = text("pizza");
  if (pizza == nullptr) return Missing("pizza");
  entry.pizza = *pizza;
  int64_t table = 0;
  if (!number("table", table)) return Missing("table");
  entry.table = static_cast<int32_t>(table);
  absl::Time placed;
  if (time("placed_at", placed)) entry.placed_at = placed;
  const std::string* topic = text("topic");
  if (topic == nullptr) return Missing("topic");
  entry.topic = *topic;
  int64_t partition = 0;
  if (!number("partition", partition)) return Missing("partition");
  entry.partition = static_cast<int32_t>(partition);
  if (!number("offset", entry.offset)) return Missing("offset");
  if (!time("recorded_at", entry.recorded_at)) return Missing("recorded_at");
  return entry;
}

}  // namespace kitchen::manager
