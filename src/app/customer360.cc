#include "app/customer360.h"

#include <map>

#include "acquisition/routes.h"
#include "acquisition/terminals.h"
#include "customer/customer.h"
#include "customer/routes.h"
#include "grid/route_helpers.h"
#include "metering/metering.h"
#include "metering/routes.h"

namespace gridmis::app {

using grid::api::ArrayOf;
using grid::api::Obj;
using grid::api::Ref;
using http::Reply;
using http::RouteContext;
using nlohmann::json;

namespace {

void AddSchemas(http::Router& r) {
  customer::AddCustomerSchemas(r);
  metering::AddMeteringSchemas(r);
  acquisition::AddTerminalSchemas(r);
  json current_meter = {
      {"allOf", json::array({Ref("Meter")})},
      {"nullable", true},
      {"description",
       "the installed meter, with installation_id, installed_at, install_readings and the "
       "ct_ratio, pt_ratio and multiplier it was installed with"}};
  json point = {{"allOf", json::array({Ref("MeteringPoint"),
                                       Obj({{"current_meter", current_meter},
                                            {"installations", ArrayOf(Ref("Installation"))}})})}};
  r.AddSchema(
      "Customer360",
      Obj({{"customer", Ref("Customer")},
           {"contacts", ArrayOf(Ref("Contact"))},
           {"accounts", ArrayOf(Ref("Account"))},
           {"metering_points",
            {{"type", "array"}, {"items", point}, {"description", "absent without metering.read"}}},
           {"terminals",
            {{"type", "array"},
             {"items", Ref("Terminal")},
             {"description",
              "terminals reading the installed meters, each with just those meters' Pn entries; "
              "absent without terminal.read"}}}},
          {"customer", "contacts", "accounts"}));
}

Result<json> Customer360(const org::Actor& actor, int64_t id, customer::CustomerService& customers,
                         metering::MeteringService& metering,
                         acquisition::TerminalService& terminals) {
  ASSIGN_OR_RETURN(customer::Customer c, customers.Get(actor, id));
  ASSIGN_OR_RETURN(auto contacts, customers.ListContacts(actor, id));
  ASSIGN_OR_RETURN(auto accounts, customers.ListAccounts(actor, id));
  json body = {
      {"customer", customer::ToJson(c)}, {"contacts", json::array()}, {"accounts", json::array()}};
  for (const auto& k : contacts) body["contacts"].push_back(customer::ToJson(k));
  for (const auto& a : accounts) body["accounts"].push_back(customer::ToJson(a));
  if (!actor.Can("metering.read")) return body;

  ASSIGN_OR_RETURN(auto points, metering.PointsOfCustomer(actor, id));
  std::vector<int64_t> point_ids;
  for (const auto& p : points) point_ids.push_back(p.id);
  ASSIGN_OR_RETURN(auto installations, metering.InstallationsOfPoints(actor, point_ids));
  std::map<int64_t, std::vector<const metering::Installation*>> by_point;
  std::vector<int64_t> current_meter_ids;
  for (const auto& i : installations) {
    by_point[i.metering_point_id].push_back(&i);
    if (!i.removed_at_us) current_meter_ids.push_back(i.meter_id);
  }
  json points_json = json::array();
  for (const auto& p : points) {
    json pj = metering::ToJson(p);
    json current = nullptr;
    json history = json::array();
    for (const metering::Installation* i : by_point[p.id]) {
      history.push_back(metering::ToJson(*i));
      if (!i->removed_at_us) {
        current = metering::ToJson(i->meter);
        current["installation_id"] = i->id;
        current["installed_at"] = FormatUtc(i->installed_at_us);
        current["install_readings"] = metering::ToJson(i->install_readings);
        current["ct_ratio"] = i->ct.ToString();
        current["pt_ratio"] = i->pt.ToString();
        current["multiplier"] = i->multiplier;
      }
    }
    pj["current_meter"] = std::move(current);
    pj["installations"] = std::move(history);
    points_json.push_back(std::move(pj));
  }
  body["metering_points"] = std::move(points_json);
  if (!actor.Can("terminal.read")) return body;

  ASSIGN_OR_RETURN(auto reading, terminals.TerminalsReadingMeters(actor, current_meter_ids));
  json terminals_json = json::array();
  for (const auto& t : reading) terminals_json.push_back(acquisition::ToJson(t));
  body["terminals"] = std::move(terminals_json);
  return body;
}

}  // namespace

void AddCustomer360Route(http::Router& router, customer::CustomerService& customers,
                         metering::MeteringService& metering,
                         acquisition::TerminalService& terminals) {
  AddSchemas(router);
  router.Add({.method = "GET",
              .pattern = "/api/v1/customers/{id}",
              .permission = "customer.read",
              .summary = "The customer 360 view: profile, contacts, accounts, metering points "
                         "with current meters and installation history, and the terminals "
                         "reading them",
              .tag = "customers",
              .response = "Customer360",
              .fn = [&customers, &metering, &terminals](RouteContext& ctx) -> Result<Reply> {
                ASSIGN_OR_RETURN(int64_t id, ctx.IdParam());
                ASSIGN_OR_RETURN(json body,
                                 Customer360(ctx.actor, id, customers, metering, terminals));
                return grid::api::JsonReply(std::move(body));
              }});
}

}  // namespace gridmis::app
