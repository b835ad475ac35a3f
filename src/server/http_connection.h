// The HTTP server's connections, in place of cpp-httplib 0.11's loop: one buffered stream per
// connection, so that pipelined requests (sent before the first answer) keep the bytes read
// ahead of the first one; a deadline on reading each request, so that a client trickling a byte
// at a time cannot hold a worker past it; and a limit on open connections. Requests are still
// parsed, routed and answered by cpp-httplib (Server::process_request); only the socket handling
// and the worker pool's bookkeeping are ours.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>

namespace longctx::server {

class ConnectionServer : public httplib::Server {
 public:
  // A request's line, headers and body must all arrive within this many seconds of its first
  // byte (0: no deadline, only the per-read timeout).
  void set_request_deadline(int seconds) { request_deadline_s_ = seconds; }
  // Connections beyond this many open at once (being served or waiting for a worker) are
  // answered 503 and closed as they arrive (0: no limit).
  void set_max_connections(int64_t n) { max_connections_ = n; }
  // Installs the worker pool: `threads` workers serve connections first come, first served;
  // when a connection ends its worker's deep stack pages go back to the system, and when it was
  // the last open one the heap is trimmed.
  void use_workers(int threads);
  int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }

 private:
  class Queue;
  bool process_and_close_socket(socket_t sock) override;

  int request_deadline_s_ = 0;
  int64_t max_connections_ = 0;
  std::atomic<int64_t> open_{0};
};

}  // namespace longctx::server
