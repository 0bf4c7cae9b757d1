// The demo generator.
//
// Shape (for N customers):
//   - Departments: the company, the city bureau, 11 county branches, 2-4 supply stations each.
//   - Customers are split over counties by population. In each county 1 in 100 customers is
//     large industry and 1 in 200 general commercial on its own transformer: each gets a
//     private transformer area (专变). The rest live in public areas (公变) of 120-180
//     customers, residential ~90%, general commercial ~6%, agricultural ~2-4% (rural only),
//     other (public bodies) ~0.5%.
//   - Areas are grouped into 10 kV feeders of 10-20 areas, feeders into substations of 6-10
//     (the first of a county 110 kV, then every fourth; the others 35 kV).
//   - Every customer has an account and a metering point (large industry sometimes a second,
//     low-voltage one for offices), each point an installed meter, each installation its
//     readings. Every area has one terminal: a concentrator (public) or a special-transformer /
//     large-customer terminal (private); every substation a substation terminal.
//
// Ids are assigned here (1, 2, ... on the empty database), so nothing is read back while
// writing; Database::ResetIdentity moves PostgreSQL's sequences past them at the end.
#include "demo/demo.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "demo/names.h"
#include "demo/places.h"
#include "demo/rng.h"
#include "org/actor.h"
#include "org/audit.h"
#include "org/org.h"
#include "org/permissions.h"

namespace gridmis::demo {

namespace {

using store::Value;
using SV = std::string_view;
using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// ---- Sizes and proportions -----------------------------------------------------------------

constexpr int64_t kCustomersPerChunk = 25'000;
// Parameters per multi-row INSERT statement (SQLite allows 32766, PostgreSQL 65535).
constexpr size_t kValuesPerStatement = 512;
constexpr int kAreaMinCustomers = 120, kAreaMaxCustomers = 180;
constexpr int kFeederMinAreas = 10, kFeederMaxAreas = 20;
constexpr int kSubstationMinFeeders = 6, kSubstationMaxFeeders = 10;
constexpr int64_t kMaxTerminalAddress = 65534;   // A2; 0 is invalid, 0xFFFF broadcast
constexpr SV kAreaCode = "1509";                 // A1: Inner Mongolia (15), Ulanqab (09)
constexpr int64_t kUtcOffsetSeconds = 8 * 3600;  // Asia/Shanghai, no DST since 1991
constexpr int64_t kDaysPerYear = 365;

// Random streams: each entity draws from Rng::For(seed, stream, index).
enum Stream : uint64_t {
  kStreamCounty = 1,
  kStreamArea,
  kStreamCustomer,
  kStreamUser,
  kStreamGrid,
  kStreamTerminal,
};

enum class Category : uint8_t { kResidential, kCommercial, kLargeIndustry, kAgricultural, kOther };
constexpr SV kCategoryNames[] = {"residential", "commercial", "large_industry", "agricultural",
                                 "other"};
// Per 10,000 customers of public areas.
constexpr int kUrbanMix[] = {9000, 900, 0, 0, 100};
constexpr int kRuralMix[] = {9050, 500, 0, 400, 50};

// ---- Dates ---------------------------------------------------------------------------------

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms), for the hot path.
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

std::string DateText(int64_t days) {
  Date d = CivilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

// The UTC instant of a local (UTC+8) time of day on a business date.
int64_t LocalInstantUs(int64_t days, int64_t second_of_day) {
  return (days * 86400 + second_of_day - kUtcOffsetSeconds) * kMicrosPerSecond;
}

std::string Pad(int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  return buf;
}

// ---- Rows ----------------------------------------------------------------------------------

struct TableSpec {
  SV name;
  std::span<const SV> columns;
};

constexpr SV kDepartmentCols[] = {"id",   "code",   "name",       "kind",          "parent_id",
                                  "path", "status", "sort_order", "created_at_us", "updated_at_us"};
constexpr SV kUserCols[] = {"id",
                            "username",
                            "display_name",
                            "department_id",
                            "phone",
                            "email",
                            "password_hash",
                            "password_changed_at_us",
                            "must_change_password",
                            "status",
                            "created_at_us",
                            "updated_at_us"};
constexpr SV kUserRoleCols[] = {"user_id", "role_id"};
constexpr SV kSubstationCols[] = {"id",        "code",          "name",
                                  "voltage_v", "department_id", "address",
                                  "status",    "created_at_us", "updated_at_us"};
constexpr SV kFeederCols[] = {"id",           "code",          "name",   "substation_id",
                              "voltage_v",    "department_id", "status", "created_at_us",
                              "updated_at_us"};
constexpr SV kAreaCols[] = {"id",           "code",      "name",    "feeder_id", "department_id",
                            "capacity_kva", "ownership", "address", "status",    "created_at_us",
                            "updated_at_us"};
constexpr SV kCustomerCols[] = {"id",
                                "customer_no",
                                "name",
                                "category",
                                "id_doc_type",
                                "id_doc_no",
                                "address",
                                "phone",
                                "mobile",
                                "email",
                                "status",
                                "department_id",
                                "transformer_area_id",
                                "account_manager_id",
                                "opened_on",
                                "closed_on",
                                "created_at_us",
                                "updated_at_us"};
constexpr SV kContactCols[] = {"id",    "customer_id", "name",          "role",         "phone",
                               "email", "is_primary",  "created_at_us", "updated_at_us"};
constexpr SV kAccountCols[] = {"id",
                               "account_no",
                               "customer_id",
                               "name",
                               "payment_method",
                               "bank_name",
                               "bank_account_no",
                               "invoice_title",
                               "tax_no",
                               "status",
                               "department_id",
                               "created_at_us",
                               "updated_at_us"};
constexpr SV kPointCols[] = {"id",
                             "code",
                             "name",
                             "customer_id",
                             "transformer_area_id",
                             "department_id",
                             "voltage_v",
                             "tariff_code",
                             "contracted_capacity_kva",
                             "pf_standard",
                             "metering_side",
                             "purpose",
                             "status",
                             "created_at_us",
                             "updated_at_us"};
constexpr SV kMeterCols[] = {"id",
                             "asset_no",
                             "make",
                             "model",
                             "phases",
                             "accuracy_class",
                             "rated_current",
                             "registers",
                             "ct_primary_a",
                             "ct_secondary_a",
                             "pt_primary_v",
                             "pt_secondary_v",
                             "multiplier",
                             "comm_address",
                             "protocol",
                             "status",
                             "department_id",
                             "production_date",
                             "created_at_us",
                             "updated_at_us"};
constexpr SV kInstallationCols[] = {"id",
                                    "meter_id",
                                    "metering_point_id",
                                    "installed_at_us",
                                    "removed_at_us",
                                    "install_reason",
                                    "remove_reason",
                                    "created_at_us",
                                    "updated_at_us"};
constexpr SV kReadingCols[] = {"installation_id", "event", "register", "value_dwh"};
constexpr SV kTerminalCols[] = {"id",           "asset_no",      "kind",
                                "area_code",    "address",       "make",
                                "model",        "protocol",      "comm_mode",
                                "sim_no",       "department_id", "transformer_area_id",
                                "customer_id",  "substation_id", "status",
                                "installed_on", "created_at_us", "updated_at_us"};
constexpr SV kTerminalMeterCols[] = {"id",       "terminal_id",   "meter_id",
                                     "point_no", "port",          "baud_rate",
                                     "protocol", "created_at_us", "updated_at_us"};

constexpr TableSpec kDepartments{"departments", kDepartmentCols};
constexpr TableSpec kUsers{"users", kUserCols};
constexpr TableSpec kUserRoles{"user_roles", kUserRoleCols};
constexpr TableSpec kSubstations{"substations", kSubstationCols};
constexpr TableSpec kFeeders{"feeders", kFeederCols};
constexpr TableSpec kAreas{"transformer_areas", kAreaCols};
constexpr TableSpec kCustomers{"customers", kCustomerCols};
constexpr TableSpec kContacts{"customer_contacts", kContactCols};
constexpr TableSpec kAccounts{"accounts", kAccountCols};
constexpr TableSpec kPoints{"metering_points", kPointCols};
constexpr TableSpec kMeters{"meters", kMeterCols};
constexpr TableSpec kInstallations{"meter_installations", kInstallationCols};
constexpr TableSpec kReadings{"installation_readings", kReadingCols};
constexpr TableSpec kTerminals{"terminals", kTerminalCols};
constexpr TableSpec kTerminalMeters{"terminal_meters", kTerminalMeterCols};

// Tables with an identity "id" the generator fills, for Database::ResetIdentity.
constexpr SV kIdentityTables[] = {
    "departments",       "users",     "substations",         "feeders",
    "transformer_areas", "customers", "customer_contacts",   "accounts",
    "metering_points",   "meters",    "meter_installations", "terminals",
    "terminal_meters"};

std::string InsertSql(const TableSpec& t, size_t rows) {
  std::string sql = "INSERT INTO ";
  sql += t.name;
  sql += " (";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (i) sql += ", ";
    sql += t.columns[i];
  }
  sql += ") VALUES ";
  size_t n = 1;
  for (size_t r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i) sql += ',';
      sql += '$';
      sql += std::to_string(n++);
    }
    sql += ')';
  }
  return sql;
}

// Rows of one table, buffered as ready-to-run parameter lists of a multi-row INSERT.
class TableRows {
 public:
  explicit TableRows(const TableSpec& spec)
      : spec_(&spec),
        ncols_(spec.columns.size()),
        batch_rows_(std::max<size_t>(1, kValuesPerStatement / spec.columns.size())) {}

  template <typename... T>
  void Add(T&&... values) {
    assert(sizeof...(T) == ncols_);
    if (cur_.capacity() == 0) cur_.reserve(batch_rows_ * ncols_);
    (cur_.emplace_back(std::forward<T>(values)), ...);
    ++rows_;
    if (cur_.size() == batch_rows_ * ncols_) {
      full_.push_back(std::move(cur_));
      cur_ = store::Params();
    }
  }

  int64_t rows() const { return rows_; }
  SV table() const { return spec_->name; }

  Status Write(store::Connection& c) const {
    if (!full_.empty()) {
      ASSIGN_OR_RETURN(auto st, c.Prepare(InsertSql(*spec_, batch_rows_)));
      for (const auto& params : full_) RETURN_IF_ERROR(Context(st->Run(params).status()));
    }
    if (!cur_.empty()) {
      ASSIGN_OR_RETURN(auto st, c.Prepare(InsertSql(*spec_, cur_.size() / ncols_)));
      RETURN_IF_ERROR(Context(st->Run(cur_).status()));
    }
    return Status::Ok();
  }

 private:
  Status Context(Status s) const {
    return s.ok() ? s : s.WithContext("demo: writing " + std::string(spec_->name));
  }

  const TableSpec* spec_;
  size_t ncols_;
  size_t batch_rows_;
  std::vector<store::Params> full_;
  store::Params cur_;
  int64_t rows_ = 0;
};

// ---- The plan: departments, users, grid, and where every customer goes ----------------------

struct DeptPlan {
  int64_t id = 0;
  std::string code, name, kind, path;
  std::optional<int64_t> parent_id;
  int64_t sort_order = 0;
};

struct UserPlan {
  int64_t id = 0;
  std::string username, display_name, phone;
  int64_t department_id = 0;
  SV role;
  bool admin = false;
  size_t dept_index = 0;
};

struct CountyPlan {
  const CountyInfo* info = nullptr;
  int64_t dept_id = 0;
  std::string code;
  std::string no_prefix;  // first two digits of its customer numbers: "02" for 150902
  int64_t customers = 0;
  int64_t first_customer = 0;  // global index of its first customer
  std::vector<size_t> stations;
  int64_t manager_user_id = 0;
};

struct StationPlan {
  const StationInfo* info = nullptr;
  size_t county = 0;
  int64_t dept_id = 0;
  std::string code;
  std::string town;       // "白海子镇", or "" for the city's districts ("桥东")
  std::vector<SV> towns;  // rural stations: its town and the towns it also serves
};

struct SubstationPlan {
  int64_t id = 0;
  std::string code, name, address;
  int64_t voltage_v = 0;
  size_t county = 0;
  int64_t terminal_id = 0;
};

struct FeederPlan {
  int64_t id = 0;
  std::string code, name;
  size_t substation = 0;
  size_t county = 0;
};

struct AreaPlan {
  int64_t id = 0;
  std::string code, name, address;
  size_t feeder = 0, county = 0, station = 0;
  int64_t capacity_kva = 0;
  bool is_private = false;
  bool urban = false;
  Category private_category = Category::kResidential;
  Business business;     // private areas: the customer that owns the transformer
  std::string town;      // "" in the city's districts and industrial parks
  std::string locality;  // village, compound or park
  std::string street;    // urban areas
  int64_t street_no = 0;
  int64_t first_customer = 0;
  int64_t customers = 0;
  int64_t terminal_id = 0;
};

struct Plan {
  uint64_t seed = 0;
  int64_t now_us = 0;
  int64_t today = 0;  // days since the epoch, in UTC+8
  int64_t customers = 0;
  std::vector<DeptPlan> depts;
  std::vector<UserPlan> users;
  std::vector<CountyPlan> counties;
  std::vector<StationPlan> stations;
  std::vector<SubstationPlan> substations;
  std::vector<FeederPlan> feeders;
  std::vector<AreaPlan> areas;
  int64_t terminals = 0;
};

// Splits `total` over `weights` by largest remainder (deterministic, sums exactly).
std::vector<int64_t> Apportion(int64_t total, std::span<const int64_t> weights) {
  int64_t sum = 0;
  for (int64_t w : weights) sum += w;
  std::vector<int64_t> out(weights.size(), 0);
  if (sum == 0 || weights.empty()) return out;
  std::vector<std::pair<int64_t, size_t>> rem;
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    __extension__ using I128 = __int128;
    I128 num = static_cast<I128>(total) * weights[i];
    out[i] = static_cast<int64_t>(num / sum);
    rem.emplace_back(static_cast<int64_t>(num % sum), i);
    given += out[i];
  }
  std::stable_sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < total; ++i, ++given) out[rem[i % rem.size()].second] += 1;
  return out;
}

template <typename T>
void Shuffle(Rng& rng, std::vector<T>& v) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(i)]);
}

bool IsTown(SV s) { return s.ends_with("镇") || s.ends_with("乡") || s.ends_with("苏木"); }

constexpr std::pair<SV, SV> kBusinessRoles[] = {
    {"manager", "manager"},       {"clerk", "counter_clerk"},       {"reader", "meter_reader"},
    {"billing", "billing_clerk"}, {"inspector", "inspector"},       {"analyst", "analyst"},
    {"finance", "finance_clerk"}, {"caiji", "acquisition_operator"}};

constexpr int64_t kLargeIndustryKva[] = {315, 400, 500, 630, 800, 1000, 1250, 1600, 2000};
constexpr int kLargeIndustryKvaWeights[] = {6, 8, 10, 14, 14, 14, 12, 12, 10};
constexpr int64_t kLargeCommercialKva[] = {200, 250, 315, 400, 500, 630};
constexpr int64_t kUrbanAreaKva[] = {315, 400, 500, 630};
constexpr int64_t kRuralAreaKva[] = {100, 160, 200, 250, 315};
constexpr int64_t kSmallAreaKva[] = {50, 80, 100};

Result<Plan> MakePlan(uint64_t seed, int64_t n_customers, int64_t now_us) {
  Plan p;
  p.seed = seed;
  p.now_us = now_us;
  p.today = (now_us / kMicrosPerSecond + kUtcOffsetSeconds) / 86400;
  p.customers = n_customers;

  // Departments.
  auto add_dept = [&](std::string code, std::string name, std::string kind,
                      std::optional<size_t> parent) {
    DeptPlan d;
    d.id = static_cast<int64_t>(p.depts.size()) + 1;
    d.code = std::move(code);
    d.name = std::move(name);
    d.kind = std::move(kind);
    d.parent_id = parent ? std::optional<int64_t>(p.depts[*parent].id) : std::nullopt;
    d.path = (parent ? p.depts[*parent].path : std::string("/")) + std::to_string(d.id) + "/";
    d.sort_order = parent ? static_cast<int64_t>(p.depts.size()) : 0;
    p.depts.push_back(std::move(d));
    return p.depts.size() - 1;
  };
  size_t root = add_dept("NM", "内蒙古电力(集团)有限责任公司", "company", std::nullopt);
  size_t city = add_dept("NM1509", "乌兰察布供电公司", "city", root);
  std::span<const CountyInfo> infos = UlanqabCounties();
  std::vector<size_t> county_dept;
  for (const CountyInfo& ci : infos) {
    CountyPlan cp;
    cp.info = &ci;
    cp.code = "NM" + std::string(ci.admin_code);
    cp.no_prefix = std::string(ci.admin_code.substr(4, 2));
    size_t cd = add_dept(cp.code, std::string(ci.name) + "供电分局", "county", city);
    county_dept.push_back(cd);
    cp.dept_id = p.depts[cd].id;
    for (size_t s = 0; s < ci.stations.size(); ++s) {
      StationPlan sp;
      sp.info = &ci.stations[s];
      sp.county = p.counties.size();
      sp.code = cp.code + Pad(static_cast<int64_t>(s) + 1, 2);
      sp.dept_id = p.depts[add_dept(sp.code, std::string(sp.info->name), "station", cd)].id;
      sp.town = IsTown(sp.info->town) ? std::string(sp.info->town) : std::string();
      if (!sp.info->urban) sp.towns.push_back(sp.info->town);
      cp.stations.push_back(p.stations.size());
      p.stations.push_back(std::move(sp));
    }
    // The towns without a station go to the county's rural stations in turn.
    std::vector<size_t> rural;
    for (size_t s : cp.stations) {
      if (!p.stations[s].info->urban) rural.push_back(s);
    }
    for (size_t t = 0; t < ci.other_towns.size() && !rural.empty(); ++t) {
      p.stations[rural[t % rural.size()]].towns.push_back(ci.other_towns[t]);
    }
    p.counties.push_back(std::move(cp));
  }

  // Users: the three administrators at the company, the business roles at the city and each
  // county, a meter reader at each station.
  auto add_user = [&](std::string username, SV role, size_t dept, bool admin,
                      std::string display_name) {
    UserPlan u;
    u.id = static_cast<int64_t>(p.users.size()) + 1;
    Rng r = Rng::For(seed, kStreamUser, static_cast<uint64_t>(u.id));
    u.username = std::move(username);
    u.role = role;
    u.dept_index = dept;
    u.department_id = p.depts[dept].id;
    u.admin = admin;
    u.display_name =
        display_name.empty() ? PersonName(r, r.Chance(5500), r.Chance(500)) : display_name;
    u.phone = MobileNumber(r);
    p.users.push_back(std::move(u));
    return p.users.back().id;
  };
  add_user("admin", "system_admin", root, true, "系统管理员");
  add_user("security", "security_admin", root, true, "安全管理员");
  add_user("auditor", "audit_admin", root, true, "审计管理员");
  // The bank collection (代收) channel's integration identity: it calls with an API token.
  add_user("paychannel", "payment_channel", root, false, "银行代收渠道");
  for (auto [name, role] : kBusinessRoles) add_user(std::string(name), role, city, false, "");
  for (size_t c = 0; c < p.counties.size(); ++c) {
    for (auto [name, role] : kBusinessRoles) {
      int64_t id = add_user(std::string(name) + "_" + std::string(p.counties[c].info->pinyin), role,
                            county_dept[c], false, "");
      if (role == "manager") p.counties[c].manager_user_id = id;
    }
  }
  for (const StationPlan& sp : p.stations) {
    size_t dept = static_cast<size_t>(sp.dept_id - 1);
    add_user("reader_" + std::string(sp.info->pinyin), "meter_reader", dept, false, "");
  }

  // Customers per county.
  std::vector<int64_t> weights;
  for (const CountyInfo& ci : infos) weights.push_back(ci.weight);
  std::vector<int64_t> per_county = Apportion(n_customers, weights);
  int64_t next_customer = 0;
  int64_t next_terminal = 1;
  for (size_t c = 0; c < p.counties.size(); ++c) {
    CountyPlan& cp = p.counties[c];
    const CountyInfo& ci = *cp.info;
    Rng r = Rng::For(seed, kStreamCounty, c);
    cp.customers = per_county[c];
    cp.first_customer = next_customer;
    int64_t n = cp.customers;
    int64_t n_li = n >= 50 ? (n + 50) / 100 : 0;
    int64_t n_lc = n >= 100 ? (n + 100) / 200 : 0;
    int64_t n_small = n - n_li - n_lc;
    int64_t n_pub = std::max<int64_t>(1, (n_small + 75) / 150);
    std::vector<int64_t> area_weights;
    for (int64_t i = 0; i < n_pub; ++i) {
      area_weights.push_back(r.Between(kAreaMinCustomers, kAreaMaxCustomers));
    }
    std::vector<int64_t> pub_sizes = Apportion(n_small, area_weights);

    // The county's areas in grid order: public and private mixed.
    struct Slot {
      bool is_private;
      Category category;
      int64_t customers;
    };
    std::vector<Slot> slots;
    for (int64_t s : pub_sizes) slots.push_back({false, Category::kResidential, s});
    for (int64_t i = 0; i < n_li; ++i) slots.push_back({true, Category::kLargeIndustry, 1});
    for (int64_t i = 0; i < n_lc; ++i) slots.push_back({true, Category::kCommercial, 1});
    Shuffle(r, slots);

    // Stations take contiguous runs of areas, urban stations a larger share.
    std::vector<int64_t> station_weights;
    for (size_t s : cp.stations) station_weights.push_back(p.stations[s].info->urban ? 3 : 2);
    std::vector<int64_t> station_areas =
        Apportion(static_cast<int64_t>(slots.size()), station_weights);

    // Feeders of 10-20 areas, substations of 6-10 feeders; but every county, however small
    // the demo, has at least two feeders and two substations (one 110 kV, one 35 kV) when it
    // has the areas for them.
    auto group = [&r](int64_t count, int64_t lo, int64_t hi) {
      std::vector<int64_t> sizes;
      for (int64_t left = count; left > 0;) {
        int64_t take = std::min(left, r.Between(lo, hi));
        sizes.push_back(take);
        left -= take;
      }
      if (sizes.size() == 1 && count >= 2) sizes = {count - count / 2, count / 2};
      return sizes;
    };
    std::vector<int64_t> feeder_sizes =
        group(static_cast<int64_t>(slots.size()), kFeederMinAreas, kFeederMaxAreas);
    std::vector<int64_t> sub_sizes = group(static_cast<int64_t>(feeder_sizes.size()),
                                           kSubstationMinFeeders, kSubstationMaxFeeders);

    std::string admin4(ci.admin_code.substr(2, 4));
    size_t feeder_cursor = 0;
    size_t slot_cursor = 0;
    size_t station_pos = 0;
    int64_t station_left = station_areas.empty() ? 0 : station_areas[0];
    for (size_t s = 0; s < sub_sizes.size(); ++s) {
      Rng sr = Rng::For(seed, kStreamGrid, (c << 20) | s);
      SubstationPlan sub;
      sub.id = static_cast<int64_t>(p.substations.size()) + 1;
      sub.county = c;
      sub.voltage_v = s % 4 == 0 ? 110000 : 35000;
      sub.code = "SS" + admin4 + "-" + Pad(static_cast<int64_t>(s) + 1, 3);
      size_t places = SubstationPlaceCount(ci);
      SubstationSite site = SubstationPlace(ci, s);
      std::string place(site.place);
      if (s >= places) place += std::to_string(s / places + 1) + "号";
      sub.name = place + (sub.voltage_v == 110000 ? "110kV变电站" : "35kV变电站");
      sub.address = std::string(kCity) + std::string(ci.name) + std::string(site.address);
      sub.terminal_id = next_terminal++;
      size_t sub_index = p.substations.size();
      p.substations.push_back(sub);

      for (int64_t f = 0; f < sub_sizes[s]; ++f, ++feeder_cursor) {
        FeederPlan fp;
        fp.id = static_cast<int64_t>(p.feeders.size()) + 1;
        fp.county = c;
        fp.substation = sub_index;
        fp.code = "FD" + admin4 + "-" + Pad(static_cast<int64_t>(s) + 1, 3) + "-" + Pad(f + 1, 2);
        fp.name = "10kV" + place + std::string(FeederWord(sr)) + "线";
        size_t feeder_index = p.feeders.size();
        p.feeders.push_back(std::move(fp));

        for (int64_t a = 0; a < feeder_sizes[feeder_cursor]; ++a, ++slot_cursor) {
          while (station_left == 0 && station_pos + 1 < station_areas.size()) {
            station_left = station_areas[++station_pos];
          }
          --station_left;
          const Slot& slot = slots[slot_cursor];
          AreaPlan ap;
          ap.id = static_cast<int64_t>(p.areas.size()) + 1;
          Rng ar = Rng::For(seed, kStreamArea, static_cast<uint64_t>(ap.id));
          ap.county = c;
          ap.feeder = feeder_index;
          ap.station = cp.stations[station_pos];
          const StationPlan& sp = p.stations[ap.station];
          ap.code = "TQ" + admin4 + Pad(static_cast<int64_t>(p.areas.size()) + 1, 7);
          ap.is_private = slot.is_private;
          ap.private_category = slot.category;
          ap.customers = slot.customers;
          ap.first_customer = next_customer;
          next_customer += slot.customers;
          ap.terminal_id = next_terminal++;
          std::string county_prefix = std::string(kCity) + std::string(ci.name);
          if (slot.is_private && slot.category == Category::kLargeIndustry) {
            ap.locality = std::string(ci.industrial_park);
            ap.address = std::string(kCity) + ap.locality + "经" +
                         std::to_string(ar.Between(1, 9)) + "路" +
                         std::to_string(ar.Between(1, 199)) + "号";
            ap.business =
                MakeBusiness(ar, BusinessKind::kLargeIndustry, {&ci, "", ap.locality, ""});
            ap.capacity_kva = kLargeIndustryKva[ar.Weighted(kLargeIndustryKvaWeights)];
            ap.name = ap.business.name + "专变";
          } else if (slot.is_private) {
            ap.urban = true;
            ap.town = sp.info->urban ? sp.town : std::string();
            ap.street = std::string(StreetName(ar, ci));
            ap.street_no = ar.Between(1, 399);
            ap.address = county_prefix + ap.town + ap.street + std::to_string(ap.street_no) + "号";
            ap.business = MakeBusiness(ar, BusinessKind::kLargeCommercial,
                                       {&ci, ap.town, ap.street, ap.street});
            ap.capacity_kva = ar.Pick(kLargeCommercialKva);
            ap.name = ap.business.name + "专变";
          } else if (sp.info->urban) {
            ap.urban = true;
            ap.town = sp.town;
            ap.street = std::string(StreetName(ar, ci));
            ap.street_no = ar.Between(1, 399);
            ap.locality = CompoundName(ar);
            ap.address = county_prefix + ap.town + ap.street + std::to_string(ap.street_no) + "号" +
                         ap.locality;
            ap.capacity_kva = ar.Pick(kUrbanAreaKva);
            ap.name = ap.locality + std::to_string(ar.Between(1, 3)) + "号台区";
          } else {
            ap.town = std::string(sp.towns[ar.Chance(5000) ? 0 : ar.Below(sp.towns.size())]);
            ap.locality = VillageName(ar);
            ap.address = county_prefix + ap.town + ap.locality;
            ap.capacity_kva = ap.customers < 60 ? ar.Pick(kSmallAreaKva) : ar.Pick(kRuralAreaKva);
            ap.name = ap.locality + std::to_string(ar.Between(1, 3)) + "号台区";
          }
          p.areas.push_back(std::move(ap));
        }
      }
    }
  }
  p.terminals = next_terminal - 1;
  if (p.terminals > kMaxTerminalAddress) {
    return InvalidArgument("demo: " + std::to_string(n_customers) + " customers need " +
                               std::to_string(p.terminals) +
                               " terminals, more than the 65534 addresses of area code 1509",
                           "customers");
  }
  return p;
}

// ---- Customers, metering, terminals --------------------------------------------------------

struct Maker {
  SV make;
  SV code;    // in the asset number
  SV series;  // model family
  int weight;
};
constexpr Maker kMeterMakers[] = {
    {"威胜", "01", "102", 16},     {"林洋", "02", "71", 14},  {"华立", "03", "285", 12},
    {"科陆", "04", "719", 12},     {"许继", "05", "566", 10}, {"炬华", "06", "791", 10},
    {"三星电气", "07", "188", 12}, {"海兴", "08", "208", 8},  {"浩宁达", "09", "116", 6},
};
constexpr int kMeterMakerWeights[] = {16, 14, 12, 12, 10, 10, 12, 8, 6};

struct TerminalMaker {
  SV make;
  SV abbr;
};
constexpr TerminalMaker kTerminalMakers[] = {{"威胜", "WS"}, {"林洋", "LY"},     {"科陆", "CL"},
                                             {"许继", "XJ"}, {"东软载波", "DR"}, {"鼎信", "TOP"},
                                             {"炬华", "JH"}, {"三星电气", "SX"}};

enum class MeterKind { kSinglePhase, kThreePhaseDirect, kThreePhaseCt, kHighVoltage };

constexpr SV kRegistersSingle = "total";
constexpr SV kRegistersTou = "total,sharp,peak,flat,valley";
constexpr SV kRegistersCt =
    "total,sharp,peak,flat,valley,reactive_import,reactive_export,max_demand";
constexpr SV kRegistersHv =
    "total,sharp,peak,flat,valley,export,reactive_import,reactive_export,max_demand";

constexpr int64_t kLowVoltageCtPrimaries[] = {50,  75,  100, 150, 200,  250,  300,
                                              400, 500, 600, 800, 1000, 1200, 1500};
constexpr int64_t kHighVoltageCtPrimaries[] = {10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300};

// The smallest standard CT whose primary carries the full-load current.
int64_t PickCt(std::span<const int64_t> primaries, int64_t full_load_a) {
  for (int64_t p : primaries) {
    if (p >= full_load_a) return p;
  }
  return primaries.back();
}

struct PointSpec {
  SV name;
  int64_t voltage_v;
  SV tariff;
  int64_t capacity_kva;
  SV pf;
  SV side;
  MeterKind meter;
  int64_t ct_primary_a = 1;
  int64_t pt_primary_v = 1;
};

struct Chunk {
  int64_t first = 0, end = 0;  // customers [first, end)
  TableRows customers{kCustomers};
  TableRows contacts{kContacts};
  TableRows accounts{kAccounts};
  TableRows points{kPoints};
  TableRows meters{kMeters};
  TableRows installations{kInstallations};
  TableRows readings{kReadings};
  TableRows terminals{kTerminals};
  TableRows terminal_meters{kTerminalMeters};
  std::array<int64_t, 5> by_category{};
  int64_t special_terminals = 0;
  int64_t large_customer_terminals = 0;
  double generate_seconds = 0;

  std::array<const TableRows*, 9> tables() const {
    return {&customers,     &contacts, &accounts,  &points,         &meters,
            &installations, &readings, &terminals, &terminal_meters};
  }
};

// Generates customers in order, chunk by chunk. Not thread-safe; Generate calls must be in
// order (they carry the id counters), possibly on another thread than the plan's owner.
class Generator {
 public:
  explicit Generator(const Plan& plan) : p_(plan) {}

  std::unique_ptr<Chunk> Generate(int64_t first, int64_t end) {
    Steady::time_point t0 = Steady::now();
    auto ch = std::make_unique<Chunk>();
    ch->first = first;
    ch->end = end;
    for (int64_t k = first; k < end; ++k) {
      while (area_ < p_.areas.size() &&
             k >= p_.areas[area_].first_customer + p_.areas[area_].customers) {
        ++area_;
        area_pn_ = 0;
      }
      const AreaPlan& a = p_.areas[area_];
      Customer(k, a, k - a.first_customer, *ch);
    }
    ch->generate_seconds = SecondsSince(t0);
    return ch;
  }

 private:
  void Customer(int64_t k, const AreaPlan& a, int64_t pos, Chunk& ch);
  void Metering(Rng& r, const AreaPlan& a, int64_t customer_id, const std::string& customer_no,
                Category cat, const std::vector<PointSpec>& specs, int64_t opened,
                std::optional<int64_t> closed, bool suspended, Chunk& ch);

  const Plan& p_;
  size_t area_ = 0;
  int64_t area_pn_ = 0;  // last measurement point number used on the current area's terminal
  int64_t next_point_ = 1, next_meter_ = 1, next_installation_ = 1, next_contact_ = 1,
          next_terminal_meter_ = 1;
};

void Generator::Customer(int64_t k, const AreaPlan& a, int64_t pos, Chunk& ch) {
  const CountyPlan& cp = p_.counties[a.county];
  const CountyInfo& ci = *cp.info;
  const StationPlan& sp = p_.stations[a.station];
  const int64_t now = p_.now_us;
  Rng r = Rng::For(p_.seed, kStreamCustomer, static_cast<uint64_t>(k));
  const int64_t id = k + 1;

  std::span<const int> mix = a.urban ? std::span<const int>(kUrbanMix) : kRuralMix;
  Category cat = a.is_private ? a.private_category : static_cast<Category>(r.Weighted(mix));
  ++ch.by_category[static_cast<size_t>(cat)];
  const bool large = a.is_private;
  std::string customer_no = cp.no_prefix + Pad(k - cp.first_customer + 1, 8);

  // Who the customer is.
  std::string name, id_doc_type, id_doc_no, holder, registry;
  bool holder_male = true;
  std::optional<std::string> phone, mobile;
  if (cat == Category::kResidential) {
    holder_male = r.Chance(5000);
    name = PersonName(r, holder_male, r.Chance(ci.mongolian_per_10000));
    holder = name;
  } else {
    Business b;
    if (large) {
      b = a.business;
    } else {
      BusinessKind kind = cat == Category::kCommercial     ? BusinessKind::kShop
                          : cat == Category::kAgricultural ? BusinessKind::kAgricultural
                                                           : BusinessKind::kOther;
      b = MakeBusiness(r, kind, {&ci, a.town, a.locality, a.street});
    }
    name = std::move(b.name);
    holder = std::move(b.holder);
    holder_male = b.holder_male;
    registry = std::move(b.registry);
  }
  if (registry.empty()) {
    // A person: resident ID registered in this county (or, for one in eight, another one).
    auto counties = UlanqabCounties();
    SV area6 = r.Chance(8800) ? ci.admin_code : counties[r.Below(counties.size())].admin_code;
    int64_t age = r.Between(22, 86);
    int64_t birth = p_.today - age * kDaysPerYear - r.Below(kDaysPerYear);
    id_doc_type = "resident_id";
    id_doc_no = MakeResidentId(r, area6, CivilFromDays(birth), holder_male);
    mobile = r.Chance(9600) ? std::optional<std::string>(MobileNumber(r)) : std::nullopt;
    if (r.Chance(600)) phone = LandlineNumber(r);
  } else {
    id_doc_type = "unified_credit_code";
    id_doc_no = MakeCreditCode(r, registry, ci.admin_code);
    if (r.Chance(large ? 9500 : 5000)) phone = LandlineNumber(r);
    if (r.Chance(9000)) mobile = MobileNumber(r);
  }

  // Where.
  std::string address;
  if (large) {
    address = a.address;
  } else if (a.urban && cat == Category::kResidential) {
    // Six-storey buildings, two units, two flats a floor: 24 households a building.
    int64_t building = pos / 24 + 1, unit = pos % 24 / 12 + 1, floor = pos % 12 / 2 + 1,
            flat = pos % 2 + 1;
    address = a.address + std::to_string(building) + "号楼" + std::to_string(unit) + "单元" +
              std::to_string(floor) + "0" + std::to_string(flat) + "室";
  } else if (a.urban) {
    address = std::string(kCity) + std::string(ci.name) + a.town + a.street +
              std::to_string(a.street_no + r.Between(1, 60)) + "号";
  } else if (cat == Category::kAgricultural) {
    static constexpr SV kSides[] = {"东", "西", "南", "北"};
    address = a.address + std::string(r.Pick(kSides)) + "地";
  } else {
    address = a.address + std::to_string(pos / 30 + 1) + "组" + std::to_string(pos % 30 + 1) + "号";
  }

  // When, and in which state.
  const int64_t since_1990 = p_.today - DaysFromCivil(1990, 1, 1);
  int64_t opened = p_.today - 1 -
                   static_cast<int64_t>(std::min(r.Below(static_cast<uint64_t>(since_1990)),
                                                 r.Below(static_cast<uint64_t>(since_1990))));
  int close_per_10000 = 0, suspend_per_10000 = 0;
  switch (cat) {
    case Category::kResidential:
      close_per_10000 = 50, suspend_per_10000 = 20;
      break;
    case Category::kCommercial:
      close_per_10000 = large ? 0 : 80, suspend_per_10000 = large ? 100 : 150;
      break;
    case Category::kLargeIndustry:
      suspend_per_10000 = 400;  // 暂停: ferroalloy furnaces stop when prices fall
      break;
    case Category::kAgricultural:
      close_per_10000 = 50, suspend_per_10000 = 300;
      break;
    case Category::kOther:
      suspend_per_10000 = 50;
      break;
  }
  std::optional<int64_t> closed;
  bool suspended = false;
  std::string status = "active";
  int64_t roll = static_cast<int64_t>(r.Below(10000));
  if (roll < close_per_10000) {
    closed = opened + static_cast<int64_t>(r.Below(static_cast<uint64_t>(p_.today - opened)));
    status = "closed";
  } else if (roll < close_per_10000 + suspend_per_10000) {
    suspended = true;
    status = "suspended";
  }

  std::optional<int64_t> manager;
  if (large) manager = cp.manager_user_id;
  std::optional<std::string> email;
  ch.customers.Add(id, customer_no, name, kCategoryNames[static_cast<size_t>(cat)], id_doc_type,
                   id_doc_no, address, phone, mobile, email, status, sp.dept_id, a.id, manager,
                   DateText(opened), closed ? Value(DateText(*closed)) : Value(), now, now);

  // Contacts: the owner of every business; electrician and finance of large customers.
  if (cat != Category::kResidential) {
    std::string owner_mobile = mobile ? *mobile : MobileNumber(r);
    ch.contacts.Add(next_contact_++, id, holder, "owner", owner_mobile, Value(), true, now, now);
    if (large) {
      ch.contacts.Add(next_contact_++, id, PersonName(r, true, r.Chance(ci.mongolian_per_10000)),
                      "electrician", MobileNumber(r), Value(), false, now, now);
      ch.contacts.Add(next_contact_++, id, PersonName(r, r.Chance(3000), false), "finance",
                      phone ? *phone : MobileNumber(r),
                      "finance" + std::to_string(id) + "@example.com", false, now, now);
    }
  }

  // The account.
  {
    static constexpr SV kMethods[] = {"counter", "bank_debit", "prepaid", "online"};
    static constexpr int kResidentialMethods[] = {25, 15, 30, 30};
    static constexpr int kBusinessMethods[] = {35, 25, 10, 30};
    static constexpr int kLargeMethods[] = {15, 55, 0, 30};
    static constexpr int kBankWeights[] = {18, 22, 18, 10, 14, 8, 10};
    std::span<const int> weights = cat == Category::kResidential ? kResidentialMethods
                                   : large ? std::span<const int>(kLargeMethods)
                                           : kBusinessMethods;
    SV method = kMethods[r.Weighted(weights)];
    Value bank_name, bank_account;
    if (method == "bank_debit") {
      size_t bank = r.Weighted(kBankWeights);
      bank_name = BankBranchName(bank, ci);
      bank_account = registry.empty() ? DebitCardNumber(r, bank) : CorporateAccountNumber(r);
    }
    Value invoice_title, tax_no;
    if (!registry.empty() && registry != "54" && registry != "11") {
      invoice_title = name;
      tax_no = id_doc_no;
    }
    ch.accounts.Add(id, customer_no + "01", id, name, method, std::move(bank_name),
                    std::move(bank_account), std::move(invoice_title), std::move(tax_no),
                    closed ? "closed" : "active", sp.dept_id, now, now);
  }

  // Metering points.
  std::vector<PointSpec> specs;
  auto lv_ct = [](int64_t kva) {
    return PickCt(kLowVoltageCtPrimaries, kva * 1519 / 1000);  // I = S / (√3 × 0.38 kV)
  };
  switch (cat) {
    case Category::kResidential: {
      static constexpr int64_t kKva[] = {4, 6, 8, 10, 12};
      static constexpr int kW[] = {15, 30, 30, 18, 7};
      specs.push_back({"居民生活用电", 220, "residential_lv", kKva[r.Weighted(kW)], "none", "low",
                       MeterKind::kSinglePhase});
      break;
    }
    case Category::kCommercial:
      if (large) {
        // 高供低计: supplied at 10 kV, metered on the low side through CTs.
        specs.push_back({"经营用电", 10000, "commercial_10kv", a.capacity_kva, "0.85", "low",
                         MeterKind::kThreePhaseCt, lv_ct(a.capacity_kva)});
      } else {
        static constexpr int64_t kKva[] = {10, 15, 20, 30, 50, 80, 100, 125, 160};
        static constexpr int kW[] = {20, 15, 15, 15, 12, 8, 7, 4, 4};
        int64_t kva = kKva[r.Weighted(kW)];
        PointSpec s{"经营用电",
                    380,
                    "commercial_lv",
                    kva,
                    kva >= 100 ? "0.85" : "none",
                    "low",
                    kva >= 50 ? MeterKind::kThreePhaseCt : MeterKind::kThreePhaseDirect};
        if (kva >= 50) s.ct_primary_a = lv_ct(kva);
        specs.push_back(s);
      }
      break;
    case Category::kLargeIndustry: {
      // 高供高计: 10 kV, CT + PT on the high side; the two-part tariff and 0.90 PF standard.
      PointSpec s{"生产用电", 10000,  "large_industry_10kv",  a.capacity_kva,
                  "0.90",     "high", MeterKind::kHighVoltage};
      s.ct_primary_a = PickCt(kHighVoltageCtPrimaries, a.capacity_kva * 1000 / 17321);
      s.pt_primary_v = 10000;
      specs.push_back(s);
      if (r.Chance(4000)) {
        specs.push_back({"办公生活用电", 380, "commercial_lv", 50, "none", "low",
                         MeterKind::kThreePhaseCt, 100});
      }
      break;
    }
    case Category::kAgricultural: {
      static constexpr int64_t kKva[] = {10, 15, 20, 30, 40, 50, 63, 80};
      int64_t kva = r.Pick(kKva);
      PointSpec s{"农业排灌用电",
                  380,
                  "agricultural_lv",
                  kva,
                  "none",
                  "low",
                  kva >= 50 ? MeterKind::kThreePhaseCt : MeterKind::kThreePhaseDirect};
      if (kva >= 50) s.ct_primary_a = lv_ct(kva);
      specs.push_back(s);
      break;
    }
    case Category::kOther: {
      static constexpr int64_t kKva[] = {10, 20, 30, 50, 80, 100};
      int64_t kva = r.Pick(kKva);
      PointSpec s{"公共服务用电",
                  380,
                  "other_lv",
                  kva,
                  "none",
                  "low",
                  kva >= 50 ? MeterKind::kThreePhaseCt : MeterKind::kThreePhaseDirect};
      if (kva >= 50) s.ct_primary_a = lv_ct(kva);
      specs.push_back(s);
      break;
    }
  }
  Metering(r, a, id, customer_no, cat, specs, opened, closed, suspended, ch);

  // The private transformer's terminal, after its customer (foreign key).
  if (large) {
    Rng tr = Rng::For(p_.seed, kStreamTerminal, static_cast<uint64_t>(a.terminal_id));
    const TerminalMaker& m = tr.Pick(kTerminalMakers);
    bool industry = cat == Category::kLargeIndustry;
    (industry ? ch.special_terminals : ch.large_customer_terminals) += 1;
    std::string model = std::string(industry ? "FKGA42-" : "FKGA43-") + std::string(m.abbr);
    SV comm = industry || tr.Chance(6000) ? SV("4g") : SV("ethernet");
    Value sim = comm == "4g" ? Value("1440" + Pad(static_cast<int64_t>(tr.Below(1'000'000'000)), 9))
                             : Value();
    int64_t installed =
        std::max(opened, DaysFromCivil(2015, 6, 1)) + static_cast<int64_t>(tr.Below(90));
    installed = std::min(installed, p_.today - 1);
    ch.terminals.Add(a.terminal_id, "ZD" + std::string(kAreaCode) + Pad(a.terminal_id, 8),
                     industry ? "special_transformer" : "large_customer", kAreaCode, a.terminal_id,
                     m.make, model, "gdw1376_1", comm, std::move(sim), sp.dept_id, a.id, id,
                     Value(), "installed", DateText(installed), now, now);
  }
}

void Generator::Metering(Rng& r, const AreaPlan& a, int64_t customer_id,
                         const std::string& customer_no, Category cat,
                         const std::vector<PointSpec>& specs, int64_t opened,
                         std::optional<int64_t> closed, bool suspended, Chunk& ch) {
  const int64_t now = p_.now_us;
  const int64_t dept = p_.stations[a.station].dept_id;
  const int64_t rotation_days = 8 * kDaysPerYear;  // meters are rotated after eight years
  for (size_t i = 0; i < specs.size(); ++i) {
    const PointSpec& s = specs[i];
    const int64_t point_id = next_point_++;
    const int64_t meter_id = next_meter_++;
    const int64_t inst_id = next_installation_++;
    ch.points.Add(point_id, customer_no + Pad(static_cast<int64_t>(i) + 1, 2), s.name, customer_id,
                  a.id, dept, s.voltage_v, s.tariff, s.capacity_kva, s.pf, s.side, "billing",
                  closed      ? "removed"
                  : suspended ? "suspended"
                              : "active",
                  now, now);

    // The meter now on the point: installed when the customer connected, or at the last
    // rotation within eight years.
    int64_t last_day = closed ? *closed : p_.today - 1;
    int64_t earliest_rotation = std::max(opened, p_.today - rotation_days);
    int64_t installed = opened;
    SV reason = "new";
    if (earliest_rotation > opened && earliest_rotation <= last_day) {
      installed =
          earliest_rotation +
          static_cast<int64_t>(r.Below(static_cast<uint64_t>(last_day - earliest_rotation + 1)));
      reason = "rotation";
    }
    int64_t produced = installed - r.Between(20, 400);
    Date produced_date = CivilFromDays(produced);

    const Maker& mk = kMeterMakers[r.Weighted(kMeterMakerWeights)];
    SV protocol = produced_date.year >= 2021 ? "dlt698_45" : "dlt645_2007";
    std::string model;
    int64_t phases = 3;
    SV accuracy, rated, registers;
    int64_t ct_sec = 1, pt_sec = 1;
    switch (s.meter) {
      case MeterKind::kSinglePhase:
        model = "DDZY" + std::string(mk.series) + "C-Z";
        phases = 1, accuracy = "2", rated = "5(60)A", registers = kRegistersSingle;
        break;
      case MeterKind::kThreePhaseDirect:
        model = "DTZY" + std::string(mk.series) + "-Z";
        accuracy = "1", rated = "10(100)A", registers = kRegistersTou;
        break;
      case MeterKind::kThreePhaseCt:
        model = "DTZY" + std::string(mk.series);
        accuracy = "0.5S", rated = "1.5(6)A", registers = kRegistersCt, ct_sec = 5;
        break;
      case MeterKind::kHighVoltage:
        model = "DSZY" + std::string(mk.series);
        accuracy = s.capacity_kva >= 1000 ? "0.2S" : "0.5S";
        rated = "3x100V 1.5(6)A";
        registers = kRegistersHv, ct_sec = 5, pt_sec = 100;
        break;
    }
    int64_t multiplier = (s.ct_primary_a / ct_sec) * (s.pt_primary_v / pt_sec);
    std::string asset_no =
        "1509" + std::string(mk.code) + Pad(produced_date.year % 100, 2) + Pad(meter_id, 14);
    ch.meters.Add(meter_id, asset_no, mk.make, std::move(model), phases, accuracy, rated, registers,
                  s.ct_primary_a, ct_sec, s.pt_primary_v, pt_sec, multiplier, Pad(meter_id, 12),
                  protocol, closed ? "removed" : "installed", dept, DateText(produced), now, now);

    int64_t installed_us = LocalInstantUs(installed, r.Between(9 * 3600, 17 * 3600));
    Value removed_us, remove_reason;
    if (closed) {
      removed_us = LocalInstantUs(*closed, r.Between(9 * 3600, 17 * 3600));
      remove_reason = "closure";
    }
    ch.installations.Add(inst_id, meter_id, point_id, installed_us, std::move(removed_us), reason,
                         std::move(remove_reason), now, now);

    // Readings at installation (a new meter: a few kWh of factory testing), split over the
    // time-of-use registers so that they add up to the total; at removal, the years' use.
    int64_t total = r.Between(0, 50'000);  // dWh: 0.0001 kWh
    auto add_readings = [&](SV event, int64_t total_dwh) {
      int64_t sharp = total_dwh * r.Between(5, 15) / 100;
      int64_t peak = total_dwh * r.Between(25, 35) / 100;
      int64_t flat = total_dwh * r.Between(30, 40) / 100;
      int64_t valley = total_dwh - sharp - peak - flat;
      ch.readings.Add(inst_id, event, "total", total_dwh);
      if (registers == kRegistersSingle) return;
      ch.readings.Add(inst_id, event, "sharp", sharp);
      ch.readings.Add(inst_id, event, "peak", peak);
      ch.readings.Add(inst_id, event, "flat", flat);
      ch.readings.Add(inst_id, event, "valley", valley);
      if (registers == kRegistersTou) return;
      if (registers == kRegistersHv) ch.readings.Add(inst_id, event, "export", int64_t{0});
      ch.readings.Add(inst_id, event, "reactive_import", total_dwh * r.Between(10, 45) / 100);
      ch.readings.Add(inst_id, event, "reactive_export", total_dwh * r.Between(0, 4) / 100);
      ch.readings.Add(inst_id, event, "max_demand", int64_t{0});
    };
    add_readings("install", total);
    if (closed) {
      int64_t years_x100 = (*closed - installed) * 100 / kDaysPerYear;
      int64_t kwh_per_year =
          cat == Category::kResidential ? r.Between(800, 3000) : r.Between(3000, 40000);
      add_readings("remove", total + kwh_per_year * 10'000 * years_x100 / 100);
    }

    // Behind the terminal: the area's concentrator (carrier, port 31) or the private
    // transformer's terminal (RS-485, port 2). Removed meters are taken off.
    if (!closed) {
      int64_t pn = a.is_private ? static_cast<int64_t>(i) + 1 : ++area_pn_;
      int64_t baud = protocol == "dlt698_45" ? 9600 : 2400;
      ch.terminal_meters.Add(next_terminal_meter_++, a.terminal_id, meter_id, pn,
                             a.is_private ? 2 : 31, baud, protocol, now, now);
    }
  }
}

// ---- Writing -------------------------------------------------------------------------------

class StageTimes {
 public:
  void Add(const std::string& stage, double seconds) {
    auto it = index_.find(stage);
    if (it == index_.end()) {
      index_.emplace(stage, stages_.size());
      stages_.push_back({stage, seconds});
    } else {
      stages_[it->second].seconds += seconds;
    }
  }
  std::vector<DemoStageTime> Take() { return std::move(stages_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<DemoStageTime> stages_;
};

Status WriteTables(store::Connection& c, std::span<const TableRows* const> tables,
                   StageTimes& times) {
  for (const TableRows* t : tables) {
    Steady::time_point t0 = Steady::now();
    RETURN_IF_ERROR(t->Write(c));
    times.Add("write " + std::string(t->table()), SecondsSince(t0));
  }
  return Status::Ok();
}

void Progress(const DemoOptions& o, SV stage, int64_t done, int64_t total) {
  if (o.progress) o.progress(stage, done, total);
}

}  // namespace

Result<DemoSummary> BuildDemo(store::Database& db, const Clock& clock, const DemoOptions& options) {
  const Steady::time_point start = Steady::now();
  StageTimes times;
  if (options.customers < 1 || options.customers > kMaxDemoCustomers) {
    return InvalidArgument("demo: customers must be between 1 and " +
                               std::to_string(kMaxDemoCustomers) + ", got " +
                               std::to_string(options.customers),
                           "customers");
  }

  // Refuse early, before the slow password hash, when the database is not empty.
  auto check_empty = [](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(int64_t customers, c.QueryInt("SELECT COUNT(*) FROM customers"));
    ASSIGN_OR_RETURN(int64_t departments, c.QueryInt("SELECT COUNT(*) FROM departments"));
    if (customers > 0 || departments > 0) {
      return FailedPrecondition("demo: the database is not empty (" + std::to_string(customers) +
                                " customers, " + std::to_string(departments) +
                                " departments); build the demo into a new database");
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(db.Read(check_empty));

  Progress(options, "org", 0, 1);
  Steady::time_point t0 = Steady::now();
  const int64_t now = clock.NowMicros();
  ASSIGN_OR_RETURN(Plan plan, MakePlan(options.seed, options.customers, now));
  times.Add("plan", SecondsSince(t0));

  // Start generating the first customers while the organisation is written.
  Generator gen(plan);
  const int64_t total = plan.customers;
  auto next_end = [&](int64_t first) { return std::min(total, first + kCustomersPerChunk); };
  std::future<std::unique_ptr<Chunk>> pending =
      std::async(std::launch::async, [&gen, e = next_end(0)] { return gen.Generate(0, e); });

  // ---- Organisation ----
  t0 = Steady::now();
  org::OrgService org_service(db, clock, org::OrgOptions{});
  RETURN_IF_ERROR(org_service.EnsureBuiltinRoles());
  times.Add("roles", SecondsSince(t0));
  t0 = Steady::now();
  org::PasswordPolicy policy;
  for (const UserPlan& u : plan.users) {
    Status s = org::CheckPasswordPolicy(kDemoPassword, u.username, u.admin, policy);
    if (!s.ok()) return Internal("demo: the demo password fails the policy: " + s.message());
  }
  ASSIGN_OR_RETURN(std::string hash, org::HashPassword(kDemoPassword, options.password_strength));
  times.Add("password hash", SecondsSince(t0));

  t0 = Steady::now();
  RETURN_IF_ERROR(db.Write([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(check_empty(c));
    std::map<std::string, int64_t, std::less<>> role_ids;
    RETURN_IF_ERROR(c.Query("SELECT code, id FROM roles", {},
                            [&](const store::Row& row) { role_ids[row.Text(0)] = row.Int(1); }));
    TableRows depts(kDepartments), users(kUsers), user_roles(kUserRoles);
    for (const DeptPlan& d : plan.depts) {
      depts.Add(d.id, d.code, d.name, d.kind, d.parent_id, d.path, "active", d.sort_order, now,
                now);
    }
    for (const UserPlan& u : plan.users) {
      auto role = role_ids.find(u.role);
      if (role == role_ids.end()) {
        return Internal("demo: built-in role '" + std::string(u.role) + "' is missing");
      }
      users.Add(u.id, u.username, u.display_name, u.department_id, u.phone, Value(), hash, now,
                int64_t{0}, "active", now, now);
      user_roles.Add(u.id, role->second);
    }
    const TableRows* tables[] = {&depts, &users, &user_roles};
    return WriteTables(c, tables, times);
  }));
  times.Add("org", SecondsSince(t0));
  Progress(options, "org", 1, 1);

  // ---- Grid, and the terminals of public areas and substations ----
  Progress(options, "grid", 0, 1);
  t0 = Steady::now();
  RETURN_IF_ERROR(db.Write([&](store::Connection& c) -> Status {
    TableRows subs(kSubstations), feeders(kFeeders), areas(kAreas), terminals(kTerminals);
    const int64_t begin_2014 = DaysFromCivil(2014, 1, 1);
    for (const SubstationPlan& s : plan.substations) {
      const CountyPlan& cp = plan.counties[s.county];
      subs.Add(s.id, s.code, s.name, s.voltage_v, cp.dept_id, s.address, "in_service", now, now);
      Rng tr = Rng::For(plan.seed, kStreamTerminal, static_cast<uint64_t>(s.terminal_id));
      const TerminalMaker& m = tr.Pick(kTerminalMakers);
      int64_t installed =
          begin_2014 +
          static_cast<int64_t>(tr.Below(static_cast<uint64_t>(plan.today - begin_2014)));
      terminals.Add(s.terminal_id, "ZD" + std::string(kAreaCode) + Pad(s.terminal_id, 8),
                    "substation", kAreaCode, s.terminal_id, m.make, "ERTU-" + std::string(m.abbr),
                    "gdw1376_1", tr.Chance(7000) ? "fiber" : "ethernet", Value(), cp.dept_id,
                    Value(), Value(), s.id, "installed", DateText(installed), now, now);
    }
    for (const FeederPlan& f : plan.feeders) {
      feeders.Add(f.id, f.code, f.name, plan.substations[f.substation].id, int64_t{10000},
                  plan.counties[f.county].dept_id, "in_service", now, now);
    }
    for (const AreaPlan& a : plan.areas) {
      int64_t dept = plan.stations[a.station].dept_id;
      areas.Add(a.id, a.code, a.name, plan.feeders[a.feeder].id, dept, a.capacity_kva,
                a.is_private ? "private" : "public", a.address, "in_service", now, now);
      if (a.is_private) continue;  // written with its customer
      Rng tr = Rng::For(plan.seed, kStreamTerminal, static_cast<uint64_t>(a.terminal_id));
      const TerminalMaker& m = tr.Pick(kTerminalMakers);
      SV comm = tr.Chance(8500) ? "4g" : "gprs";
      int64_t installed =
          begin_2014 +
          static_cast<int64_t>(tr.Below(static_cast<uint64_t>(plan.today - begin_2014)));
      terminals.Add(a.terminal_id, "ZD" + std::string(kAreaCode) + Pad(a.terminal_id, 8),
                    "public_transformer", kAreaCode, a.terminal_id, m.make,
                    "DJGZ23-" + std::string(m.abbr), "gdw1376_1", comm,
                    "1440" + Pad(static_cast<int64_t>(tr.Below(1'000'000'000)), 9), dept, a.id,
                    Value(), Value(), "installed", DateText(installed), now, now);
    }
    const TableRows* tables[] = {&subs, &feeders, &areas, &terminals};
    return WriteTables(c, tables, times);
  }));
  times.Add("grid", SecondsSince(t0));
  Progress(options, "grid", 1, 1);

  // ---- Customers and everything behind them, a transaction per chunk ----
  DemoSummary sum;
  std::array<int64_t, 5> by_category{};
  int64_t rows_contacts = 0, rows_points = 0, rows_meters = 0, rows_inst = 0, rows_readings = 0,
          rows_tm = 0, special = 0, large_customer = 0;
  Progress(options, "customers", 0, total);
  std::unique_ptr<Chunk> retired;  // freed by the generator thread, off the writer's path
  for (int64_t first = 0; first < total;) {
    t0 = Steady::now();
    std::unique_ptr<Chunk> chunk = pending.get();
    times.Add("wait for generator", SecondsSince(t0));
    times.Add("generate (overlapped)", chunk->generate_seconds);
    const int64_t end = chunk->end;
    if (end < total) {
      pending = std::async(std::launch::async,
                           [&gen, end, e = next_end(end), old = std::move(retired)]() mutable {
                             old.reset();
                             return gen.Generate(end, e);
                           });
    }
    t0 = Steady::now();
    double in_tables = 0;
    RETURN_IF_ERROR(db.Write([&](store::Connection& c) -> Status {
      Steady::time_point t1 = Steady::now();
      auto tables = chunk->tables();
      Status s = WriteTables(c, tables, times);
      in_tables = SecondsSince(t1);
      return s;
    }));
    times.Add("begin + commit", SecondsSince(t0) - in_tables);
    for (size_t i = 0; i < 5; ++i) by_category[i] += chunk->by_category[i];
    rows_contacts += chunk->contacts.rows();
    rows_points += chunk->points.rows();
    rows_meters += chunk->meters.rows();
    rows_inst += chunk->installations.rows();
    rows_readings += chunk->readings.rows();
    rows_tm += chunk->terminal_meters.rows();
    special += chunk->special_terminals;
    large_customer += chunk->large_customer_terminals;
    retired = std::move(chunk);
    first = end;
    Progress(options, "customers", first, total);
  }

  // ---- Finish: identities, the audit row ----
  Progress(options, "finish", 0, 1);
  t0 = Steady::now();
  sum.seed = options.seed;
  sum.departments = static_cast<int64_t>(plan.depts.size());
  sum.users = static_cast<int64_t>(plan.users.size());
  sum.substations = static_cast<int64_t>(plan.substations.size());
  sum.feeders = static_cast<int64_t>(plan.feeders.size());
  sum.transformer_areas = static_cast<int64_t>(plan.areas.size());
  for (const AreaPlan& a : plan.areas) sum.private_transformer_areas += a.is_private ? 1 : 0;
  sum.customers = total;
  sum.residential = by_category[0];
  sum.commercial = by_category[1];
  sum.large_industry = by_category[2];
  sum.agricultural = by_category[3];
  sum.other = by_category[4];
  sum.contacts = rows_contacts;
  sum.accounts = total;
  sum.metering_points = rows_points;
  sum.meters = rows_meters;
  sum.installations = rows_inst;
  sum.installation_readings = rows_readings;
  sum.substation_terminals = sum.substations;
  sum.public_transformer_terminals = sum.transformer_areas - sum.private_transformer_areas;
  sum.special_transformer_terminals = special;
  sum.large_customer_terminals = large_customer;
  sum.terminals = plan.terminals;
  sum.terminal_meters = rows_tm;
  for (const UserPlan& u : plan.users) {
    const DeptPlan& d = plan.depts[u.dept_index];
    sum.logins.push_back(
        {u.username, std::string(kDemoPassword), std::string(u.role), d.code, d.name});
  }
  nlohmann::json after = {
      {"generator", "gridmis demo"},
      {"seed", options.seed},
      {"customers", sum.customers},
      {"departments", sum.departments},
      {"users", sum.users},
      {"substations", sum.substations},
      {"feeders", sum.feeders},
      {"transformer_areas", sum.transformer_areas},
      {"metering_points", sum.metering_points},
      {"meters", sum.meters},
      {"terminals", sum.terminals},
      {"terminal_meters", sum.terminal_meters},
  };
  RETURN_IF_ERROR(db.Write([&](store::Connection& c) -> Status {
    for (SV table : kIdentityTables) RETURN_IF_ERROR(db.ResetIdentity(c, table));
    org::AuditRecord rec;
    rec.action = "create";
    rec.entity = "demo";
    rec.entity_id = std::to_string(options.seed);
    rec.after_json = after.dump();
    rec.department_id = plan.depts.front().id;
    return org::WriteAudit(c, org::Actor::System("demo"), rec, now);
  }));
  times.Add("finish", SecondsSince(t0));
  Progress(options, "finish", 1, 1);
  sum.stages = times.Take();
  sum.elapsed_seconds = SecondsSince(start);
  return sum;
}

std::string FormatSummary(const DemoSummary& s) {
  auto n = [](int64_t v) { return std::to_string(v); };
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", s.elapsed_seconds);
  std::string out = "Built the Ulanqab (乌兰察布) demo utility, seed " + std::to_string(s.seed) +
                    ", in " + secs + " s:\n";
  out += "  " + n(s.departments) + " departments, " + n(s.users) + " users\n";
  out += "  " + n(s.substations) + " substations, " + n(s.feeders) + " feeders, " +
         n(s.transformer_areas) + " transformer areas (" + n(s.private_transformer_areas) +
         " private)\n";
  out += "  " + n(s.customers) + " customers: " + n(s.residential) + " residential, " +
         n(s.commercial) + " commercial, " + n(s.large_industry) + " large industry, " +
         n(s.agricultural) + " agricultural, " + n(s.other) + " other\n";
  out += "  " + n(s.accounts) + " accounts, " + n(s.contacts) + " contacts\n";
  out += "  " + n(s.metering_points) + " metering points, " + n(s.meters) + " meters, " +
         n(s.installations) + " installations, " + n(s.installation_readings) + " readings\n";
  out += "  " + n(s.terminals) + " terminals (" + n(s.public_transformer_terminals) +
         " public transformer, " + n(s.special_transformer_terminals) + " special transformer, " +
         n(s.large_customer_terminals) + " large customer, " + n(s.substation_terminals) +
         " substation), " + n(s.terminal_meters) + " terminal meters\n";
  out += "Logins, all with the password " + std::string(kDemoPassword) + ":\n";
  std::vector<std::string> counties, stations;
  for (const DemoLogin& l : s.logins) {
    size_t underscore = l.username.find('_');
    if (underscore == std::string::npos) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-10s %-15s %s %s\n", l.username.c_str(), l.role.c_str(),
                    l.department_code.c_str(), l.department_name.c_str());
      out += line;
    } else if (l.department_code.size() == 8) {  // NM1509xx: a county branch
      std::string suffix = l.username.substr(underscore + 1);
      if (counties.empty() || counties.back() != suffix) counties.push_back(suffix);
    } else {
      stations.push_back(l.username);
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string j;
    for (const std::string& x : v) j += (j.empty() ? "" : ", ") + x;
    return j;
  };
  if (!counties.empty()) {
    out +=
        "  county branches: manager_X, clerk_X, reader_X, billing_X, inspector_X, analyst_X, "
        "finance_X, caiji_X for X in " +
        join(counties) + "\n";
  }
  if (!stations.empty()) out += "  supply stations (meter readers): " + join(stations) + "\n";
  return out;
}

}  // namespace gridmis::demo
