// HTTP routes of the org module: login/logout, /me, departments, users, roles, API tokens and
// the audit log.
#pragma once

#include "http/router.h"
#include "org/org.h"

namespace gridmis::org {

struct RouteOptions {
  bool cookie_secure = false;  // add "Secure" to the session cookie (behind TLS)
};

inline constexpr const char* kSessionCookie = "gridmis_session";

void AddRoutes(http::Router& router, OrgService& org, store::Database& db, const Clock& clock,
               RouteOptions options);

// The Authenticator for the router: the session cookie, or "Authorization: Bearer <api token>".
http::Authenticator MakeAuthenticator(OrgService& org);

}  // namespace gridmis::org
