// The tariff catalogue (电价目录): versioned tariffs with effective dates, loaded from data files
// (TOML, one file per province/catalogue, shipped under data/tariffs/ and compiled into the
// binary; more directories may be configured). Every figure is data: prices, tier bounds, TOU
// ratios and period tables, demand and capacity prices, fund rates and their exemptions, loss
// tables, and the province's rating policies (tariffs.md §0.2).
//
// SKETCH by the lead: the public names below are the contract the bill run, the trial API and
// the console use; the rating engine's owner completes the data model.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::rating {

// Customer classes (用电类别) a tariff belongs to; funds and late fees depend on them.
enum class TariffCategory { kResidential, kCommercial, kLargeIndustry, kAgricultural, kOther };
std::string_view CategoryName(TariffCategory c);  // residential, commercial, ...

struct TariffVersion;  // completed by the owner

class TariffCatalogue {
 public:
  // Loads every *.toml of the compiled-in catalogues plus `extra_dirs`; errors name the file,
  // line and key.
  static Result<std::shared_ptr<const TariffCatalogue>> Load(
      const std::vector<std::string>& extra_dirs = {});
  // From TOML texts (file name → text), for tests.
  static Result<std::shared_ptr<const TariffCatalogue>> FromTexts(
      const std::map<std::string, std::string>& files);

  // The version of `code` in force on `day` (NotFound naming code and day).
  Result<const TariffVersion*> Find(std::string_view code, Date day) const;
  // ...
};

}  // namespace gridmis::rating
