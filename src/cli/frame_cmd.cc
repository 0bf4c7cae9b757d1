#include "cli/frame_cmd.h"

#include <CLI/CLI.hpp>

namespace gridmis::cli {
std::function<std::optional<int>()> AddFrameCommand(CLI::App&) {
  return [] { return std::optional<int>(); };  // (being written)
}
}  // namespace gridmis::cli
