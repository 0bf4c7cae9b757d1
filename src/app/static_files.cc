#include "app/static_files.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace gridmis::app {

namespace fs = std::filesystem;

Result<std::string> ResolveStaticDir(const std::string& configured) {
  if (!configured.empty()) {
    if (!fs::is_directory(configured)) {
      return InvalidArgument("static_dir '" + configured + "' is not a directory", "static_dir");
    }
    return fs::canonical(configured).string();
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path() / "../../../web/dist");  // build/src/cli/gridmis
    candidates.push_back(exe.parent_path() / "web");
  }
  candidates.push_back(fs::current_path() / "web/dist");
  for (const auto& c : candidates) {
    if (fs::exists(c / "index.html", ec)) return fs::canonical(c, ec).string();
  }
  return std::string();
}

namespace {

std::string ContentType(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".woff") return "font/woff";
  if (ext == ".ttf") return "font/ttf";
  return "application/octet-stream";
}

constexpr const char* kNoConsole = R"(<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridmis</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>gridmis</h1>
<p>The API is running: <a href="/api/v1/health">/api/v1/health</a>,
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>, <a href="/metrics">/metrics</a>.</p>
<p>The web console has not been built. Build it with <code>scripts/demo.sh</code> or set
<code>static_dir</code> in the configuration to the folder holding <code>index.html</code>.</p>
</body></html>
)";

}  // namespace

http::Handler MakeStaticHandler(std::string dir) {
  return [dir](http::Request& req) -> http::Response {
    http::Response r;
    if (dir.empty()) {
      if (req.path != "/" && req.path != "/index.html") {
        r.status = 404;
        r.body = R"({"error":{"code":"NOT_FOUND","message":"no such page"}})";
        return r;
      }
      r.content_type = "text/html; charset=utf-8";
      r.body = kNoConsole;
      return r;
    }
    // Refuse anything that could leave the folder.
    if (req.path.find("..") != std::string::npos || req.path.find('\\') != std::string::npos ||
        req.path.empty() || req.path[0] != '/') {
      r.status = 400;
      r.body = R"({"error":{"code":"INVALID_ARGUMENT","message":"bad path"}})";
      return r;
    }
    fs::path base(dir);
    fs::path p = base / req.path.substr(1);
    std::error_code ec;
    bool is_file = fs::is_regular_file(p, ec);
    if (!is_file) {
      // Client-side routes (no extension) get the app; missing assets get 404.
      if (fs::path(req.path).has_extension()) {
        r.status = 404;
        r.body = R"({"error":{"code":"NOT_FOUND","message":"no such file"}})";
        return r;
      }
      p = base / "index.html";
    }
    r.content_type = ContentType(p);
    r.file_path = p.string();
    bool hashed_asset = req.path.rfind("/assets/", 0) == 0;
    r.headers.emplace_back("Cache-Control",
                           hashed_asset ? "public, max-age=31536000, immutable" : "no-cache");
    return r;
  };
}

}  // namespace gridmis::app
