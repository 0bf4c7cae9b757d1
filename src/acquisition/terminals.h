// The registry of acquisition terminals (电能信息采控终端) and the meters behind them.
//
// A terminal has a Q/GDW 1376.1 address: A1, the 4-digit administrative area code, and A2, the
// terminal address 1..65535, unique together and written "1501-00012". Its kind decides what it
// is attached to:
//   public_transformer  (公变终端, a transformer area's concentrator) → transformer_area_id
//   special_transformer (专变终端) and large_customer (大客户终端)      → customer_id
//   substation          (变电站终端)                                  → substation_id
// and the other links must be empty. Each meter a terminal reads has a measurement point
// number Pn 1..2040, unique per terminal; a meter is read by at most one terminal.
//
// Terminals are department-owned (grid/records.h data scope); records outside the actor's scope
// are NotFound. Reads need terminal.read, writes terminal.write; every write is audited in its
// transaction; edits carry their version (stale: Aborted, HTTP 409).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "grid/records.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::acquisition {

// "1501-00012": A1, '-', A2 as 5 digits.
std::string FormatTerminalAddress(std::string_view area_code, int64_t address);
// The inverse; nullopt unless "DDDD-D" to "DDDD-DDDDD" with A2 in 1..65535.
std::optional<std::pair<std::string, int64_t>> ParseTerminalAddress(std::string_view text);

// A measurement point (Pn) of a terminal: one meter it reads.
struct TerminalMeter {
  int64_t id = 0;
  int64_t terminal_id = 0;
  int64_t meter_id = 0;
  std::string meter_asset_no;                     // read-only
  std::optional<std::string> meter_comm_address;  // read-only
  int64_t point_no = 0;                           // Pn, 1..2040
  int64_t port = 2;  // terminal communication port: 2 = RS-485 I, 31 = carrier
  int64_t baud_rate = 2400;
  std::string protocol = "dlt645_2007";  // dlt645_2007, dlt645_1997, dlt698_45
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

struct Terminal {
  int64_t id = 0;
  std::string asset_no;   // unique
  std::string kind;       // public_transformer, special_transformer, large_customer, substation
  std::string area_code;  // A1: 4 decimal digits
  int64_t address = 0;    // A2: 1..65535
  std::string make;
  std::string model;
  std::string protocol = "gdw1376_1";  // gdw1376_1, dlt698_45
  std::string comm_mode = "4g";        // gprs, 4g, 5g, ethernet, fiber, carrier
  std::optional<std::string> sim_no;
  int64_t department_id = 0;
  std::optional<int64_t> transformer_area_id;
  std::optional<int64_t> customer_id;
  std::optional<int64_t> substation_id;
  std::string status = "installed";         // in_stock, installed, removed
  std::optional<std::string> installed_on;  // YYYY-MM-DD
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t meter_count = 0;  // read-only
  // Loaded by GetTerminal (all, by Pn) and TerminalsReadingMeters (those asked for); absent in
  // lists.
  std::optional<std::vector<TerminalMeter>> meters;
};

struct TerminalInput {
  std::optional<std::string> asset_no;   // required on create
  std::optional<std::string> kind;       // required on create
  std::optional<std::string> area_code;  // required on create
  std::optional<int64_t> address;        // required on create
  std::optional<std::string> make;
  std::optional<std::string> model;
  std::optional<std::string> protocol;
  std::optional<std::string> comm_mode;
  grid::Nullable<std::string> sim_no;    // 11-20 digits
  std::optional<int64_t> department_id;  // default: the linked record's
  grid::Nullable<int64_t> transformer_area_id;
  grid::Nullable<int64_t> customer_id;
  grid::Nullable<int64_t> substation_id;
  std::optional<std::string> status;
  grid::Nullable<std::string> installed_on;
};

struct TerminalMeterInput {
  int64_t meter_id = 0;
  int64_t point_no = 0;
  std::optional<int64_t> port;       // default 2
  std::optional<int64_t> baud_rate;  // default 2400: 300, 600, 1200, 2400, 4800, 7200, 9600, 19200
  std::optional<std::string> protocol;  // default dlt645_2007
};

struct TerminalQuery {
  // "1501-00012": that address; 4 digits: that area code or asset number prefix; otherwise an
  // asset number prefix.
  std::string q;
  std::string kind;
  std::string status;
  std::optional<int64_t> department_id;  // that department and below
  std::optional<int64_t> transformer_area_id;
  std::optional<int64_t> customer_id;
  int page = 1;
  int page_size = 20;
};

// Thread-safe: it holds no state besides its references.
class TerminalService {
 public:
  TerminalService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // By A1, A2.
  Result<std::vector<Terminal>> List(const org::Actor& actor, const TerminalQuery& q,
                                     int64_t* total);
  // With its meters by Pn.
  Result<Terminal> Get(const org::Actor& actor, int64_t id);
  Result<Terminal> Create(const org::Actor& actor, const TerminalInput& in);
  // Changing the kind needs the matching link (and clearing the others) in the same edit.
  Result<Terminal> Update(const org::Actor& actor, int64_t id, int64_t version,
                          const TerminalInput& in);

  // The meter must be visible and not read by another terminal; Pn free on this terminal
  // (AlreadyExists naming meter_id or point_no).
  Result<TerminalMeter> AddMeter(const org::Actor& actor, int64_t terminal_id,
                                 const TerminalMeterInput& in);
  // `version`, when given, must be current.
  Status RemoveMeter(const org::Actor& actor, int64_t terminal_meter_id,
                     std::optional<int64_t> version);

  // The visible terminals reading any of `meter_ids`, each with just those meters' Pn entries
  // (for the customer 360 view). By terminal id.
  Result<std::vector<Terminal>> TerminalsReadingMeters(const org::Actor& actor,
                                                       const std::vector<int64_t>& meter_ids);

 private:
  store::Database& db_;
  const Clock& clock_;
};

nlohmann::json ToJson(const TerminalMeter& m);
// With "address_text" ("1501-00012") and, when loaded, "meters".
nlohmann::json ToJson(const Terminal& t);

}  // namespace gridmis::acquisition
