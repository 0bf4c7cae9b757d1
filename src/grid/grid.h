// The grid topology a utility's marketing side needs: substations → feeders (10 kV lines) →
// transformer areas (台区) → metering points. Line loss is computed per area, feeder and
// substation, so every customer's metering point hangs off this tree.
//
// Every record belongs to a department. Reads and writes are limited to the actor's data scope
// (grid/records.h: under the "self" scope, the user's own department); records outside it are
// NotFound. Writes need grid.write, reads grid.read; each write is audited with before/after
// values in the same transaction. Edits carry the version they were based on: a stale version
// is Aborted (HTTP 409).
//
// Department filters ("department_id and below") are resolved from departments.path in the
// database, so the service needs no org::OrgService.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "org/actor.h"
#include "store/db.h"

namespace gridmis::grid {

// 变电站
struct Substation {
  int64_t id = 0;
  std::string code;
  std::string name;
  int64_t voltage_v = 0;  // highest voltage level, volts: 110000, 35000
  int64_t department_id = 0;
  std::string address;
  std::string status = "in_service";  // in_service, out_of_service, retired
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t feeder_count = 0;  // read-only
};

struct SubstationInput {
  std::optional<std::string> code;       // required on create; 1-32 of [A-Za-z0-9_.-]
  std::optional<std::string> name;       // required on create; 1-100 characters
  std::optional<int64_t> voltage_v;      // required on create; a standard level
  std::optional<int64_t> department_id;  // required on create
  std::optional<std::string> address;    // at most 200 characters
  std::optional<std::string> status;
};

struct SubstationQuery {
  std::string q;                         // code or name contains
  std::optional<int64_t> department_id;  // that department and below
  std::string status;
  int page = 1;
  int page_size = 20;
};

// 馈线: a 10 kV (or 20/35 kV) line out of a substation.
struct Feeder {
  int64_t id = 0;
  std::string code;
  std::string name;
  int64_t substation_id = 0;
  std::string substation_name;  // read-only
  int64_t voltage_v = 10'000;
  int64_t department_id = 0;
  std::string status = "in_service";
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t transformer_area_count = 0;  // read-only
};

struct FeederInput {
  std::optional<std::string> code;       // required on create
  std::optional<std::string> name;       // required on create
  std::optional<int64_t> substation_id;  // required on create; must be visible
  std::optional<int64_t> voltage_v;      // default 10000
  std::optional<int64_t> department_id;  // default: the substation's
  std::optional<std::string> status;
};

struct FeederQuery {
  std::string q;
  std::optional<int64_t> department_id;
  std::optional<int64_t> substation_id;
  std::string status;
  int page = 1;
  int page_size = 20;
};

// 台区: the low-voltage network behind one distribution transformer.
struct TransformerArea {
  int64_t id = 0;
  std::string code;
  std::string name;
  int64_t feeder_id = 0;
  std::string feeder_name;    // read-only
  int64_t substation_id = 0;  // read-only, through the feeder
  int64_t department_id = 0;
  int64_t capacity_kva = 0;          // transformer capacity
  std::string ownership = "public";  // public (公变) or private (专变)
  std::string address;
  std::string status = "in_service";
  int64_t version = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t metering_point_count = 0;  // read-only
};

struct TransformerAreaInput {
  std::optional<std::string> code;       // required on create
  std::optional<std::string> name;       // required on create
  std::optional<int64_t> feeder_id;      // required on create; must be visible
  std::optional<int64_t> department_id;  // default: the feeder's
  std::optional<int64_t> capacity_kva;   // required on create; 1..100000
  std::optional<std::string> ownership;  // default public
  std::optional<std::string> address;
  std::optional<std::string> status;
};

struct TransformerAreaQuery {
  std::string q;
  std::optional<int64_t> department_id;
  std::optional<int64_t> substation_id;
  std::optional<int64_t> feeder_id;
  std::string ownership;
  std::string status;
  int page = 1;
  int page_size = 20;
};

// Thread-safe: it holds no state besides its references.
class GridService {
 public:
  GridService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Lists are ordered by code; `total` receives the number of matching records.
  Result<std::vector<Substation>> ListSubstations(const org::Actor& actor, const SubstationQuery& q,
                                                  int64_t* total);
  Result<Substation> GetSubstation(const org::Actor& actor, int64_t id);
  Result<Substation> CreateSubstation(const org::Actor& actor, const SubstationInput& in);
  Result<Substation> UpdateSubstation(const org::Actor& actor, int64_t id, int64_t version,
                                      const SubstationInput& in);

  Result<std::vector<Feeder>> ListFeeders(const org::Actor& actor, const FeederQuery& q,
                                          int64_t* total);
  Result<Feeder> GetFeeder(const org::Actor& actor, int64_t id);
  Result<Feeder> CreateFeeder(const org::Actor& actor, const FeederInput& in);
  // Moving a feeder to another substation needs that substation to be visible.
  Result<Feeder> UpdateFeeder(const org::Actor& actor, int64_t id, int64_t version,
                              const FeederInput& in);

  Result<std::vector<TransformerArea>> ListTransformerAreas(const org::Actor& actor,
                                                            const TransformerAreaQuery& q,
                                                            int64_t* total);
  Result<TransformerArea> GetTransformerArea(const org::Actor& actor, int64_t id);
  Result<TransformerArea> CreateTransformerArea(const org::Actor& actor,
                                                const TransformerAreaInput& in);
  Result<TransformerArea> UpdateTransformerArea(const org::Actor& actor, int64_t id,
                                                int64_t version, const TransformerAreaInput& in);

 private:
  store::Database& db_;
  const Clock& clock_;
};

// Records as JSON for the API and the audit log's before/after values.
nlohmann::json ToJson(const Substation& s);
nlohmann::json ToJson(const Feeder& f);
nlohmann::json ToJson(const TransformerArea& a);

}  // namespace gridmis::grid
