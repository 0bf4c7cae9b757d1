// `gridmis simulate`: a fleet of simulated terminals against a front end.
#pragma once

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace gridmis::cli {

// Adds the `simulate` subcommand; the returned function runs it when it was given.
std::function<std::optional<int>()> AddSimulateCommand(CLI::App& cli);

}  // namespace gridmis::cli
