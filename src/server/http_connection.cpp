// ConnectionServer: the connection loop, its buffered socket stream and the worker pool
// (http_connection.h).
#include "server/http_connection.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>

namespace longctx::server {
namespace {

using Clock = std::chrono::steady_clock;

// Gives back the pages of this thread's stack below the current frame (less a margin): a
// request that once went deep (cpp-httplib parses a Range header with std::regex, which
// recurses per character: an 8 KB header takes ~4 MB of stack) would otherwise leave them
// resident in that worker for good. The range lies wholly below the stack pointer, so nothing
// live is in it; the kernel maps zero pages back in if it is used again.
void release_unused_stack() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* base = nullptr;
  size_t size = 0;
  const int rc = pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0) return;
  constexpr uintptr_t kPage = 4096, kMargin = 64 << 10;
  volatile char here = 0;
  const auto sp = reinterpret_cast<uintptr_t>(&here);
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(base) + kPage - 1) & ~(kPage - 1);
  if (sp < lo + kMargin + kPage) return;
  const uintptr_t hi = (sp - kMargin) & ~(kPage - 1);
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

// Waits up to `ms` (< 0: no wait) for `events` on the socket; >0 ready, 0 timed out, <0 error.
int wait_socket(socket_t sock, short events, int ms) {
  pollfd p{sock, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && (p.revents & POLLNVAL)) return -1;
    return r;
  }
}

int to_ms(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in->sin6_addr, buf, sizeof(buf));
    port = ntohs(in->sin6_port);
  }
  ip = buf;
}

// One connection's stream. Reads go through a buffer that lives as long as the connection, so
// bytes a client sent ahead (the next pipelined request) wait there for the next request
// instead of being dropped with a per-request stream. Each read waits at most the read timeout
// and never past the current request's deadline.
class BufferedSocketStream final : public httplib::Stream {
 public:
  BufferedSocketStream(socket_t sock, int read_ms, int write_ms)
      : sock_(sock), read_ms_(read_ms), write_ms_(write_ms) {}

  bool has_buffered() const { return begin_ < end_; }
  // A new request starts: its bytes must all arrive within `seconds` (0: no deadline).
  void start_request(int seconds) {
    deadline_ = seconds > 0 ? Clock::now() + std::chrono::seconds(seconds) : Clock::time_point{};
  }
  // The request has been read: what follows (the handler, the answer) has no read deadline.
  void end_request() { deadline_ = Clock::time_point{}; }
  bool past_deadline() const {
    return deadline_ != Clock::time_point{} && Clock::now() >= deadline_;
  }

  bool is_readable() const override {
    return has_buffered() || wait_socket(sock_, POLLIN, read_wait_ms()) > 0;
  }
  bool is_writable() const override {
    return wait_socket(sock_, POLLOUT, write_ms_) > 0 && peer_alive();
  }
  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (!has_buffered()) {
      if (size >= sizeof(buf_)) return recv_some(ptr, size);  // large body reads go direct
      const ssize_t n = recv_some(buf_, sizeof(buf_));
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buf_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (wait_socket(sock_, POLLOUT, write_ms_) <= 0) return -1;
    for (;;) {
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // The read timeout, cut to what is left before the deadline.
  int read_wait_ms() const {
    if (deadline_ == Clock::time_point{}) return read_ms_;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, read_ms_));
  }
  ssize_t recv_some(char* dst, size_t size) {
    if (past_deadline() || wait_socket(sock_, POLLIN, read_wait_ms()) <= 0) return -1;
    for (;;) {
      const ssize_t n = ::recv(sock_, dst, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }
  // Closed by the peer: readable with nothing to read. (Bytes waiting, e.g. a pipelined
  // request, mean it is still there.)
  bool peer_alive() const {
    if (has_buffered()) return true;
    const int r = wait_socket(sock_, POLLIN, 0);
    if (r == 0) return true;
    if (r < 0) return false;
    char c;
    return ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  socket_t sock_;
  int read_ms_, write_ms_;
  Clock::time_point deadline_{};
  char buf_[16384];
  size_t begin_ = 0, end_ = 0;
};

// Set by the pool's enqueue for a connection over the limit, read by the task it runs inline.
thread_local bool t_refuse = false;

void refuse(socket_t sock) {
  static const std::string kBusy = [] {
    const std::string body =
        "{\"error\":{\"code\":503,\"message\":\"too many open connections, try again\","
        "\"type\":\"unavailable_error\"}}";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  (void)::send(sock, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  // Read what the client already sent (without waiting): closing a socket with unread bytes
  // resets the connection, and the client could lose the answer.
  char sink[4096];
  for (int i = 0; i < 16 && ::recv(sock, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
  }
}

}  // namespace

class ConnectionServer::Queue final : public httplib::TaskQueue {
 public:
  Queue(ConnectionServer& owner, size_t threads) : owner_(owner), pool_(threads) {}
  void enqueue(std::function<void()> fn) override {
    const int64_t open = owner_.open_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (owner_.max_connections_ > 0 && open > owner_.max_connections_) {
      // Answered here, on the accepting thread: a short write, then closed.
      struct Refusing {
        Refusing() { t_refuse = true; }
        ~Refusing() { t_refuse = false; }
      } refusing;
      fn();
      owner_.open_.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
    pool_.enqueue([this, fn = std::move(fn)] {
      fn();
      release_unused_stack();
      if (owner_.open_.fetch_sub(1, std::memory_order_acq_rel) == 1) malloc_trim(0);
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  ConnectionServer& owner_;
  httplib::ThreadPool pool_;
};

void ConnectionServer::use_workers(int threads) {
  new_task_queue = [this, threads] { return new Queue(*this, static_cast<size_t>(threads)); };
}

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  bool ret = false;
  if (t_refuse) {
    refuse(sock);
  } else {
    BufferedSocketStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                              to_ms(write_timeout_sec_, write_timeout_usec_));
    const int keep_alive_ms = static_cast<int>(keep_alive_timeout_sec_ * 1000);
    for (size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET; --count) {
      // The next request: bytes already read ahead, or some within the keep-alive timeout.
      if (!strm.has_buffered() && wait_socket(sock, POLLIN, keep_alive_ms) <= 0) break;
      strm.start_request(request_deadline_s_);
      bool connection_closed = false;
      // The deadline holds for every read of this request (cpp-httplib reads the body just
      // before the handler); the handler and the answer only write.
      ret = process_request(strm, count == 1, connection_closed, nullptr);
      strm.end_request();
      if (!ret || connection_closed) break;
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

}  // namespace longctx::server
