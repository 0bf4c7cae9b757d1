// (being written)
#include "acquisition/migrations.h"
namespace gridmis::acquisition {
std::string_view CollectionSchemaSql(bool) { return "CREATE TABLE acquisition_v2_pending (id BIGINT)"; }
}  // namespace gridmis::acquisition
