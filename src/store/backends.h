// Internal: the backend factories behind Database::Open.
#pragma once

#include <memory>
#include <string>

#include "store/db.h"

namespace gridmis::store {

Result<std::unique_ptr<Database>> OpenSqlite(std::string path, const DatabaseOptions& options);
Result<std::unique_ptr<Database>> OpenPostgres(std::string url, const DatabaseOptions& options);

}  // namespace gridmis::store
