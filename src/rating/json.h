// JSON forms of the rating engine's input and output and of the tariff catalogue: the trial
// calculation's request and response (POST /api/v1/billing/trial, `gridmis bill trial`), the
// golden test files (tests/data/rating/*.json) and GET /api/v1/tariffs.
//
// Numbers that are money, energy, prices or rates are decimal strings, never JSON floats:
// amounts "123.45", energies "123.4567", prices "0.5380" (at least 4 decimals).
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "rating/rating.h"
#include "rating/tariff.h"

namespace gridmis::rating {

// The trial JSON (documented in data/tariffs/README.md and the OpenAPI schema
// "RatingInput"). Strict: an unknown field, a wrong type or a bad value is InvalidArgument
// whose message and field() name the JSON path, e.g. "meters[1].end.peak".
Result<RatingInput> RatingInputFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const RatingInput& in);

nlohmann::json ToJson(const RatedBill& bill);
nlohmann::json ToJson(const BillLine& line);

// The catalogue for the console: province, policies, sources, TOU tables, loss tables, funds and
// every tariff with its versions (prices per season and period, tiers, basic-charge prices).
nlohmann::json ToJson(const TariffCatalogue& catalogue);
nlohmann::json ToJson(const Tariff& tariff);
nlohmann::json ToJson(const TariffVersion& version);
nlohmann::json ToJson(const Policy& policy);

}  // namespace gridmis::rating
