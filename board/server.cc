// File: board/server.cc

#include "board/server.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "board/page.h"
#include "logging/log.h"

namespace kitchen::board {
namespace {

// How often a stream sends the summary (and notices the board stopping).
constexpr absl::Duration kSummaryInterval = absl::Seconds(1);

// Text from the topic may be any bytes: invalid UTF-8 becomes U+FFFD rather
// than an exception.
std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Reply(httplib::Response& response, int status,
           const nlohmann::json& body) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(Dump(body), "application/json");
}

void ReplyError(httplib::Response& response, int status,
                absl::string_view message) {
  Reply(response, status, {{"error", std::string(message)}});
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return 400;
    default:
      return 503;
  }
}

// A field of a form or of a JSON object body, as text ("" if absent).
std::string Field(const httplib::Request& request, const char* name) {
  if (request.has_param(name)) return request.get_param_value(name);
  if (request.get_header_value("Content-Type").find("application/json") ==
      std::string::npos) {
    return "";
  }
  nlohmann::json body =
      nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains(name)) return "";
  const nlohmann::json& value = body[name];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return absl::StrCat(value.get<int64_t>());
  return "";
}

std::string Event(absl::string_view name, const nlohmann::json& data,
                  absl::optional<int64_t> id) {
  std::string event;
  if (id.has_value()) absl::StrAppend(&event, "id: ", *id, "\n");
  absl::StrAppend(&event, "event: ", name, "\ndata: ", Dump(data), "\n\n");
  return event;
}

}  // namespace

Server::Server(Board& board, ServerOptions options)
    : board_(board),
      options_(options),
      http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.max_streams + 8;
  // cpp-httplib takes ownership of the queue it is handed.
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  Route();
}

Server::~Server() = default;

absl::StatusOr<int> Server::Listen(const std::string& host, int port) {
  if (port == 0) {
    const int bound = http_->bind_to_any_port(host);
    if (bound <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", host, " (any port)"));
    }
    return bound;
  }
  if (!http_->bind_to_port(host, port)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", host, ":", port, " (in use, or not an address of this machine)"));
  }
  return port;
}

void Server::Serve() { http_->listen_after_bind(); }

void Server::Stop() {
  board_.Stop();  // Streams notice within a second.
  http_->stop();
}

void Server::Route() {
  http_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_content(kPage, "text/html; charset=utf-8");
  });

  http_->Get("/api/menu",
             [this](const httplib::Request&, httplib::Response& response) {
               Reply(response, 200,
                     {{"pizzas", board_.menu().pizzas()},
                      {"tables",
                       {{"min", board_.options().tables.min},
                        {"max", board_.options().tables.max}}}});
             });

  http_->Get("/api/state",
             [this](const httplib::Request&, httplib::Response& response) {
               Reply(response, 200,
                     {{"summary", board_.Summary(absl::Now())},
                      {"changes", board_.WaitForChanges(0, absl::ZeroDuration())}});
             });

  http_->Get("/api/events", [this](const httplib::Request& request,
                                   httplib::Response& response) {
    if (streams_.load() >= options_.max_streams) {
      ReplyError(response, 503, "too many open event streams");
      return;
    }
    // Where to go on from: a reconnecting EventSource's Last-Event-ID, or
    // ?since= (0, or nothing: everything).
    int64_t since = 0;
    std::string from = request.get_header_value("Last-Event-ID");
    if (from.empty()) from = request.get_param_value("since");
    if (!from.empty() && (!absl::SimpleAtoi(from, &since) || since < 0)) {
      ReplyError(response, 400, "Last-Event-ID (or since) must be a version");
      return;
    }
    ++streams_;
    response.set_header("Cache-Control", "no-store");
    response.set_chunked_content_provider(
        "text/event-stream",
        [this, since](size_t, httplib::DataSink& sink) mutable {
          // One turn: the changes since the last sent (waiting up to a
          // second for some), then the summary. False ends the stream.
          nlohmann::json changes =
              board_.WaitForChanges(since, kSummaryInterval);
          if (board_.stopping()) {
            sink.done();
            return true;
          }
          if (!changes["cards"].empty() || changes["reset"]) {
            since = changes["version"].get<int64_t>();
            std::string event = Event("cards", changes, since);
            if (!sink.write(event.data(), event.size())) return false;
          }
          std::string summary =
              Event("summary", board_.Summary(absl::Now()), absl::nullopt);
          return sink.write(summary.data(), summary.size());
        },
        [this](bool) { --streams_; });
  });

  http_->Post("/api/orders", [this](const httplib::Request& request,
                                    httplib::Response& response) {
    absl::StatusOr<nlohmann::json> placed =
        board_.Place(Field(request, "pizza"), Field(request, "table"));
    if (!placed.ok()) {
      ReplyError(response, HttpStatusOf(placed.status()),
                 placed.status().message());
      return;
    }
    Reply(response, 201, *placed);
  });

  http_->Post("/api/burst", [this](const httplib::Request& request,
                                   httplib::Response& response) {
    int64_t count = 0;
    if (!absl::SimpleAtoi(Field(request, "count"), &count)) {
      ReplyError(response, 400, "count must be a number of orders");
      return;
    }
    absl::StatusOr<nlohmann::json> placed = board_.PlaceBurst(count);
    if (!placed.ok()) {
      ReplyError(response, HttpStatusOf(placed.status()),
                 placed.status().message());
      return;
    }
    Reply(response, 200, *placed);
  });

  // Unknown paths and methods, and bodies over the limit (413): JSON errors.
  http_->set_error_handler(
      [](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return;  // A route's own error.
        const char* what = response.status == 413 ? "request body too large"
                           : response.status == 405 ? "method not allowed"
                           : response.status == 400 ? "bad request"
                                                    : "no such page";
        ReplyError(response, response.status, what);
      });
}

}  // namespace kitchen::board
