// The web UI of `longctx serve`: a chat page (src/server/webui/: index.html, app.js, ...) embedded
// in the binary at build time (cmake/embed_files.cmake) and served at GET / and GET /ui/<file>,
// with no network access at run time. The page talks to the server's own OpenAI API.
#pragma once

#include <cstddef>
#include <span>

namespace httplib {
class Server;
}

namespace longctx::server {

// One embedded file: its name under /ui/ ("index.html" is also served at /).
struct WebuiFile {
  const char* name;
  const unsigned char* data;
  std::size_t size;
};

// Every embedded file (defined in the build's generated webui_files.cpp).
std::span<const WebuiFile> webui_files();

// Adds GET / (index.html), GET /index.html and GET /ui/<file>, each with its Content-Type,
// Cache-Control: no-cache and an ETag (If-None-Match answers 304). An unknown /ui/ file is a 404.
// These routes need no API key: the server's key check must let "/" and "/ui/" through (the page
// asks the user for the key and sends it with its API calls).
void register_webui(httplib::Server& svr);

}  // namespace longctx::server
