#include "cli/simulate_cmd.h"

#include <CLI/CLI.hpp>

namespace gridmis::cli {
std::function<std::optional<int>()> AddSimulateCommand(CLI::App&) {
  return [] { return std::optional<int>(); };  // (being written)
}
}  // namespace gridmis::cli
