#include "app/dashboard.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "org/actor.h"
#include "store/db.h"

namespace gridmis::app {

using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

constexpr std::string_view kCategories[] = {"residential", "commercial", "large_industry",
                                            "agricultural", "other"};
constexpr std::string_view kPointStatuses[] = {"active", "suspended", "removed"};
constexpr std::string_view kMeterStatuses[] = {"in_stock", "installed", "removed", "scrapped"};
constexpr std::string_view kTerminalKinds[] = {"public_transformer", "special_transformer",
                                               "large_customer", "substation"};

// An object schema from (name, schema) pairs. (Built key by key: json(initializer_list of pairs)
// would make an array of pairs.)
json Props(std::initializer_list<std::pair<std::string, json>> props,
           std::vector<std::string> required = {}) {
  json p = json::object();
  for (const auto& [name, schema] : props) p[name] = schema;
  json j = {{"type", "object"}, {"properties", std::move(p)}};
  if (!required.empty()) j["required"] = std::move(required);
  return j;
}
json IntSchema(std::string description = {}) {
  json j = {{"type", "integer"}};
  if (!description.empty()) j["description"] = std::move(description);
  return j;
}
json CountsBy(std::string description) {
  return {{"type", "object"},
          {"additionalProperties", {{"type", "integer"}}},
          {"description", std::move(description)}};
}

void AddSchemas(http::Router& r) {
  json tally = Props({{"total", IntSchema()}, {"by_status", CountsBy("status -> count")}},
                     {"total", "by_status"});
  r.AddSchema(
      "StatsOverview",
      Props({{"data_scope", {{"type", "string"}, {"description", "the actor's data scope"}}},
             {"department_id", IntSchema("the actor's department")},
             {"customers",
              Props({{"total", IntSchema()},
                     {"by_category",
                      CountsBy("every category (residential, commercial, large_industry, "
                               "agricultural, other) -> count")}},
                    {"total", "by_category"})},
             {"customers_by_county",
              {{"type", "array"},
               {"description",
                "customers grouped by the nearest county ancestor of their department (the "
                "department itself without one), largest first"},
               {"items", Props({{"department_id", IntSchema()},
                                {"department_name", {{"type", "string"}}},
                                {"department_kind", {{"type", "string"}}},
                                {"total", IntSchema()},
                                {"by_category", CountsBy("category -> count")}},
                               {"department_id", "department_name", "total", "by_category"})}}},
             {"metering_points", tally},
             {"meters", tally},
             {"terminals",
              Props({{"total", IntSchema()},
                     {"by_kind", CountsBy("every kind (public_transformer, special_transformer, "
                                          "large_customer, substation) -> count")}},
                    {"total", "by_kind"})}},
            {"data_scope", "department_id"}));
}

template <size_t N>
json ZeroCounts(const std::string_view (&keys)[N]) {
  json j = json::object();
  for (std::string_view k : keys) j[std::string(k)] = 0;
  return j;
}

// The scope condition for a department-owned asset (meters, terminals): "self" means the user's
// own department, as in the meter and terminal lists.
std::string AssetScopeSql(const org::Actor& actor, std::string_view column) {
  if (actor.scope == org::DataScope::kSelf) {
    return std::string(column) + " = " + std::to_string(actor.department_id);
  }
  return actor.ScopeSql(column);
}

struct Department {
  std::optional<int64_t> parent_id;
  std::string kind;
  std::string name;
  int64_t sort_order = 0;
};

// Counts rows of `from_where` grouped by its first selected column into `keys` (unknown values
// are counted in the total but get no key of their own) and returns {"total", by_name}.
Result<json> Tally(store::Connection& c, const std::string& sql, std::string_view by_name,
                   json counts) {
  int64_t total = 0;
  RETURN_IF_ERROR(c.Query(sql, {}, [&](const store::Row& r) {
    int64_t n = r.Int(1);
    total += n;
    std::string key = r.Text(0);
    if (counts.contains(key)) counts[key] = counts[key].get<int64_t>() + n;
  }));
  return json{{"total", total}, {std::string(by_name), std::move(counts)}};
}

Result<json> Overview(const org::Actor& actor, store::Database& db) {
  json body = {{"data_scope", std::string(org::DataScopeName(actor.scope))},
               {"department_id", actor.department_id}};
  const bool customers = actor.Can("customer.read");
  const bool metering = actor.Can("metering.read");
  const bool terminals = actor.Can("terminal.read");
  if (!customers && !metering && !terminals) return body;
  const bool self = actor.scope == org::DataScope::kSelf;

  Status st = db.Read([&](store::Connection& c) -> Status {
    if (customers) {
      std::map<int64_t, Department> depts;
      RETURN_IF_ERROR(c.Query("SELECT id, parent_id, kind, name, sort_order FROM departments", {},
                              [&](const store::Row& r) {
                                depts[r.Int(0)] = {r.OptInt(1), r.Text(2), r.Text(3), r.Int(4)};
                              }));
      // The county a department counts under: itself or its nearest county ancestor, else
      // itself. Memoised, and bounded against a (corrupt) cycle.
      std::map<int64_t, int64_t> county_of;
      auto county = [&](int64_t id) {
        auto found = county_of.find(id);
        if (found != county_of.end()) return found->second;
        int64_t at = id;
        for (int hops = 0; hops < 64; ++hops) {
          auto it = depts.find(at);
          if (it == depts.end()) break;
          if (it->second.kind == "county") return county_of[id] = at;
          if (!it->second.parent_id) break;
          at = *it->second.parent_id;
        }
        return county_of[id] = id;
      };
      json by_category = ZeroCounts(kCategories);
      std::map<int64_t, json> by_county;
      int64_t total = 0;
      RETURN_IF_ERROR(
          c.Query("SELECT c.department_id, c.category, COUNT(*) FROM customers c WHERE " +
                      actor.ScopeSql("c.department_id", "c.account_manager_id") +
                      " GROUP BY c.department_id, c.category",
                  {}, [&](const store::Row& r) {
                    int64_t n = r.Int(2);
                    std::string category = r.Text(1);
                    total += n;
                    if (by_category.contains(category)) {
                      by_category[category] = by_category[category].get<int64_t>() + n;
                    }
                    json& g = by_county[county(r.Int(0))];
                    if (g.is_null()) g = {{"total", 0}, {"by_category", ZeroCounts(kCategories)}};
                    g["total"] = g["total"].get<int64_t>() + n;
                    json& cat = g["by_category"];
                    if (cat.contains(category)) cat[category] = cat[category].get<int64_t>() + n;
                  }));
      body["customers"] = {{"total", total}, {"by_category", std::move(by_category)}};
      std::vector<json> groups;
      for (auto& [id, g] : by_county) {
        auto it = depts.find(id);
        g["department_id"] = id;
        g["department_name"] = it == depts.end() ? "" : it->second.name;
        g["department_kind"] = it == depts.end() ? "" : it->second.kind;
        g["sort_order"] = it == depts.end() ? 0 : it->second.sort_order;
        groups.push_back(std::move(g));
      }
      std::stable_sort(groups.begin(), groups.end(), [](const json& a, const json& b) {
        if (a["total"] != b["total"]) return a["total"].get<int64_t>() > b["total"].get<int64_t>();
        return a["sort_order"].get<int64_t>() < b["sort_order"].get<int64_t>();
      });
      json list = json::array();
      for (json& g : groups) {
        g.erase("sort_order");
        list.push_back(std::move(g));
      }
      body["customers_by_county"] = std::move(list);
    }
    if (metering) {
      // Metering points follow their customer's scope ("self": the customers one manages).
      std::string points =
          self ? "SELECT mp.status, COUNT(*) FROM metering_points mp JOIN customers c ON c.id = "
                 "mp.customer_id WHERE " +
                     actor.ScopeSql("mp.department_id", "c.account_manager_id") +
                     " GROUP BY mp.status"
               : "SELECT mp.status, COUNT(*) FROM metering_points mp WHERE " +
                     actor.ScopeSql("mp.department_id") + " GROUP BY mp.status";
      ASSIGN_OR_RETURN(body["metering_points"],
                       Tally(c, points, "by_status", ZeroCounts(kPointStatuses)));
      ASSIGN_OR_RETURN(body["meters"],
                       Tally(c,
                             "SELECT m.status, COUNT(*) FROM meters m WHERE " +
                                 AssetScopeSql(actor, "m.department_id") + " GROUP BY m.status",
                             "by_status", ZeroCounts(kMeterStatuses)));
    }
    if (terminals) {
      ASSIGN_OR_RETURN(body["terminals"],
                       Tally(c,
                             "SELECT t.kind, COUNT(*) FROM terminals t WHERE " +
                                 AssetScopeSql(actor, "t.department_id") + " GROUP BY t.kind",
                             "by_kind", ZeroCounts(kTerminalKinds)));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return body;
}

}  // namespace

void AddDashboardRoute(http::Router& router, store::Database& db) {
  AddSchemas(router);
  router.Add({.method = "GET",
              .pattern = "/api/v1/stats/overview",
              .summary = "Counts for the home dashboard in your data scope: customers by category "
                         "and county, metering points, meters, terminals by kind (each section "
                         "only with its read permission)",
              .tag = "stats",
              .response = "StatsOverview",
              .fn = [&db](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(json body, Overview(ctx.actor, db));
                return http::JsonReply(std::move(body));
              }});
}

}  // namespace gridmis::app
