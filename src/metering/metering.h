// Metering management (计量管理): metering points (计量点) of customers, meter assets with their
// CT/PT ratios and multiplier (倍率), and the installation history (装拆记录) with the register
// readings at each installation and removal.
//
// Data scope: a metering point belongs to a department and to a customer; it is visible when
// org::Actor::CanSee(point department, customer's account manager) — a "self" scope user sees the
// points of the customers they manage. Meters are department-owned assets (grid/records.h).
// Records outside the scope are NotFound. Reads need metering.read, writes metering.write; every
// write is audited in its transaction; edits carry their version (stale: Aborted, HTTP 409).
//
// Invariants, also enforced by unique indexes: a point has at most one installed meter and a
// meter is installed at one point at a time. A meter's registers and CT/PT ratios cannot change
// while it is installed (they define what its readings mean); each installation keeps the
// ratios it was installed with.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/time.h"
#include "grid/records.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::metering {

// ---- Registers and ratios (pure) ----

// The registers a meter may have, in display order: total, sharp, peak, flat, valley (active
// import: 总/尖/峰/平/谷), export, reactive_import, reactive_export, max_demand.
const std::vector<std::string>& AllRegisters();
// Cumulative registers never decrease (except on rollover); max_demand is not cumulative.
bool IsCumulativeRegister(std::string_view name);

// A transformer ratio "primary/secondary", e.g. CT "200/5" (amperes), PT "10000/100" (volts).
struct Ratio {
  int64_t primary = 1;
  int64_t secondary = 1;
  // "200/5": two positive integers up to 1,000,000; the error names `field`.
  static Result<Ratio> Parse(std::string_view text, std::string_view field);
  std::string ToString() const;
  bool operator==(const Ratio&) const = default;
};

// 倍率 = CT ratio × PT ratio, which must be a whole number (InvalidArgument naming ct_ratio).
Result<int64_t> Multiplier(const Ratio& ct, const Ratio& pt);

// Register readings, kWh (kvarh; kW for max_demand) as exact Energy.
using Readings = std::map<std::string, Energy>;
// "1234.56": four decimals, trailing zeros trimmed down to two.
std::string FormatKwh(Energy e);

// ---- Records ----

struct MeteringPoint {
  int64_t id = 0;
  std::string code;  // unique
  std::string name;
  int64_t customer_id = 0;
  std::string customer_no;    // read-only
  std::string customer_name;  // read-only
  std::optional<int64_t> transformer_area_id;
  int64_t department_id = 0;
  int64_t voltage_v = 0;  // supply voltage, a standard level
  std::string tariff_code;
  int64_t contracted_capacity_kva = 0;
  std::string pf_standard = "none";    // 0.90, 0.85, 0.80, none (力调标准)
  std::string metering_side = "high";  // high or low (高供高计 / 高供低计)
  std::string purpose = "billing";     // billing, check, sub_meter
  std::string status = "active";       // active, suspended, removed
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  std::optional<int64_t> current_meter_id;            // read-only
  std::optional<std::string> current_meter_asset_no;  // read-only
};

struct MeteringPointInput {
  std::optional<std::string> code;  // required on create
  std::optional<std::string> name;
  std::optional<int64_t> customer_id;           // required on create; cannot change
  grid::Nullable<int64_t> transformer_area_id;  // default: the customer's
  std::optional<int64_t> department_id;         // default: the customer's
  std::optional<int64_t> voltage_v;             // required on create
  std::optional<std::string> tariff_code;       // required on create; 1-32 code characters
  std::optional<int64_t> contracted_capacity_kva;
  std::optional<std::string> pf_standard;
  std::optional<std::string> metering_side;
  std::optional<std::string> purpose;
  std::optional<std::string> status;
};

struct MeteringPointQuery {
  std::string q;  // code prefix
  std::optional<int64_t> customer_id;
  std::optional<int64_t> transformer_area_id;
  std::optional<int64_t> department_id;  // that department and below
  std::string status;
  std::string tariff_code;
  int page = 1;
  int page_size = 20;
};

// 电能表
struct Meter {
  int64_t id = 0;
  std::string asset_no;  // unique
  std::string make;
  std::string model;
  int64_t phases = 1;                  // 1 or 3
  std::string accuracy_class;          // 0.2S, 0.5S, 1, 2
  std::string rated_current;           // "5(60)A"
  std::vector<std::string> registers;  // in AllRegisters() order
  Ratio ct;
  Ratio pt;
  int64_t multiplier = 1;
  std::optional<std::string> comm_address;  // DL/T 645 address, 12 digits
  std::string protocol = "dlt645_2007";     // dlt645_2007, dlt645_1997, dlt698_45
  std::string status = "in_stock";          // in_stock, installed, removed, scrapped
  int64_t department_id = 0;
  std::optional<std::string> production_date;  // YYYY-MM-DD
  // Integer digits of the registers (6 for 999999.99); 0 = unknown. Needed to accept a reading
  // below the previous one as a rollover (tariffs.md §0.3 rule 8).
  int64_t register_integer_digits = 0;
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  std::optional<int64_t> installed_point_id;  // read-only
};

struct MeterInput {
  std::optional<std::string> asset_no;        // required on create
  std::optional<std::string> make;            // required on create
  std::optional<std::string> model;           // required on create
  std::optional<int64_t> phases;              // required on create
  std::optional<std::string> accuracy_class;  // required on create
  std::optional<std::string> rated_current;
  std::optional<std::vector<std::string>> registers;  // required on create
  std::optional<std::string> ct_ratio;                // "200/5"; default "1/1" (no CT)
  std::optional<std::string> pt_ratio;                // "10000/100"; default "1/1" (no PT)
  grid::Nullable<std::string> comm_address;
  std::optional<std::string> protocol;
  // Create: in_stock only. Update: in_stock -> scrapped, removed -> in_stock or scrapped;
  // "installed" only through Install/Replace.
  std::optional<std::string> status;
  std::optional<int64_t> department_id;  // required on create
  grid::Nullable<std::string> production_date;
  std::optional<int64_t> register_integer_digits;  // 0 (unknown) or 4..10; default 0
};

struct MeterQuery {
  std::string q;  // asset number or communication address prefix
  std::string status;
  std::optional<int64_t> department_id;  // that department and below
  int page = 1;
  int page_size = 20;
};

struct Installation {
  int64_t id = 0;
  int64_t meter_id = 0;
  int64_t metering_point_id = 0;
  int64_t installed_at_us = 0;
  std::optional<int64_t> removed_at_us;      // empty while installed
  std::string install_reason;                // new, replacement, rotation
  std::optional<std::string> remove_reason;  // fault, rotation, capacity_change, closure, other
  std::optional<int64_t> installed_by;
  std::optional<int64_t> removed_by;
  Ratio ct;  // as installed
  Ratio pt;
  int64_t multiplier = 1;
  Readings install_readings;
  Readings remove_readings;  // empty while installed
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  Meter meter;  // the meter asset as it is now
};

struct InstallInput {
  int64_t meter_id = 0;
  int64_t installed_at_us = 0;  // not in the future
  Readings readings;            // one per register of the meter
  std::string reason = "new";   // new or rotation
};

struct RemoveInput {
  int64_t removed_at_us = 0;  // not before the installation, not in the future
  Readings readings;          // one per register of the meter
  std::string reason;         // fault, rotation, capacity_change, closure, other
  // A cumulative register below its installation reading is an error unless it rolled over.
  bool rollover = false;
};

// 换表: the current meter comes off and another goes on at the same instant.
struct ReplaceInput {
  int64_t at_us = 0;
  Readings remove_readings;  // of the old meter
  std::string remove_reason = "fault";
  bool rollover = false;
  int64_t new_meter_id = 0;
  Readings install_readings;  // of the new meter
};

struct Replacement {
  Installation removed;
  Installation installed;
};

// Thread-safe: it holds no state besides its references.
class MeteringService {
 public:
  MeteringService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // ---- Metering points ----
  // By code; `total` counts at most grid::kListCountCap (then `capped` is set).
  Result<std::vector<MeteringPoint>> ListPoints(const org::Actor& actor,
                                                const MeteringPointQuery& q,
                                                grid::CappedCount* total);
  Result<MeteringPoint> GetPoint(const org::Actor& actor, int64_t id);
  Result<MeteringPoint> CreatePoint(const org::Actor& actor, const MeteringPointInput& in);
  Result<MeteringPoint> UpdatePoint(const org::Actor& actor, int64_t id, int64_t version,
                                    const MeteringPointInput& in);
  // The visible points of a customer, by code (for the customer 360 view).
  Result<std::vector<MeteringPoint>> PointsOfCustomer(const org::Actor& actor, int64_t customer_id);

  // ---- Meters ----
  Result<std::vector<Meter>> ListMeters(const org::Actor& actor, const MeterQuery& q,
                                        grid::CappedCount* total);
  Result<Meter> GetMeter(const org::Actor& actor, int64_t id);
  Result<Meter> CreateMeter(const org::Actor& actor, const MeterInput& in);
  Result<Meter> UpdateMeter(const org::Actor& actor, int64_t id, int64_t version,
                            const MeterInput& in);

  // ---- Installations ----
  // The meter must be visible, in_stock or removed and not installed; the point active, with no
  // meter installed (else FailedPrecondition: use Replace). Readings are errors naming
  // "readings.<register>".
  Result<Installation> Install(const org::Actor& actor, int64_t point_id, const InstallInput& in);
  Result<Installation> Remove(const org::Actor& actor, int64_t installation_id,
                              const RemoveInput& in);
  // One transaction: Remove of the current installation, then Install with reason replacement.
  // Reading errors name "remove_readings.<register>" or "install_readings.<register>".
  Result<Replacement> Replace(const org::Actor& actor, int64_t point_id, const ReplaceInput& in);
  // A point's installations, newest first.
  Result<std::vector<Installation>> ListInstallations(const org::Actor& actor, int64_t point_id);
  // The installations of several points (only visible points), by point then newest first;
  // with `current_only`, just the installed meters.
  Result<std::vector<Installation>> InstallationsOfPoints(const org::Actor& actor,
                                                          const std::vector<int64_t>& point_ids,
                                                          bool current_only = false);

 private:
  store::Database& db_;
  const Clock& clock_;
};

nlohmann::json ToJson(const MeteringPoint& p);
nlohmann::json ToJson(const Meter& m);
// With the readings as {"total": "1234.56", ...} and the meter.
nlohmann::json ToJson(const Installation& i);
nlohmann::json ToJson(const Readings& r);

}  // namespace gridmis::metering
