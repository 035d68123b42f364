// File: board/server.cc

#include "board/server.h"

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "board/page.h"
#include "logging/log.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

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
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return 400;
    default:
      return 503;
  }
}

// The JSON object a POST to the API carries, or why it is refused. Orders
// are placed only by a JSON POST from the board's own page: a cross-site form
// cannot send JSON without a CORS preflight (which the board never allows),
// and a page served from another name that resolves here (DNS rebinding)
// gives itself away by its Host and Origin.
absl::StatusOr<nlohmann::json> PostedJson(
    const httplib::Request& request, const std::vector<std::string>& hosts) {
  if (request.get_header_value_count("Host") != 1 ||
      request.get_header_value_count("Origin") != 1) {
    return absl::PermissionDeniedError(
        "a request to place orders needs one Host and one Origin header");
  }
  const std::string host = request.get_header_value("Host");
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
    return absl::PermissionDeniedError(
        "this board does not answer to that host name (see --allowed_hosts)");
  }
  if (request.get_header_value("Origin") != absl::StrCat("http://", host)) {
    return absl::PermissionDeniedError(
        "orders are placed from the board's own page only (Origin must be "
        "this board)");
  }
  if (request.get_header_value("Content-Type").find("application/json") ==
      std::string::npos) {
    return absl::InvalidArgumentError("the body must be JSON");
  }
  nlohmann::json body =
      nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  return body;
}

// A field of a posted object as text ("" if absent or of another type).
std::string Field(const nlohmann::json& body, const char* name) {
  auto value = body.find(name);
  if (value == body.end()) return "";
  if (value->is_string()) return value->get<std::string>();
  if (value->is_number_integer()) return absl::StrCat(value->get<int64_t>());
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
      server_(http::ServerOptions{options_.max_streams + 8,
                                  options_.max_body_bytes}),
      http_(&server_.routes()) {
  Route();
}

Server::~Server() = default;

absl::StatusOr<int> Server::Listen(const std::string& host, int port) {
  absl::StatusOr<int> bound = server_.Listen(host, port);
  if (!bound.ok()) return bound.status();
  port = *bound;
  // The names a request may give in Host: this machine's loopback names,
  // the address listened on, and those the deployment names.
  hosts_.clear();
  std::vector<std::string> names = {"127.0.0.1", "localhost", "[::1]"};
  names.push_back(host.find(':') != std::string::npos
                      ? absl::StrCat("[", host, "]")
                      : host);
  names.insert(names.end(), options_.allowed_hosts.begin(),
               options_.allowed_hosts.end());
  for (const std::string& name : names) {
    // A name given with its port (a proxy's) is taken as it is.
    hosts_.push_back(
        absl::StrContains(name, "]:") ||
                (name.find(':') != std::string::npos && name.front() != '[')
            ? name
            : absl::StrCat(name, ":", port));
  }
  return port;
}

void Server::Serve() { server_.Serve(); }

void Server::Stop() {
  board_.Stop();  // Streams notice within a second.
  server_.Stop();
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

  http_->Get("/api/state", [this](const httplib::Request&,
                                  httplib::Response& response) {
    Reply(response, 200,
          {{"summary", board_.Summary(absl::Now())},
           {"changes", board_.WaitForChanges(0, absl::ZeroDuration())}});
  });

  http_->Get("/api/events", [this](const httplib::Request& request,
                                   httplib::Response& response) {
    // Where to go on from: a reconnecting EventSource's Last-Event-ID, or
    // ?since= (0, or nothing: everything).
    int64_t since = 0;
    std::string from = request.get_header_value("Last-Event-ID");
    if (from.empty()) from = request.get_param_value("since");
    if (!from.empty() && (!absl::SimpleAtoi(from, &since) || since < 0)) {
      ReplyError(response, 400, "Last-Event-ID (or since) must be a version");
      return;
    }
    // Counted as it is taken, so that two requests at once cannot both pass
    // a cap that has room for one.
    if (streams_.fetch_add(1) >= options_.max_streams) {
      --streams_;
      ReplyError(response, 503,
                 absl::StrCat("too many open event streams (at most ",
                              options_.max_streams, ")"));
      return;
    }
    if (options_.streams_open != nullptr) options_.streams_open->Increment();
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
        [this](bool) {
          --streams_;
          if (options_.streams_open != nullptr) {
            options_.streams_open->Decrement();
          }
        });
  });

  // Each POST: its JSON body checked (PostedJson), then the action; either's
  // error is the reply.
  auto post = [this](const char* path, int success,
                     std::function<absl::StatusOr<nlohmann::json>(
                         const nlohmann::json& body)>
                         action) {
    http_->Post(path, [this, success, action](const httplib::Request& request,
                                              httplib::Response& response) {
      absl::StatusOr<nlohmann::json> body = PostedJson(request, hosts_);
      absl::StatusOr<nlohmann::json> done =
          body.ok() ? action(*body) : body.status();
      if (!done.ok()) {
        ReplyError(response, HttpStatusOf(done.status()),
                   done.status().message());
        return;
      }
      Reply(response, success, *done);
    });
  };
  post("/api/orders", 201, [this](const nlohmann::json& body) {
    absl::StatusOr<nlohmann::json> placed =
        board_.Place(Field(body, "pizza"), Field(body, "table"));
    prometheus::Counter* counted =
        placed.ok() ? options_.orders_placed : options_.orders_failed;
    if (counted != nullptr) counted->Increment();
    return placed;
  });
  post(
      "/api/burst", 200,
      [this](const nlohmann::json& body) -> absl::StatusOr<nlohmann::json> {
        int64_t count = 0;
        if (!absl::SimpleAtoi(Field(body, "count"), &count)) {
          return absl::InvalidArgumentError("count must be a number of orders");
        }
        absl::StatusOr<nlohmann::json> placed = board_.PlaceBurst(count);
        if (placed.ok() && options_.orders_placed != nullptr &&
            placed->contains("placed") && (*placed)["placed"].is_number()) {
          options_.orders_placed->Increment((*placed)["placed"].get<double>());
        }
        return placed;
      });

  // Unknown paths and methods, and bodies over the limit (413): JSON errors.
  http_->set_error_handler(
      [](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return;  // A route's own error.
        const char* what = response.status == 413   ? "request body too large"
                           : response.status == 405 ? "method not allowed"
                           : response.status == 400 ? "bad request"
                                                    : "no such page";
        ReplyError(response, response.status, what);
      });
}

}  // namespace kitchen::board
