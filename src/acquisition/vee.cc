// (being written)
#include "acquisition/migrations.h"
namespace gridmis::acquisition {
std::string_view VeeSchemaSql(bool) { return "CREATE TABLE acquisition_v4_pending (id BIGINT)"; }
}  // namespace gridmis::acquisition
