// `gridmis frame decode HEX` and `gridmis frame encode ...`: field engineers read captured
// Q/GDW 1376.1 and DL/T 645 traffic and build the common requests and commands.
#pragma once

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace gridmis::cli {

// Adds the `frame` subcommand to `cli`; the returned function, called after parsing, runs it
// when it was given (its exit code) and returns nullopt otherwise.
std::function<std::optional<int>()> AddFrameCommand(CLI::App& cli);

}  // namespace gridmis::cli
