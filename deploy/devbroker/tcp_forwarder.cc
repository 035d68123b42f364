// File: deploy/devbroker/tcp_forwarder.cc

#include "deploy/devbroker/tcp_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "logging/log.h"

namespace kitchen::devbroker {
namespace {

// Binds and listens on a loopback address; returns the fd or an error.
absl::StatusOr<int> Listen(int family, int port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int result;
  if (family == AF_INET) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    result = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } else {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(static_cast<uint16_t>(port));
    address.sin6_addr = in6addr_loopback;
    result = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  }
  if (result != 0 || ::listen(fd, 128) != 0) {
    int error = errno;
    ::close(fd);
    return absl::ErrnoToStatus(
        error,
        absl::StrCat("cannot listen on ",
                     family == AF_INET ? "127.0.0.1" : "[::1]", ":", port));
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

// Connects to "host:port"; -1 if it does not answer.
int Connect(absl::string_view target) {
  size_t colon = target.rfind(':');
  if (colon == absl::string_view::npos) return -1;
  std::string host(target.substr(0, colon));
  std::string port(target.substr(colon + 1));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* address = found; address != nullptr;
       address = address->ai_next) {
    fd = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC,
                  address->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

// Writes all of `size` bytes; false if the peer went away.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = ::send(fd, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpForwarder>> TcpForwarder::Start(
    int port, std::vector<std::string> targets) {
  std::unique_ptr<TcpForwarder> forwarder(new TcpForwarder(std::move(targets)));
  absl::StatusOr<int> ipv4 = Listen(AF_INET, port);
  if (!ipv4.ok()) return ipv4.status();
  forwarder->listen_fds_.push_back(*ipv4);
  forwarder->port_ = BoundPort(*ipv4);
  // Best effort: a machine without IPv6 loopback simply has no [::1] listener.
  if (absl::StatusOr<int> ipv6 = Listen(AF_INET6, forwarder->port_);
      ipv6.ok()) {
    forwarder->listen_fds_.push_back(*ipv6);
  }
  if (::pipe2(forwarder->wake_pipe_, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe");
  }
  forwarder->accept_thread_ =
      std::thread([f = forwarder.get()] { f->AcceptLoop(); });
  return forwarder;
}

TcpForwarder::~TcpForwarder() {
  if (wake_pipe_[1] >= 0) {
    char stop = 's';
    (void)::write(wake_pipe_[1], &stop, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  for (int fd : listen_fds_) ::close(fd);
  absl::MutexLock lock(&mutex_);
  for (auto& connection : connections_) {
    // Shutting both ends down makes the relay's poll return.
    ::shutdown(connection->client_fd, SHUT_RDWR);
    ::shutdown(connection->target_fd, SHUT_RDWR);
    connection->relay.join();
    ::close(connection->client_fd);
    ::close(connection->target_fd);
  }
  connections_.clear();
  for (int fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void TcpForwarder::AcceptLoop() {
  std::vector<pollfd> watched;
  for (int fd : listen_fds_) watched.push_back({fd, POLLIN, 0});
  watched.push_back({wake_pipe_[0], POLLIN, 0});
  while (true) {
    if (::poll(watched.data(), watched.size(), -1) < 0) {
      if (errno == EINTR) continue;
      logging::Error("forwarder poll: %s", std::strerror(errno));
      return;
    }
    if (watched.back().revents != 0) return;  // Stop requested.
    for (size_t i = 0; i + 1 < watched.size(); ++i) {
      if ((watched[i].revents & POLLIN) == 0) continue;
      int client = ::accept4(watched[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int target = ConnectToATarget();
      if (target < 0) {
        logging::Warning("bootstrap connection refused: no broker is up");
        ::close(client);
        continue;
      }
      int one = 1;
      ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ReapFinished();
      auto connection = std::make_unique<Connection>();
      connection->client_fd = client;
      connection->target_fd = target;
      Connection* raw = connection.get();
      absl::MutexLock lock(&mutex_);
      connections_.push_back(std::move(connection));
      raw->relay = std::thread([raw] { Relay(raw); });
    }
  }
}

int TcpForwarder::ConnectToATarget() {
  for (const std::string& target : targets_) {
    int fd = Connect(target);
    if (fd >= 0) return fd;
  }
  return -1;
}

void TcpForwarder::Relay(Connection* connection) {
  pollfd ends[2] = {{connection->client_fd, POLLIN, 0},
                    {connection->target_fd, POLLIN, 0}};
  char buffer[64 * 1024];
  bool open = true;
  while (open) {
    if (::poll(ends, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int from = 0; from < 2 && open; ++from) {
      if (ends[from].revents == 0) continue;
      ssize_t got = ::recv(ends[from].fd, buffer, sizeof(buffer), 0);
      if (got <= 0 ||
          !WriteAll(ends[1 - from].fd, buffer, static_cast<size_t>(got))) {
        open = false;
      }
    }
  }
  ::shutdown(connection->client_fd, SHUT_RDWR);
  ::shutdown(connection->target_fd, SHUT_RDWR);
  connection->done = true;
}

void TcpForwarder::ReapFinished() {
  absl::MutexLock lock(&mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done) {
      (*it)->relay.join();
      ::close((*it)->client_fd);
      ::close((*it)->target_fd);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace kitchen::devbroker
