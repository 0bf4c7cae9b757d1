// The business modules of the domain model, constructed once and their routes registered.
#pragma once

#include <memory>

#include "core/status.h"
#include "core/time.h"

namespace gridmis {
namespace store {
class Database;
}
namespace org {
class OrgService;
}
namespace http {
class Router;
}
namespace grid {
class GridService;
}
namespace customer {
class CustomerService;
}
namespace metering {
class MeteringService;
}
namespace acquisition {
class TerminalService;
}

namespace app {

class Domain {
 public:
  static Result<std::unique_ptr<Domain>> Create(store::Database& db, const Clock& clock,
                                                org::OrgService& org, http::Router& router);
  ~Domain();

  grid::GridService& grid();
  customer::CustomerService& customers();
  metering::MeteringService& metering();
  acquisition::TerminalService& terminals();

 private:
  Domain();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace app
}  // namespace gridmis
