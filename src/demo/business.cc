#include "demo/business.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "accounts/accounts.h"
#include "accounts/channel.h"
#include "accounts/prepaid.h"
#include "app/app.h"
#include "app/domain.h"
#include "billing/billing.h"
#include "demo/rng.h"
#include "jobs/jobs.h"
#include "org/org.h"
#include "reading/billable.h"
#include "reading/reading.h"
#include "store/db.h"

namespace gridmis::demo {
namespace {

using store::Connection;
using store::Row;

// Random streams of this stage (distinct from demo.cc's).
enum : uint64_t { kStreamUse = 101, kStreamAnomaly, kStreamPay, kStreamParams };

constexpr int kRegTotal = 0, kRegSharp = 1, kRegPeak = 2, kRegFlat = 3, kRegValley = 4,
              kRegExport = 5, kRegReactiveImport = 6, kRegReactiveExport = 7, kRegMaxDemand = 8;
constexpr const char* kRegNames[] = {
    "total",           "sharp",           "peak",      "flat", "valley", "export",
    "reactive_import", "reactive_export", "max_demand"};
constexpr int kRegs = 9;

int RegIndex(std::string_view name) {
  for (int i = 0; i < kRegs; ++i) {
    if (name == kRegNames[i]) return i;
  }
  return -1;
}

// 乌兰察布: heating in winter (electric heating in part of the homes), irrigation in summer.
constexpr int kResidentialSeason[13] = {0, 135, 125, 110, 95, 90, 95, 110, 105, 90, 95, 115, 135};
constexpr int kAgriculturalSeason[13] = {0, 30, 30, 40, 160, 220, 240, 220, 200, 150, 60, 30, 30};

struct PointRow {
  int64_t id = 0;
  int64_t department_id = 0;
  int64_t customer_id = 0;
  std::string category;
  std::string tariff;
  std::string side;
  int64_t capacity_kva = 0;
  int64_t installation_id = 0;
  int64_t installed_day = 0;  // days since the epoch (local)
  int64_t multiplier = 1;
  uint32_t register_mask = 0;
  std::array<int64_t, kRegs> install{};  // register readings at installation, dWh
  std::string payment_method;
};

int64_t LocalDay(int64_t us) { return (us / kMicrosPerSecond + 8 * 3600) / 86400; }
int64_t LocalNoonUs(int64_t day) { return (day * 86400 + 4 * 3600) * kMicrosPerSecond; }

// Primary-side energy per day of a point in a month, in dWh (0.0001 kWh).
int64_t DailyUseDwh(const PointRow& p, uint64_t seed, int month) {
  Rng r = Rng::For(seed, kStreamUse, static_cast<uint64_t>(p.id));
  int64_t kva = std::max<int64_t>(p.capacity_kva, 10);
  int64_t per_mille;  // kWh per day × 1000
  if (p.category == "residential") {
    per_mille = r.Between(2500, 9500) * kResidentialSeason[month] / 100;
  } else if (p.category == "large_industry") {
    // load factor 25–55 % of the capacity at PF ~0.9
    per_mille = kva * 24 * r.Between(250, 550) * 9 / 10;
  } else if (p.category == "commercial") {
    per_mille = kva * r.Between(600, 2200);
  } else if (p.category == "agricultural") {
    per_mille = r.Between(4000, 30000) * kAgriculturalSeason[month] / 100;
  } else {
    per_mille = r.Between(3000, 40000);
  }
  return per_mille * 10;  // 1000ths of a kWh → dWh
}

struct Advance {
  std::array<int64_t, kRegs> reg{};  // meter register advance (secondary side), dWh
};

// The registers' advance over [from_day, to_day) for a point, month by month.
void AddUse(const PointRow& p, uint64_t seed, int64_t from_day, int64_t to_day, int64_t factor_pct,
            Advance* a) {
  Rng r = Rng::For(seed, kStreamUse + 50, static_cast<uint64_t>(p.id));
  const int64_t tan_pct = r.Between(25, 70);  // reactive / active
  const bool tou = (p.register_mask >> kRegValley) & 1;
  int64_t day = from_day;
  while (day < to_day) {
    Date d = Date::FromDays(day);
    int64_t month_end = Date{d.year, d.month, DaysInMonth(d.year, d.month)}.ToDays() + 1;
    int64_t end = std::min(month_end, to_day);
    int64_t days = end - day;
    int64_t primary = DailyUseDwh(p, seed, d.month) * days * factor_pct / 100;
    int64_t total = primary / p.multiplier;
    a->reg[kRegTotal] += total;
    if (tou) {
      bool summer = d.month >= 6 && d.month <= 8;  // 蒙西: 尖峰 only in June–August
      int64_t sharp = summer && ((p.register_mask >> kRegSharp) & 1) ? total * 5 / 100 : 0;
      int64_t peak = total * 30 / 100;
      int64_t flat = total * 38 / 100;
      a->reg[kRegSharp] += sharp;
      a->reg[kRegPeak] += peak;
      a->reg[kRegFlat] += flat;
      a->reg[kRegValley] += total - sharp - peak - flat;
    }
    a->reg[kRegReactiveImport] += total * tan_pct / 100;
    day = end;
  }
}

Status Progress(const BusinessOptions& o, std::string_view stage, int64_t done, int64_t total) {
  if (o.progress) o.progress(stage, done, total);
  return Status::Ok();
}

}  // namespace

Result<BusinessSummary> BuildBusinessHistory(const Config& config, const BusinessOptions& o) {
  BusinessSummary sum;
  const int64_t today = LocalDay(o.now_us);
  const Date today_date = Date::FromDays(today);
  const YearMonth current{today_date.year, today_date.month};
  auto add_months = [](YearMonth ym, int n) {
    int m = ym.year * 12 + (ym.month - 1) + n;
    return YearMonth{m / 12, m % 12 + 1};
  };
  // The opening reads (as taken over from the previous system), two billed months, and the
  // month read but not billed.
  constexpr int kPeriods = 4, kLatest = 3;
  const YearMonth periods[kPeriods] = {add_months(current, -4), add_months(current, -3),
                                       add_months(current, -2), add_months(current, -1)};

  // The history happens in the past: a clock the stages move forward.
  FakeClock clock(LocalNoonUs(Date{periods[0].year, periods[0].month, 1}.ToDays()));
  app::AppOptions ao;
  ao.clock = &clock;
  ao.bulk_load = true;
  ASSIGN_OR_RETURN(std::unique_ptr<app::App> app, app::App::Create(config, ao));
  store::Database& db = app->db();
  app::Domain& dom = app->domain();

  auto user_id = [&](std::string_view username) -> Result<int64_t> {
    return db.ReadValue<int64_t>([&](Connection& c) {
      return c.QueryInt("SELECT id FROM users WHERE username = $1", {username});
    });
  };
  ASSIGN_OR_RETURN(int64_t billing_uid, user_id("billing"));
  ASSIGN_OR_RETURN(int64_t manager_uid, user_id("manager"));
  ASSIGN_OR_RETURN(int64_t clerk_uid, user_id("clerk"));
  ASSIGN_OR_RETURN(int64_t channel_uid, user_id("paychannel"));
  ASSIGN_OR_RETURN(org::Actor billing, app->org().LoadActor(billing_uid));
  ASSIGN_OR_RETURN(org::Actor manager, app->org().LoadActor(manager_uid));
  ASSIGN_OR_RETURN(org::Actor clerk, app->org().LoadActor(clerk_uid));
  ASSIGN_OR_RETURN(org::Actor channel_actor, app->org().LoadActor(channel_uid));
  ASSIGN_OR_RETURN(int64_t city_id, db.ReadValue<int64_t>([](Connection& c) {
    return c.QueryInt("SELECT id FROM departments WHERE code = 'NM1509'");
  }));

  // ---- Meters: register digits; points with their installed meters ----
  RETURN_IF_ERROR(db.Write([](Connection& c) {
    return c.Exec("UPDATE meters SET register_integer_digits = 6 WHERE register_integer_digits = 0")
        .status();
  }));
  std::vector<PointRow> points;
  RETURN_IF_ERROR(db.Read([&](Connection& c) -> Status {
    RETURN_IF_ERROR(c.Query(
        "SELECT mp.id, mp.department_id, mp.customer_id, cu.category, mp.tariff_code, "
        "mp.metering_side, mp.contracted_capacity_kva, mi.id, mi.installed_at_us, "
        "COALESCE(mi.multiplier, m.multiplier), m.registers, "
        "COALESCE((SELECT a.payment_method FROM accounts a WHERE a.customer_id = cu.id "
        "          ORDER BY a.id LIMIT 1), 'counter') "
        "FROM metering_points mp JOIN customers cu ON cu.id = mp.customer_id "
        "JOIN meter_installations mi ON mi.metering_point_id = mp.id AND mi.removed_at_us IS NULL "
        "JOIN meters m ON m.id = mi.meter_id "
        "WHERE mp.purpose = 'billing' AND mp.status = 'active' "
        "ORDER BY mp.department_id, mp.transformer_area_id, mp.id",
        {}, [&](const Row& r) {
          PointRow p;
          p.id = r.Int(0);
          p.department_id = r.Int(1);
          p.customer_id = r.Int(2);
          p.category = r.Text(3);
          p.tariff = r.Text(4);
          p.side = r.Text(5);
          p.capacity_kva = r.Int(6);
          p.installation_id = r.Int(7);
          p.installed_day = LocalDay(r.Int(8));
          p.multiplier = std::max<int64_t>(1, r.Int(9));
          std::string regs = r.Text(10);
          size_t start = 0;
          while (start <= regs.size()) {
            size_t comma = regs.find(',', start);
            if (comma == std::string::npos) comma = regs.size();
            int i = RegIndex(std::string_view(regs).substr(start, comma - start));
            if (i >= 0) p.register_mask |= 1u << i;
            start = comma + 1;
          }
          p.payment_method = r.Text(11);
          points.push_back(std::move(p));
        }));
    std::unordered_map<int64_t, size_t> by_inst;
    by_inst.reserve(points.size());
    for (size_t i = 0; i < points.size(); ++i) by_inst[points[i].installation_id] = i;
    return c.Query(
        "SELECT ir.installation_id, ir.register, ir.value_dwh FROM installation_readings ir "
        "JOIN meter_installations mi ON mi.id = ir.installation_id "
        "WHERE mi.removed_at_us IS NULL AND ir.event = 'install'",
        {}, [&](const Row& r) {
          auto it = by_inst.find(r.Int(0));
          int reg = RegIndex(r.Text(1));
          if (it != by_inst.end() && reg >= 0) points[it->second].install[reg] = r.Int(2);
        });
  }));

  // ---- Billing parameters of two-part customers ----
  {
    int64_t done = 0, total = 0;
    for (const PointRow& p : points) total += p.tariff.starts_with("large_industry");
    for (const PointRow& p : points) {
      if (!p.tariff.starts_with("large_industry")) continue;
      Rng r = Rng::For(o.seed, kStreamParams, static_cast<uint64_t>(p.id));
      billing::BillingParameters bp;
      int64_t kva = std::max<int64_t>(p.capacity_kva, 315);
      if (r.Chance(3000)) {
        bp.basic_mode = rating::BasicChargeMode::kCapacity;
      } else {
        bp.basic_mode = rating::BasicChargeMode::kDeclaredDemand;
        bp.declared_demand_kw = kva * r.Between(45, 70) / 100;
      }
      if (p.side == "low") {
        rating::TransformerLossConfig t;
        t.rated_kva = kva;
        // Typical S11 losses: P0 ≈ 0.13 %, Pk ≈ 0.98 % of the rating; I0 0.6 %, Uk 4.5 %.
        t.no_load_loss_kw = Decimal{kva * 13, 4};
        t.load_loss_kw = Decimal{kva * 98, 4};
        t.no_load_current_pct = Decimal{6, 1};
        t.impedance_voltage_pct = Decimal{45, 1};
        bp.transformer = t;
      }
      auto put = dom.billing().PutParameters(billing, p.id, 0, bp);
      if (!put.ok())
        return put.status().WithContext("billing parameters of point " + std::to_string(p.id));
      if (++done % 100 == 0) RETURN_IF_ERROR(Progress(o, "billing parameters", done, total));
    }
  }

  // ---- Reading segments: each station's points in transformer-area order, ≤ 600 each ----
  {
    std::map<int64_t, int64_t> reader_of;  // station department → its meter reader
    RETURN_IF_ERROR(db.Read([&](Connection& c) {
      return c.Query(
          "SELECT u.department_id, MIN(u.id) FROM users u JOIN user_roles ur ON ur.user_id = u.id "
          "JOIN roles r ON r.id = ur.role_id WHERE r.code = 'meter_reader' "
          "GROUP BY u.department_id",
          {}, [&](const Row& r) { reader_of[r.Int(0)] = r.Int(1); });
    }));
    std::map<int64_t, std::string> dept_code;
    RETURN_IF_ERROR(db.Read([&](Connection& c) {
      return c.Query("SELECT id, code FROM departments", {},
                     [&](const Row& r) { dept_code[r.Int(0)] = r.Text(1); });
    }));
    size_t i = 0;
    int64_t seg_no = 0;
    std::map<int64_t, int64_t> per_dept;  // segments of a station are numbered from 1
    while (i < points.size()) {
      int64_t dept = points[i].department_id;
      size_t j = i;
      while (j < points.size() && points[j].department_id == dept && j - i < 600) ++j;
      ++seg_no;
      const int64_t in_dept = ++per_dept[dept];
      reading::SegmentInput si;
      si.code = dept_code[dept] + "-" + (in_dept < 10 ? "0" : "") + std::to_string(in_dept);
      si.name = "抄表段 " + *si.code;
      si.department_id = dept;
      si.reading_day = 1 + (seg_no * 7) % 25;  // 抄表例日 spread over the month
      if (auto it = reader_of.find(dept); it != reader_of.end()) si.reader_user_id = it->second;
      ASSIGN_OR_RETURN(reading::Segment seg, dom.reading().CreateSegment(manager, si));
      std::vector<int64_t> ids;
      for (size_t k = i; k < j; ++k) ids.push_back(points[k].id);
      RETURN_IF_ERROR(dom.reading().AddPoints(manager, seg.id, seg.version, ids).status());
      ++sum.segments;
      RETURN_IF_ERROR(Progress(o, "reading segments", static_cast<int64_t>(j), points.size()));
      i = j;
    }
  }
  std::unordered_map<int64_t, int64_t> reading_day;  // point → 抄表例日
  RETURN_IF_ERROR(db.Read([&](Connection& c) {
    return c.Query(
        "SELECT sp.metering_point_id, s.reading_day FROM reading_segment_points sp "
        "JOIN reading_segments s ON s.id = sp.segment_id",
        {}, [&](const Row& r) { reading_day[r.Int(0)] = r.Int(1); });
  }));

  // ---- Daily frozen registers on each reading day, and the reads collected from them ----
  for (int k = 0; k < kPeriods; ++k) {
    const YearMonth ym = periods[k];
    std::vector<reading::DailyFrozen> batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      Status s = db.Write([&](Connection& c) { return reading::StoreDailyFrozen(c, batch); });
      sum.frozen_rows += static_cast<int64_t>(batch.size());
      batch.clear();
      return s;
    };
    int64_t done = 0;
    for (const PointRow& p : points) {
      ++done;
      auto rd = reading_day.find(p.id);
      if (rd == reading_day.end()) continue;
      const int64_t day = Date{ym.year, ym.month, static_cast<int>(rd->second)}.ToDays();
      if (day <= p.installed_day) continue;
      Rng anomaly = Rng::For(o.seed, kStreamAnomaly, static_cast<uint64_t>(p.id) * 16 + k);
      const bool latest = k == kLatest;
      if (latest && anomaly.Chance(70)) continue;  // missing: no frozen row this month
      // The registers at the end of the reading day: the installation readings plus the use
      // since, over the same day ranges every month (so consecutive reads agree); in the latest
      // month a few meters stand still or jump.
      int64_t factor = 100;
      if (latest) {
        if (anomaly.Chance(100)) {
          factor = 0;  // zero use
        } else if (anomaly.Chance(50)) {
          factor = 450;  // a spike
        }
      }
      Advance a;
      int64_t from = p.installed_day;
      for (int m = 0; m <= k; ++m) {
        const int64_t end_day =
            Date{periods[m].year, periods[m].month, static_cast<int>(rd->second)}.ToDays() + 1;
        if (end_day > from) AddUse(p, o.seed, from, end_day, m == kLatest ? factor : 100, &a);
        from = std::max(from, end_day);
      }
      reading::DailyFrozen f;
      f.metering_point_id = p.id;
      f.day = Date::FromDays(day + 1);
      f.multiplier = p.multiplier;
      for (int reg = 0; reg < kRegs; ++reg) {
        if (!((p.register_mask >> reg) & 1)) continue;
        int64_t v = p.install[reg] + a.reg[reg];
        if (reg == kRegMaxDemand) {
          // kW over the month: the average load / a load factor, on the meter's side
          int64_t day_dwh = DailyUseDwh(p, o.seed, ym.month) * factor / 100;
          v = day_dwh / 24 * 100 / 55 / p.multiplier;
        } else if (reg == kRegExport || reg == kRegReactiveExport) {
          v = p.install[reg];
        }
        // six integer digits: the register rolls over at 1,000,000 kWh
        if (reg != kRegMaxDemand) v %= 1'000'000LL * Energy::kDwhPerKwh;
        f.registers[kRegNames[reg]] = Energy::FromDwh(v);
      }
      batch.push_back(std::move(f));
      if (batch.size() >= 5000) {
        RETURN_IF_ERROR(flush());
        RETURN_IF_ERROR(Progress(o, "frozen " + ym.ToString(), done, points.size()));
      }
    }
    RETURN_IF_ERROR(flush());

    // The reading plans, collected on the 28th (after every 抄表例日).
    clock.Set(LocalNoonUs(Date{ym.year, ym.month, 28}.ToDays()));
    RETURN_IF_ERROR(dom.reading().GeneratePlans(manager, ym, city_id).status());
    reading::PlanQuery pq;
    pq.period = ym;
    pq.page_size = 500;
    for (pq.page = 1;; ++pq.page) {
      int64_t total = 0;
      ASSIGN_OR_RETURN(std::vector<reading::Plan> plans,
                       dom.reading().ListPlans(manager, pq, &total));
      for (const reading::Plan& plan : plans) {
        ASSIGN_OR_RETURN(reading::CollectResult cr, dom.reading().CollectFrozen(manager, plan.id));
        sum.reads += cr.collected;
        sum.flagged_reads += k == kLatest ? cr.flagged : 0;
      }
      RETURN_IF_ERROR(Progress(o, "reads " + ym.ToString(),
                               std::min<int64_t>(int64_t{pq.page} * pq.page_size, total), total));
      if (static_cast<int64_t>(pq.page) * pq.page_size >= total) break;
    }
    // Older months: the review queue was worked through (flagged reads approved).
    if (k < kLatest) {
      reading::ReadQuery rq;
      rq.period = ym;
      rq.status = "flagged";
      rq.page_size = 500;
      for (;;) {
        grid::CappedCount total;
        ASSIGN_OR_RETURN(std::vector<reading::Read> queue,
                         dom.reading().ReviewQueue(manager, rq, &total));
        if (queue.empty()) break;
        int64_t approved = 0;
        for (const reading::Read& rd : queue) {
          if (dom.reading().Approve(manager, rd.id, rd.version).ok()) ++approved;
        }
        if (approved == 0) break;  // what remains cannot be approved (e.g. went backwards)
      }
    }
  }

  // ---- Bill runs of the two older months: run, approve the flagged, issue ----
  std::vector<std::string> billed;
  for (int k = 1; k < kLatest; ++k) {
    const YearMonth ym = periods[k];
    const YearMonth next = periods[k + 1];
    clock.Set(LocalNoonUs(Date{next.year, next.month, 2}.ToDays()));
    billing::RunRequest req;
    req.period = ym;
    req.department_id = city_id;
    req.claim_for_this_process = true;
    ASSIGN_OR_RETURN(billing::BillRun run, dom.billing().StartRun(billing, req));
    ASSIGN_OR_RETURN(jobs::Job job, dom.jobs().RunNow(run.job_id, [&](const jobs::Job& j) {
      (void)Progress(o, "bill run " + ym.ToString(), j.done, std::max(j.total, j.done));
    }));
    if (job.status != "succeeded") {
      return Internal("demo bill run " + ym.ToString() + " ended " + job.status + ": " + job.error);
    }
    ASSIGN_OR_RETURN(run, dom.billing().GetRun(billing, run.id));
    sum.bills += run.bills;
    sum.bill_exceptions += run.exceptions;
    billing::BillQuery bq;
    bq.run_id = run.id;
    bq.status = "review";
    bq.page_size = 500;
    for (;;) {
      grid::CappedCount total;
      ASSIGN_OR_RETURN(std::vector<billing::Bill> review,
                       dom.billing().ListBills(billing, bq, &total));
      if (review.empty()) break;
      for (const billing::Bill& b : review) {
        RETURN_IF_ERROR(
            dom.billing().Approve(billing, b.id, b.version, "演示数据：核对无误").status());
      }
    }
    ASSIGN_OR_RETURN(jobs::Job issue, dom.billing().IssueRun(billing, run.id));
    ASSIGN_OR_RETURN(issue, dom.jobs().RunNow(issue.id, [&](const jobs::Job& j) {
      (void)Progress(o, "issue " + ym.ToString(), j.done, std::max(j.total, j.done));
    }));
    if (issue.status != "succeeded") {
      return Internal("demo bill issue " + ym.ToString() + " ended " + issue.status + ": " +
                      issue.error);
    }
    ASSIGN_OR_RETURN(int64_t issued, db.ReadValue<int64_t>([&](Connection& c) {
      return c.QueryInt("SELECT COUNT(*) FROM bills WHERE run_id = $1 AND status = 'issued'",
                        {run.id});
    }));
    sum.bills_issued += issued;
    billed.push_back(ym.ToString());
  }
  sum.billed_periods = billed.empty() ? "" : billed[0] + ", " + billed.back();
  sum.open_period = periods[kLatest].ToString();

  // ---- A bank collection channel for the paychannel user ----
  accounts::ChannelInput ci;
  ci.code = "ICBC";
  ci.name = "工商银行乌兰察布分行代收";
  ci.kind = "bank";
  ci.user_id = channel_uid;
  ci.bank_name = std::string("中国工商银行");
  ASSIGN_OR_RETURN(accounts::Channel channel, dom.channels().CreateChannel(manager, ci));
  (void)channel;

  // ---- Payments: 85 % of the customers with bills of the oldest month pay, most on time, at
  //      the counter or the bank; half of the next month's are paid before "today" ----
  {
    std::vector<std::pair<int64_t, std::string>> customers;  // id, customer_no
    RETURN_IF_ERROR(db.Read([&](Connection& c) {
      return c.Query(
          "SELECT DISTINCT b.customer_id, cu.customer_no FROM bills b "
          "JOIN customers cu ON cu.id = b.customer_id WHERE b.status = 'issued' "
          "ORDER BY b.customer_id",
          {}, [&](const Row& r) { customers.emplace_back(r.Int(0), r.Text(1)); });
    }));
    // Pay in the order of the day they pay, the clock moving forward.
    struct Pay {
      int64_t day;
      int64_t customer_id;
      std::string customer_no;
      bool bank;
    };
    std::vector<Pay> pays;
    const int64_t issue_day = Date{periods[2].year, periods[2].month, 2}.ToDays();
    const int64_t issue_day2 = Date{periods[3].year, periods[3].month, 2}.ToDays();
    for (const auto& [id, no] : customers) {
      Rng r = Rng::For(o.seed, kStreamPay, static_cast<uint64_t>(id));
      if (r.Chance(8500)) {
        // most within the 15 days; some late, into the next month
        int64_t d = issue_day + (r.Chance(8000) ? r.Between(0, 14) : r.Between(15, 26));
        pays.push_back({d, id, no, r.Chance(4000)});
      }
      if (r.Chance(5000)) {
        int64_t d =
            issue_day2 +
            r.Between(0, std::max<int64_t>(0, std::min<int64_t>(20, today - issue_day2 - 1)));
        pays.push_back({d, id, no, r.Chance(4000)});
      }
    }
    std::stable_sort(pays.begin(), pays.end(),
                     [](const Pay& a, const Pay& b) { return a.day < b.day; });
    int64_t done = 0;
    for (const Pay& p : pays) {
      ++done;
      if (p.day >= today) continue;
      clock.Set(LocalNoonUs(p.day));
      ASSIGN_OR_RETURN(accounts::CustomerArrears arrears,
                       dom.accounts().GetArrears(clerk, p.customer_id));
      if (arrears.total.fen() <= 0) continue;
      Status s;
      if (p.bank) {
        accounts::ChannelPayInput in;
        in.serial = "ICBC" + std::to_string(p.day) + std::to_string(p.customer_id);
        in.customer_no = p.customer_no;
        in.amount = arrears.total;
        in.expected_total = arrears.total;
        s = dom.channels().Pay(channel_actor, in).status();
      } else {
        accounts::CounterPaymentInput in;
        in.customer_id = p.customer_id;
        in.amount = arrears.total;
        in.method = (p.customer_id % 3 == 0) ? "transfer" : "cash";
        if (in.method == "cash") {
          // handed over in whole 10 yuan notes
          in.tendered = Money::FromFen((arrears.total.fen() + 999) / 1000 * 1000);
        }
        s = dom.accounts().PayAtCounter(clerk, in).status();
      }
      if (!s.ok()) return s.WithContext("demo payment of customer " + p.customer_no);
      ++sum.payments;
      if (done % 200 == 0) RETURN_IF_ERROR(Progress(o, "payments", done, pays.size()));
    }
  }

  // ---- Prepaid accounts for the customers who pay in advance ----
  clock.Set(o.now_us - 2 * 86400 * kMicrosPerSecond);
  for (const PointRow& p : points) {
    if (p.payment_method != "prepaid") continue;
    accounts::PrepaidAccountInput in;
    in.metering_point_id = p.id;
    in.mode = p.category == "residential" && p.id % 3 == 0 ? "ic_card" : "remote";
    if (*in.mode == "ic_card") in.card_no = "IC" + std::to_string(1509000000LL + p.id);
    auto acct = dom.prepaid().Create(clerk, in);
    if (!acct.ok())
      return acct.status().WithContext("demo prepaid account of point " + std::to_string(p.id));
    accounts::PurchaseInput buy;
    Rng r = Rng::For(o.seed, kStreamPay + 7, static_cast<uint64_t>(p.id));
    buy.amount = Money::FromFen(r.Between(2, 40) * 5000);  // 100–2,000 yuan
    RETURN_IF_ERROR(dom.prepaid().Purchase(clerk, acct->id, buy).status());
    ++sum.prepaid_accounts;
  }
  return sum;
}

std::string FormatBusinessSummary(const BusinessSummary& s) {
  auto n = [](int64_t v) { return std::to_string(v); };
  std::string out = "Business history:\n";
  out += "  " + n(s.segments) + " reading segments, " + n(s.frozen_rows) +
         " daily frozen readings, " + n(s.reads) + " reads (" + n(s.flagged_reads) +
         " waiting in the review queue)\n";
  out += "  " + n(s.bills) + " bills for " + s.billed_periods + " (" + n(s.bills_issued) +
         " issued, " + n(s.bill_exceptions) + " rating exceptions), " + n(s.payments) +
         " payments, " + n(s.prepaid_accounts) + " prepaid accounts\n";
  out += "  " + s.open_period + " is read but not billed: start its bill run in the console\n";
  return out;
}

}  // namespace gridmis::demo
