// Test support for ingestion and collection: a registry of terminals with installed meters on a
// fresh database (grid::testing::TestUtility), and the simulated fleet of the same terminals
// (each simulated meter with the multiplier it is registered with). Test-only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "acquisition/protocol/gdw1376.h"
#include "acquisition/simulator/simulator.h"
#include "acquisition/terminals.h"
#include "customer/customer.h"
#include "grid/grid.h"
#include "grid/testing.h"
#include "metering/metering.h"

namespace gridmis::acquisition::testing {

struct FieldTerminal {
  int64_t id = 0;
  gdw1376::TerminalKey key;
  std::string kind;
  int64_t department_id = 0;
};

struct FieldPoint {
  int64_t point_id = 0;
  int64_t meter_id = 0;
  FieldTerminal terminal;
  uint16_t pn = 0;
  int64_t multiplier = 1;
  std::string code;
  uint64_t seed = 0;  // of the simulated meter
};

class AcquisitionField {
 public:
  static Result<std::unique_ptr<AcquisitionField>> Create(const std::string& backend,
                                                          const Clock& clock) {
    auto f = std::unique_ptr<AcquisitionField>(new AcquisitionField(clock));
    ASSIGN_OR_RETURN(f->u_, grid::testing::TestUtility::Create(backend, clock));
    const org::Actor& sys = f->u_->system();
    grid::GridService grid(f->db(), clock);
    customer::CustomerService customers(f->db(), clock);
    for (bool b : {false, true}) {
      std::string suffix = b ? "B" : "A";
      int64_t dept = b ? f->u_->county_b : f->u_->county_a;
      grid::SubstationInput s;
      s.code = "SUB-" + suffix;
      s.name = *s.code;
      s.voltage_v = 110'000;
      s.department_id = dept;
      ASSIGN_OR_RETURN(auto sub, grid.CreateSubstation(sys, s));
      grid::FeederInput fd;
      fd.code = "F-" + suffix;
      fd.name = *fd.code;
      fd.substation_id = sub.id;
      ASSIGN_OR_RETURN(auto feeder, grid.CreateFeeder(sys, fd));
      grid::TransformerAreaInput ta;
      ta.code = "TA-" + suffix;
      ta.name = *ta.code;
      ta.feeder_id = feeder.id;
      ta.capacity_kva = 400;
      ta.department_id = b ? dept : f->u_->station_a;
      ASSIGN_OR_RETURN(auto area, grid.CreateTransformerArea(sys, ta));
      customer::CustomerInput c;
      c.customer_no = b ? "1502000001" : "1501000001";
      c.name = "客户" + suffix;
      c.category = "residential";
      c.address = "幸福路" + suffix;
      c.department_id = dept;
      ASSIGN_OR_RETURN(auto cust, customers.Create(sys, c));
      (b ? f->area_b_ : f->area_a_) = area.id;
      (b ? f->customer_b_ : f->customer_a_) = cust.id;
    }
    return f;
  }

  grid::testing::TestUtility& u() { return *u_; }
  store::Database& db() { return u_->db(); }

  // kind public_transformer: in the transformer area of station A1 (or county B); others: of
  // the county's customer.
  Result<FieldTerminal> AddTerminal(const std::string& asset_no, const std::string& kind,
                                    gdw1376::TerminalKey key, bool county_b = false,
                                    const std::string& status = "installed") {
    TerminalService terminals(db(), clock_);
    TerminalInput in;
    in.asset_no = asset_no;
    in.kind = kind;
    char area[8];
    std::snprintf(area, sizeof area, "%04u", unsigned{key.area});
    in.area_code = std::string(area);
    in.address = key.address;
    in.status = status;
    if (kind == "public_transformer") {
      in.transformer_area_id = std::optional<int64_t>(county_b ? area_b_ : area_a_);
    } else {
      in.customer_id = std::optional<int64_t>(county_b ? customer_b_ : customer_a_);
    }
    ASSIGN_OR_RETURN(Terminal t, terminals.Create(u_->system(), in));
    return FieldTerminal{t.id, key, t.kind, t.department_id};
  }

  // A metering point with a meter installed 60 days ago, read by `t` at `pn`. `ct` "200/5"
  // gives multiplier 40.
  Result<FieldPoint> AddPoint(const FieldTerminal& t, uint16_t pn, const std::string& ct = "1/1",
                              const std::string& purpose = "billing") {
    metering::MeteringService metering(db(), clock_);
    TerminalService terminals(db(), clock_);
    bool b = t.department_id == u_->county_b;
    ++serial_;
    FieldPoint p;
    p.terminal = t;
    p.pn = pn;
    p.code = "MP" + std::to_string(100000 + serial_);
    metering::MeteringPointInput mp;
    mp.code = p.code;
    mp.name = p.code;
    mp.customer_id = b ? customer_b_ : customer_a_;
    mp.voltage_v = 220;
    mp.tariff_code = "residential";
    mp.purpose = purpose;
    ASSIGN_OR_RETURN(auto point, metering.CreatePoint(u_->system(), mp));
    p.point_id = point.id;
    metering::MeterInput m;
    m.asset_no = "M" + std::to_string(100000 + serial_);
    m.make = "威胜";
    m.model = "DTZY341";
    m.phases = 3;
    m.accuracy_class = "1";
    m.registers = std::vector<std::string>{"total", "sharp", "peak", "flat", "valley"};
    m.ct_ratio = ct;
    char addr[16];
    std::snprintf(addr, sizeof addr, "%012d", 700000 + serial_);
    m.comm_address = std::optional<std::string>(addr);
    m.department_id = point.department_id;
    ASSIGN_OR_RETURN(auto meter, metering.CreateMeter(u_->system(), m));
    p.meter_id = meter.id;
    p.multiplier = meter.multiplier;
    metering::InstallInput inst;
    inst.meter_id = meter.id;
    inst.installed_at_us = clock_.NowMicros() - 60 * kMicrosPerDay;
    for (const char* r : {"total", "sharp", "peak", "flat", "valley"}) {
      inst.readings[r] = Energy::FromKwh(0);
    }
    RETURN_IF_ERROR(metering.Install(u_->system(), point.id, inst).status());
    RETURN_IF_ERROR(terminals.AddMeter(u_->system(), t.id, {meter.id, pn, {}, {}, {}}).status());
    p.seed = 1000 + static_cast<uint64_t>(serial_);
    points_.push_back(p);
    return p;
  }

  // A meter behind `t` at `pn` that is not installed at any point.
  Result<int64_t> AddUninstalledMeter(const FieldTerminal& t, uint16_t pn) {
    metering::MeteringService metering(db(), clock_);
    TerminalService terminals(db(), clock_);
    ++serial_;
    metering::MeterInput m;
    m.asset_no = "M" + std::to_string(100000 + serial_);
    m.make = "威胜";
    m.model = "DTZY341";
    m.phases = 1;
    m.accuracy_class = "2";
    m.registers = std::vector<std::string>{"total"};
    m.department_id = t.department_id;
    ASSIGN_OR_RETURN(auto meter, metering.CreateMeter(u_->system(), m));
    RETURN_IF_ERROR(terminals.AddMeter(u_->system(), t.id, {meter.id, pn, {}, {}, {}}).status());
    return meter.id;
  }

  const std::vector<FieldPoint>& points() const { return points_; }

  // The simulated terminals of `terminals`, with their registered points.
  std::vector<simulator::SimTerminal> SimTerminals(
      const std::vector<FieldTerminal>& terminals) const {
    std::vector<simulator::SimTerminal> out;
    for (const auto& t : terminals) {
      simulator::SimTerminal st;
      st.key = t.key;
      auto kind = simulator::ParseKind(t.kind);
      st.kind = kind.ok() ? *kind : simulator::TerminalKind::kPublicTransformer;
      for (const auto& p : points_) {
        if (p.terminal.id != t.id) continue;
        simulator::SimMeter m;
        m.pn = p.pn;
        char addr[16];
        std::snprintf(addr, sizeof addr, "%012llu", static_cast<unsigned long long>(p.meter_id));
        m.meter_address = addr;
        m.seed = p.seed;
        m.multiplier = p.multiplier;
        st.meters.push_back(m);
      }
      out.push_back(std::move(st));
    }
    return out;
  }

 private:
  explicit AcquisitionField(const Clock& clock) : clock_(clock) {}

  const Clock& clock_;
  std::unique_ptr<grid::testing::TestUtility> u_;
  int64_t area_a_ = 0, area_b_ = 0, customer_a_ = 0, customer_b_ = 0;
  int serial_ = 0;
  std::vector<FieldPoint> points_;
};

}  // namespace gridmis::acquisition::testing
