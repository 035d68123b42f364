// File: kafka/message.cc

#include "kafka/message.h"

#include <string>

namespace kitchen::kafka {

absl::optional<absl::Time> Message::timestamp() const {
  rd_kafka_timestamp_type_t type;
  int64_t millis = rd_kafka_message_timestamp(message_.get(), &type);
  if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || millis < 0) {
    return absl::nullopt;
  }
  return absl::FromUnixMillis(millis);
}

Headers Message::headers() const {
  Headers result;
  rd_kafka_headers_t* headers = nullptr;  // Owned by the message.
  if (rd_kafka_message_headers(message_.get(), &headers) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return result;
  }
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
       RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    result.push_back(
        {name,
         value ? std::string(static_cast<const char*>(value), size) : ""});
  }
  return result;
}

absl::optional<std::string> Message::header(absl::string_view name) const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message_.get(), &headers) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::nullopt;
  }
  const void* value;
  size_t size;
  std::string name_string(name);
  if (rd_kafka_header_get_last(headers, name_string.c_str(), &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::nullopt;
  }
  return value ? std::string(static_cast<const char*>(value), size) : "";
}

}  // namespace kitchen::kafka
