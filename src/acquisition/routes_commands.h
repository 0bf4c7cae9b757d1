// HTTP routes of terminal commands, on-demand reads (召测) and the front end's live state (link
// state, communication log, statistics). Registered with their OpenAPI schemas.
#pragma once

#include "acquisition/commands.h"
#include "http/router.h"

namespace gridmis::acquisition {

//   POST /api/v1/terminal-commands               acquisition.command  issue
//   GET  /api/v1/terminal-commands               acquisition.read     list (newest first)
//   GET  /api/v1/terminal-commands/{id}          acquisition.read
//   POST /api/v1/terminal-commands/{id}/cancel   acquisition.command  pending only, {version}
//   POST /api/v1/metering-points/{id}/read-now   acquisition.collect  {items, via}
//   GET  /api/v1/terminals/{id}/comm-log         acquisition.read     ?before=&limit=
//   GET  /api/v1/terminals/{id}/link             acquisition.read     live link state
//   GET  /api/v1/acquisition/front-end           acquisition.read     front-end statistics
// The last four answer 503 when no front end runs in this process. `commands` must outlive the
// router.
void AddCommandRoutes(http::Router& router, CommandService& commands);

}  // namespace gridmis::acquisition
