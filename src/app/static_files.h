// Serves the built web console (web/dist) on the API's origin: files by path, index.html for
// client-side routes, and a plain page explaining how to build it when it is missing.
#pragma once

#include <string>

#include "core/status.h"
#include "http/http.h"

namespace gridmis::app {

// `configured` when set (must exist), else the first of <binary dir>/../../web/dist,
// <binary dir>/web, ./web/dist that holds an index.html; "" when none does.
Result<std::string> ResolveStaticDir(const std::string& configured);

http::Handler MakeStaticHandler(std::string dir);

}  // namespace gridmis::app
