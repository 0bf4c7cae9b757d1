// The data/tariffs/*.toml files compiled into the binary (generated at build time by
// embed_tariffs.cmake), so that the binary stands alone.
#pragma once

#include <map>
#include <string>

namespace gridmis::rating::internal {

// File name ("nmg_west.toml") → text.
const std::map<std::string, std::string>& EmbeddedTariffFiles();

}  // namespace gridmis::rating::internal
