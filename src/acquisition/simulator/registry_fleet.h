// A simulated fleet of the terminal registry: the installed terminals and the meters behind
// them, each meter anchored to its last approved read so that the simulated registers continue
// from what the reading module already holds (`gridmis simulate --db`, `gridmis demo`).
#pragma once

#include <cstdint>
#include <vector>

#include "acquisition/simulator/simulator.h"
#include "core/status.h"
#include "store/db.h"

namespace gridmis::acquisition::simulator {

// Read-only. A meter's mean daily use and its anchor come from its latest approved read with a
// total register (consumption / days; the registers at the end of the read date, i.e. at 00:00
// of the next day); meters never read get the seed's. Errors name the terminal.
Result<std::vector<SimTerminal>> LoadRegistryFleet(store::Database& db, uint64_t seed);

}  // namespace gridmis::acquisition::simulator
