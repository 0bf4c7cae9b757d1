// Logging through spdlog. Call InitLogging once from main; libraries log with spdlog::info etc.
#pragma once

#include <string_view>

namespace gridmis {

// Sets the global level ("info", "debug", ...) and a pattern with UTC-free local timestamps.
void InitLogging(std::string_view level);

}  // namespace gridmis
