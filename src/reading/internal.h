// Storage helpers shared by the reading service and the billable-read loader. Not a public
// interface: other modules use reading.h and billable.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "reading/review.h"
#include "store/db.h"

namespace gridmis::reading::internal {

// The nine register columns ("total_dwh", ...) in ReadRegisterNames() order.
const std::vector<std::string>& RegisterColumns();
// "r.total_dwh, r.sharp_dwh, ..." for `alias`.
std::string RegisterSelect(std::string_view alias);
// The nine nullable register columns from `at`: NULL columns are left out.
Registers ReadRegisterColumns(const store::Row& row, int at);
// Nine parameters, NULL for registers `regs` does not have.
void AppendRegisterParams(const Registers& regs, store::Params* params);

// The meter installations of the points with their readings, by point, in installation order.
Result<std::map<int64_t, std::vector<MeterInstall>>> LoadInstalls(
    store::Connection& c, const std::vector<int64_t>& point_ids);

// "a,b,c" → {"a","b","c"} (empty items dropped).
std::vector<std::string> SplitList(std::string_view s);
std::string JoinList(const std::vector<std::string>& items);

// Runs `fn` over `ids` in chunks of at most `size`.
template <typename Fn>
Status ForChunks(const std::vector<int64_t>& ids, size_t size, Fn fn) {
  for (size_t i = 0; i < ids.size(); i += size) {
    std::vector<int64_t> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + size)));
    RETURN_IF_ERROR(fn(chunk));
  }
  return Status::Ok();
}

}  // namespace gridmis::reading::internal
