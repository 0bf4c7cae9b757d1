// (being written)
#include "acquisition/migrations.h"
namespace gridmis::acquisition {
std::string_view CommandSchemaSql(bool) { return "CREATE TABLE acquisition_v3_pending (id BIGINT)"; }
}  // namespace gridmis::acquisition
