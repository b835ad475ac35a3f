// The server's connection handling (server/http_connection.h) over raw sockets: pipelined
// requests are all answered in order, a client trickling its request is cut off at the request
// deadline, and connections over the limit are answered 503 at once while the others are served.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/openai.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using testing::TestServer;
using Clock = std::chrono::steady_clock;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

// Everything the server sends until it closes the connection, `stop` is seen `count` times, or
// `limit` passes.
std::string read_until(int fd, const std::string& stop, int count, std::chrono::seconds limit) {
  std::string got;
  const auto end = Clock::now() + limit;
  char buf[4096];
  auto seen = [&] {
    int n = 0;
    for (size_t at = got.find(stop); at != std::string::npos; at = got.find(stop, at + 1)) ++n;
    return n;
  };
  while (Clock::now() < end && seen() < count) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int count_of(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::string post_request(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Three requests in one write, before any answer: three answers, in order.
TEST(HttpConnection, PipelinedRequestsAreAllAnswered) {
  TestServer s(1, 256);
  ASSERT_TRUE(s.ok());
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  const std::string tok = post_request("/tokenize", R"({"content":"hello world"})");
  ASSERT_TRUE(send_all(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + tok +
                               "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = read_until(fd, "HTTP/1.1 200", 3, std::chrono::seconds(20));
  // Wait for the third body too: the models list names the alias.
  const std::string rest = got.find("\"tiny\"") == std::string::npos
                               ? read_until(fd, "\"tiny\"", 1, std::chrono::seconds(5))
                               : std::string();
  ::close(fd);
  const std::string all = got + rest;
  EXPECT_EQ(count_of(all, "HTTP/1.1 200"), 3) << all;
  const size_t health = all.find("\"ok\""), tokens = all.find("\"tokens\""),
               models = all.find("\"tiny\"");
  ASSERT_NE(health, std::string::npos) << all;
  ASSERT_NE(tokens, std::string::npos) << all;
  ASSERT_NE(models, std::string::npos) << all;
  EXPECT_LT(health, tokens);
  EXPECT_LT(tokens, models);
}

// A client that sends its request a byte at a time, slower than the deadline allows, is cut off
// at the deadline although every single read is within the read timeout; the server still
// answers others meanwhile and after.
TEST(HttpConnection, ATricklingClientIsCutOffAtTheRequestDeadline) {
  HttpOptions ho;
  ho.idle_timeout_s = 2;
  TestServer s(1, 256, ho);
  ASSERT_TRUE(s.ok());
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  const std::string req = post_request("/tokenize", R"({"content":"a slow request body"})");
  const auto t0 = Clock::now();
  bool cut = false;
  for (char c : req) {  // ~120 bytes at 100 ms each: 12 s if the server waited for all of it
    if (!send_all(fd, std::string(1, c))) {
      cut = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {  // an answer (an error) or the close
      cut = true;
      break;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::string got = read_until(fd, "\r\n\r\n", 1, std::chrono::seconds(2));
  ::close(fd);
  EXPECT_TRUE(cut);
  EXPECT_GE(secs, 1.5);
  EXPECT_LT(secs, 5.0);
  EXPECT_EQ(got.find("HTTP/1.1 200"), std::string::npos) << got;
  auto c = s.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

// With room for 3 open connections and 2 workers: two idle connections hold the workers, a
// third waits for one, a fourth is answered 503 at once; once they are gone, requests are
// served again.
TEST(HttpConnection, ConnectionsOverTheLimitGet503) {
  HttpOptions ho;
  ho.http_threads = 2;
  ho.max_connections = 3;
  TestServer s(1, 256, ho);
  ASSERT_TRUE(s.ok());
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(connect_to(s.port));
    ASSERT_GE(idle.back(), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all three accepted
  const int extra = connect_to(s.port);
  ASSERT_GE(extra, 0);
  const std::string got = read_until(extra, "}", 1, std::chrono::seconds(3));
  ::close(extra);
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
  EXPECT_NE(got.find("too many open connections"), std::string::npos) << got;
  for (int fd : idle) ::close(fd);
  // The idle ones are closed (and dropped by the keep-alive wait): served again.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    auto c = s.client();
    auto h = c.Get("/health");
    served = h && h->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace longctx::server
