#include "acquisition/simulator/registry_fleet.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

namespace gridmis::acquisition::simulator {

namespace {

struct LastRead {
  int64_t read_date = 0;  // yyyymmdd
  int64_t total_dwh = 0;
  int64_t consumption_dwh = 0;
  int64_t days = 0;
};

}  // namespace

Result<std::vector<SimTerminal>> LoadRegistryFleet(store::Database& db, uint64_t seed) {
  std::vector<SimTerminal> terminals;
  std::map<int64_t, size_t> by_id;
  std::map<int64_t, LastRead> last_read;  // by meter id
  Status st = db.Read([&](store::Connection& c) -> Status {
    Status inner = Status::Ok();
    RETURN_IF_ERROR(c.Query(
        "SELECT id, kind, area_code, address FROM terminals WHERE status = 'installed' "
        "ORDER BY id",
        {}, [&](const store::Row& r) {
          if (!inner.ok()) return;
          int64_t id = r.Int(0);
          auto kind = ParseKind(r.TextView(1));
          std::string area = r.Text(2);
          int64_t address = r.Int(3);
          std::string where = "terminal " + std::to_string(id) + ": ";
          if (!kind.ok()) {
            inner = InvalidArgument(where + kind.status().message());
            return;
          }
          if (area.size() != 4 || area.find_first_not_of("0123456789") != std::string::npos) {
            inner = InvalidArgument(where + "area code \"" + area + "\" is not 4 digits");
            return;
          }
          if (address < 1 || address > 65535) {
            inner =
                InvalidArgument(where + "address " + std::to_string(address) + " is not 1..65535");
            return;
          }
          SimTerminal t;
          t.key = {static_cast<uint16_t>(std::stoi(area)), static_cast<uint16_t>(address)};
          t.kind = *kind;
          by_id[id] = terminals.size();
          terminals.push_back(std::move(t));
        }));
    RETURN_IF_ERROR(inner);
    // The latest approved read of each meter (through its installation).
    RETURN_IF_ERROR(
        c.Query("SELECT mi.meter_id, mr.read_date, mr.total_dwh, mr.consumption_dwh, mr.days "
                "FROM meter_reads mr JOIN meter_installations mi ON mi.id = mr.installation_id "
                "WHERE mr.status = 'approved' AND mr.total_dwh IS NOT NULL",
                {}, [&](const store::Row& r) {
                  LastRead& l = last_read[r.Int(0)];
                  int64_t date = r.Int(1);
                  if (date < l.read_date) return;
                  l.read_date = date;
                  l.total_dwh = r.Int(2);
                  l.consumption_dwh = r.IsNull(3) ? 0 : r.Int(3);
                  l.days = r.Int(4);
                }));
    return c.Query(
        "SELECT tm.terminal_id, tm.point_no, m.comm_address, m.multiplier, m.id "
        "FROM terminal_meters tm JOIN meters m ON m.id = tm.meter_id "
        "ORDER BY tm.terminal_id, tm.point_no",
        {}, [&](const store::Row& r) {
          auto it = by_id.find(r.Int(0));
          if (it == by_id.end()) return;  // a terminal not installed
          int64_t pn = r.Int(1);
          if (pn < 1 || pn > 2040) return;
          SimTerminal& t = terminals[it->second];
          SimMeter m;
          m.pn = static_cast<uint16_t>(pn);
          std::string addr = r.IsNull(2) ? std::string() : r.Text(2);
          if (addr.size() != 12 || addr.find_first_not_of("0123456789") != std::string::npos) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%03u%05u%04d", t.key.area % 1000u,
                          static_cast<unsigned>(t.key.address), static_cast<int>(pn));
            addr = buf;
          }
          m.meter_address = addr;
          m.multiplier = std::max<int64_t>(1, r.Int(3));
          int64_t meter_id = r.Int(4);
          m.seed = seed * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(meter_id);
          if (auto lr = last_read.find(meter_id); lr != last_read.end()) {
            const LastRead& l = lr->second;
            Date d{static_cast<int>(l.read_date / 10000), static_cast<int>(l.read_date / 100 % 100),
                   static_cast<int>(l.read_date % 100)};
            m.anchor_day = d.AddDays(1);
            m.anchor_total = Energy::FromDwh(l.total_dwh);
            if (l.days > 0 && l.consumption_dwh > 0) {
              m.mean_daily_dwh = l.consumption_dwh / l.days;
            }
          }
          t.meters.push_back(std::move(m));
        });
  });
  RETURN_IF_ERROR(st);
  return terminals;
}

}  // namespace gridmis::acquisition::simulator
