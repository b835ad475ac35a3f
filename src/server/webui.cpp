// Serves the embedded web UI (see webui.h): the files come from webui_files(), generated at build
// time from src/server/webui/ and, when installed, Debian's marked.js and highlight.js.
#include "server/webui.h"

#include <httplib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace longctx::server {
namespace {

std::string_view content_type(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}

// A strong validator of the file's bytes (FNV-1a, 64 bits): the files only change with the binary.
std::string etag_of(const WebuiFile& f) {
  uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < f.size; ++i) {
    h ^= f.data[i];
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

const WebuiFile* find_file(std::string_view name) {
  for (const WebuiFile& f : webui_files()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

void serve_file(const WebuiFile& f, const std::string& etag, const httplib::Request& req,
                httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", etag);
  res.set_header("X-Content-Type-Options", "nosniff");
  if (std::string_view(f.name) == "index.html") {
    // The page loads nothing from elsewhere, and model output is never markup (defence in depth
    // behind the page's own escaping). connect-src stays open for the ?api= development mode.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self'; "
                   "img-src 'self' data:; connect-src *; object-src 'none'; base-uri 'none'; "
                   "frame-ancestors 'none'");
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(reinterpret_cast<const char*>(f.data), f.size, std::string(content_type(f.name)));
}

}  // namespace

void register_webui(httplib::Server& svr) {
  const WebuiFile* index = find_file("index.html");
  if (index != nullptr) {
    const std::string tag = etag_of(*index);
    auto page = [index, tag](const httplib::Request& req, httplib::Response& res) {
      serve_file(*index, tag, req, res);
    };
    svr.Get("/", page);
    svr.Get("/index.html", page);
  }
  for (const WebuiFile& f : webui_files()) {
    const std::string tag = etag_of(f);
    const WebuiFile* p = &f;
    std::string pattern = "/ui/";  // a regex for cpp-httplib: escape the dots of the name
    for (const char* c = f.name; *c != '\0'; ++c) {
      if (*c == '.') pattern += '\\';
      pattern += *c;
    }
    svr.Get(pattern, [p, tag](const httplib::Request& req, httplib::Response& res) {
      serve_file(*p, tag, req, res);
    });
  }
}

}  // namespace longctx::server
