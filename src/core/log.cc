#include "core/log.h"

#include <spdlog/spdlog.h>

#include <string>

namespace gridmis {

void InitLogging(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
}

}  // namespace gridmis
