#include "reading/reading.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "reading/reading_test_fixture.h"

namespace gridmis::reading {
namespace {

using nlohmann::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(GRIDMIS_READING_TEST_DATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ReadingServiceTest : public ReadingDbTest {
 protected:
  Segment MakeSegment(const std::string& code, const org::Actor& actor, int64_t dept,
                      std::string cycle = "monthly") {
    SegmentInput in;
    in.code = code;
    in.name = code + "抄表段";
    in.department_id = dept;
    in.reading_day = 25;
    in.cycle = cycle;
    auto s = reading_->CreateSegment(actor, in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : Segment{};
  }
  Segment AddPoints(const Segment& s, std::vector<int64_t> points) {
    auto r = reading_->AddPoints(reader_, s.id, s.version, points);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : s;
  }
};

TEST_P(ReadingServiceTest, SegmentsAndTheirPoints) {
  int64_t p1 = MakePoint("MP-A001"), p2 = MakePoint("MP-A002");
  int64_t pb = MakePoint("MP-B001", true);
  SegmentInput in;
  in.code = "SEG-A1";
  in.name = "甲县城关一段";
  in.department_id = u_->county_a;
  in.reading_day = 25;
  in.reader_user_id = std::optional<int64_t>(reader_.user_id);
  auto s = reading_->CreateSegment(reader_, in);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->cycle, "monthly");
  EXPECT_EQ(s->read_months.size(), 12u);
  EXPECT_EQ(s->reader_name, "reader_a");

  auto field = [&](std::function<void(SegmentInput&)> edit) {
    SegmentInput bad = in;
    bad.code = "SEG-X";
    edit(bad);
    return reading_->CreateSegment(reader_, bad).status().field();
  };
  EXPECT_EQ(field([](auto& b) { b.reading_day = 29; }), "reading_day");
  EXPECT_EQ(field([](auto& b) {
              b.cycle = "bimonthly";
              b.read_months = std::vector<int>{1, 2, 3, 4, 5, 6};
            }),
            "read_months");
  EXPECT_EQ(field([&](auto& b) { b.reader_user_id = std::optional<int64_t>(clerk_b_.user_id); }),
            "reader_user_id");
  EXPECT_EQ(field([&](auto& b) { b.department_id = u_->county_b; }), "department_id");
  EXPECT_EQ(reading_->CreateSegment(reader_, in).status().code(), StatusCode::kAlreadyExists);
  SegmentInput bi = in;
  bi.code = "SEG-A2";
  bi.cycle = "bimonthly";
  bi.reader_user_id.reset();
  auto s2 = reading_->CreateSegment(reader_, bi);
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(s2->read_months, (std::vector<int>{1, 3, 5, 7, 9, 11}));

  // Another county's user does not see it.
  EXPECT_EQ(reading_->GetSegment(clerk_b_, s->id).status().code(), StatusCode::kNotFound);

  // Points: visible ones of the segment's department, in one segment at most.
  auto added = reading_->AddPoints(reader_, s->id, s->version, {p1, p2});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->point_count, 2);
  EXPECT_EQ(added->version, s->version + 1);
  EXPECT_EQ(reading_->AddPoints(reader_, s->id, s->version, {p1}).status().code(),
            StatusCode::kAborted);
  auto outside = reading_->AddPoints(reader_, s2->id, s2->version, {pb});
  EXPECT_EQ(outside.status().field(), "point_ids[0]");
  auto twice = reading_->AddPoints(reader_, s2->id, s2->version, {p1});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(twice.status().message().find("SEG-A1"), std::string::npos);
  int64_t total = 0;
  auto members = reading_->SegmentPoints(reader_, s->id, 1, 20, &total);
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(total, 2);
  EXPECT_EQ((*members)[0].code, "MP-A001");
  auto removed = reading_->RemovePoints(reader_, s->id, added->version, {p2});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->point_count, 1);
  EXPECT_EQ(reading_->RemovePoints(reader_, s->id, removed->version, {p2}).status().field(),
            "point_ids[0]");

  SegmentInput rename;
  rename.name = "城关一段";
  EXPECT_EQ(reading_->UpdateSegment(reader_, s->id, s->version, rename).status().code(),
            StatusCode::kAborted);
  auto renamed = reading_->UpdateSegment(reader_, s->id, removed->version, rename);
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  auto audit = Audit("reading_segment", std::to_string(s->id));
  ASSERT_EQ(audit.size(), 4u);  // create, add_points, remove_points, update (newest first)
  EXPECT_EQ(audit[0].action, "update");
  EXPECT_EQ(json::parse(audit[0].before_json)["name"], "甲县城关一段");
  EXPECT_EQ(json::parse(audit[0].after_json)["name"], "城关一段");
  EXPECT_EQ(audit[1].action, "remove_points");
  EXPECT_EQ(json::parse(audit[1].after_json)["points_removed"], json::array({"MP-A002"}));
  EXPECT_EQ(audit[2].action, "add_points");
  EXPECT_EQ(audit[0].username, "reader_a");
}

TEST_P(ReadingServiceTest, PlanGenerationIsIdempotent) {
  int64_t p1 = MakePoint("MP-A001"), p2 = MakePoint("MP-A002"), p3 = MakePoint("MP-A003");
  AddPoints(MakeSegment("SEG-A1", reader_, u_->county_a), {p1, p2});
  AddPoints(MakeSegment("SEG-A2", reader_, u_->county_a, "bimonthly"), {p3});
  MakeSegment("SEG-B1", clerk_b_, u_->county_b);

  auto first = reading_->GeneratePlans(reviewer_, {2026, 12}, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->created.size(), 1u);  // SEG-A2 reads in odd months; SEG-B1 is out of scope
  EXPECT_EQ(first->existing, 0);
  const Plan& plan = first->created[0];
  EXPECT_EQ(plan.segment_code, "SEG-A1");
  EXPECT_EQ(plan.reading_date, (Date{2026, 12, 25}));
  EXPECT_EQ(plan.point_count, 2);
  EXPECT_EQ(plan.missing_count, 2);
  EXPECT_EQ(plan.status, "planned");

  auto again = reading_->GeneratePlans(reviewer_, {2026, 12}, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created.empty());
  EXPECT_EQ(again->existing, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reading_plans"), 1);
  EXPECT_EQ(Audit("reading_plan").size(), 1u);
  auto january = reading_->GeneratePlans(reviewer_, {2027, 1}, u_->county_a);
  ASSERT_TRUE(january.ok());
  EXPECT_EQ(january->created.size(), 2u);

  // Reads move the plan along: reading, then completed when every point is approved.
  ASSERT_TRUE(
      Enter(p1, {2026, 12, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  auto p = reading_->GetPlan(reader_, plan.id);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, "reading");
  EXPECT_EQ(p->read_count, 1);
  EXPECT_EQ(p->approved_count, 1);
  ASSERT_TRUE(Enter(p2, {2026, 12, 25}, R({{"total", "0"}, {"peak", "0"}, {"valley", "0"}})).ok());
  p = reading_->GetPlan(reader_, plan.id);
  EXPECT_EQ(p->status, "reviewing");  // p2's zero use waits for review
  EXPECT_EQ(p->flagged_count, 1);
  int64_t total = 0;
  auto list = reading_->ListPlans(reader_, {.period = YearMonth{2026, 12}}, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 1);
  EXPECT_EQ(reading_->GetPlan(clerk_b_, plan.id).status().code(), StatusCode::kNotFound);
}

TEST_P(ReadingServiceTest, EachReviewRuleOnStoredReads) {
  int64_t clean = MakePoint("MP-CLEAN"), zero = MakePoint("MP-ZERO"), high = MakePoint("MP-HIGH");
  int64_t tou = MakePoint("MP-TOU");
  Registers nov = R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}});
  for (int64_t p : {clean, zero, high, tou}) {
    auto r = Enter(p, {2026, 11, 25}, nov);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, "approved");  // the first read: from the installation, nothing to compare
    EXPECT_TRUE(r->billable);
    EXPECT_EQ(r->first_day, (Date{2026, 10, 1}));
    EXPECT_EQ(r->days, 56);
    EXPECT_EQ(*r->consumption, Kwh("300"));
    EXPECT_EQ(r->source, "manual");
    EXPECT_EQ(r->entered_by, reader_.user_id);
  }
  auto ok = Enter(clean, {2026, 12, 25}, R({{"total", "500"}, {"peak", "300"}, {"valley", "200"}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, "approved");
  EXPECT_TRUE(ok->findings.empty());

  auto z = Enter(zero, {2026, 12, 25}, nov);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->status, "flagged");
  EXPECT_FALSE(z->billable);
  EXPECT_EQ(Flags(*z), std::vector<std::string>{"zero_use"});

  auto h = Enter(high, {2026, 12, 25}, R({{"total", "1300"}, {"peak", "780"}, {"valley", "520"}}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(Flags(*h), std::vector<std::string>{"above_last_month"});  // 1000/30 vs 300/56
  EXPECT_NE(h->findings[0].message.find("622%"), std::string::npos) << h->findings[0].message;

  auto t = Enter(tou, {2026, 12, 25}, R({{"total", "500"}, {"peak", "300"}, {"valley", "150"}}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Flags(*t), std::vector<std::string>{"tou_mismatch"});

  // The review queue lists them with why, oldest period first.
  grid::CappedCount total;
  auto queue = reading_->ReviewQueue(reviewer_, {}, &total);
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(total.total, 3);
  for (const auto& r : *queue) {
    EXPECT_EQ(r.status, "flagged");
    ASSERT_FALSE(r.findings.empty());
    EXPECT_FALSE(r.findings[0].message.empty());
  }
  queue = reading_->ReviewQueue(reviewer_, {.flag = "zero_use"}, &total);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].point_code, "MP-ZERO");
  EXPECT_TRUE(reading_->ReviewQueue(clerk_b_, {}, &total)->empty());

  // One current read per point and period; reads in order; not in the future.
  auto dup =
      Enter(clean, {2026, 12, 26}, R({{"total", "501"}, {"peak", "300"}, {"valley", "201"}}));
  EXPECT_EQ(dup.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(dup.status().message().find("correct it"), std::string::npos);
  auto earlier = Enter(clean, {2026, 11, 20}, nov, YearMonth{2026, 11});
  EXPECT_EQ(earlier.status().code(), StatusCode::kFailedPrecondition);
  auto future = Enter(clean, {2027, 1, 16}, nov);
  EXPECT_EQ(future.status().field(), "read_date");
  auto missing = Enter(clean, {2027, 1, 10}, R({{"total", "600"}}));
  EXPECT_EQ(missing.status().field(), "registers.peak");
  EXPECT_EQ(reading_->GetRead(clerk_b_, ok->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Audit("meter_read", std::to_string(ok->id)).size(), 1u);
}

TEST_P(ReadingServiceTest, RolloverAcceptedOrRefusedThenCorrected) {
  int64_t known =
      MakePoint("MP-ROLL", false, {"total"}, 6, {2026, 10, 1}, R({{"total", "999000"}}));
  int64_t unknown = MakePoint("MP-BACK", false, {"total"}, 0, {2026, 10, 1}, R({{"total", "0"}}));
  ASSERT_TRUE(Enter(known, {2026, 11, 25}, R({{"total", "999800"}})).ok());
  ASSERT_TRUE(Enter(unknown, {2026, 11, 25}, R({{"total", "500"}})).ok());

  auto rolled = Enter(known, {2026, 12, 25}, R({{"total", "300"}}));
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(rolled->status, "approved");
  EXPECT_EQ(rolled->rollover, std::vector<std::string>{"total"});
  EXPECT_EQ(*rolled->consumption, Kwh("500"));

  auto back = Enter(unknown, {2026, 12, 25}, R({{"total", "400"}}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, "flagged");
  EXPECT_EQ(Flags(*back), std::vector<std::string>{"below_previous"});
  EXPECT_FALSE(back->consumption);
  auto refused = reading_->Approve(reviewer_, back->id, back->version);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("digits are unknown"), std::string::npos);
  // A meter reader may not review.
  EXPECT_EQ(reading_
                ->Correct(reader_, back->id, back->version,
                          {R({{"total", "600"}}), std::nullopt, "misread"})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  // A correction that still goes backwards is refused; one that is right supersedes.
  EXPECT_EQ(reading_
                ->Correct(reviewer_, back->id, back->version,
                          {R({{"total", "450"}}), std::nullopt, "misread"})
                .status()
                .field(),
            "registers");
  auto fixed = reading_->Correct(reviewer_, back->id, back->version,
                                 {R({{"total", "640"}}), std::nullopt, "读错一位：400 应为 640"});
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->source, "correction");
  EXPECT_EQ(fixed->status, "approved");
  EXPECT_TRUE(fixed->billable);
  EXPECT_EQ(fixed->corrected_from, back->id);
  EXPECT_EQ(fixed->reviewed_by, reviewer_.user_id);
  EXPECT_EQ(fixed->note, "读错一位：400 应为 640");
  EXPECT_EQ(*fixed->consumption, Kwh("140"));
  auto old = reading_->GetRead(reviewer_, back->id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->status, "superseded");  // kept, not edited: its registers are as entered
  EXPECT_FALSE(old->billable);
  EXPECT_EQ(old->registers.at("total"), Kwh("400"));
  EXPECT_EQ(old->corrected_by, fixed->id);
  EXPECT_EQ(reading_
                ->Correct(reviewer_, back->id, old->version,
                          {R({{"total", "650"}}), std::nullopt, "again"})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  auto audit = Audit("meter_read", std::to_string(back->id));
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0].action, "correct");
  EXPECT_EQ(audit[0].username, "reviewer_a");
  json before = json::parse(audit[0].before_json), after = json::parse(audit[0].after_json);
  EXPECT_EQ(before["registers"]["total"], "400.00");
  EXPECT_EQ(before["status"], "flagged");
  EXPECT_EQ(after["reason"], "读错一位：400 应为 640");
  EXPECT_EQ(after["read"]["registers"]["total"], "640.00");
  EXPECT_EQ(after["read"]["id"], fixed->id);
  grid::CappedCount total;
  auto history =
      reading_->ListReads(reviewer_, {.metering_point_id = unknown, .status = "all"}, &total);
  EXPECT_EQ(total.total, 3);
}

TEST_P(ReadingServiceTest, AReadWithALaterReadIsNotCorrected) {
  int64_t p = MakePoint("MP-C001");
  auto nov = Enter(p, {2026, 11, 25}, R({{"total", "400"}, {"peak", "240"}, {"valley", "160"}}));
  ASSERT_TRUE(nov.ok()) << nov.status().ToString();
  auto dec = Enter(p, {2026, 12, 25}, R({{"total", "700"}, {"peak", "420"}, {"valley", "280"}}));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ASSERT_EQ(*dec->consumption, Kwh("300"));
  // Correcting November would change December's consumption: refused, naming December.
  auto refused = reading_->Correct(
      reviewer_, nov->id, nov->version,
      {R({{"total", "450"}, {"peak", "270"}, {"valley", "180"}}), std::nullopt, "misread"});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("later period 2026-12"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(reading_->GetRead(reviewer_, nov->id)->status, "approved");
  EXPECT_EQ(*reading_->GetRead(reviewer_, dec->id)->consumption, Kwh("300"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_reads WHERE source = 'correction'"), 0);
  // The latest read is corrected.
  auto fixed = reading_->Correct(
      reviewer_, dec->id, dec->version,
      {R({{"total", "710"}, {"peak", "430"}, {"valley", "280"}}), std::nullopt, "misread"});
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(*fixed->consumption, Kwh("310"));
}

TEST_P(ReadingServiceTest, ApproveAFlaggedRead) {
  int64_t p = MakePoint("MP-A001");
  ASSERT_TRUE(
      Enter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  auto z = Enter(p, {2026, 12, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}}));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(reading_->Approve(reader_, z->id, z->version).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reading_->Approve(reviewer_, z->id, z->version + 1).status().code(),
            StatusCode::kAborted);
  EXPECT_EQ(reading_->Approve(clerk_b_, z->id, z->version).status().code(), StatusCode::kNotFound);
  auto a = reading_->Approve(reviewer_, z->id, z->version);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->status, "approved");
  EXPECT_TRUE(a->billable);
  EXPECT_EQ(a->reviewed_by, reviewer_.user_id);
  EXPECT_EQ(Flags(*a), std::vector<std::string>{"zero_use"});  // what fired stays recorded
  EXPECT_EQ(reading_->Approve(reviewer_, a->id, a->version).status().code(),
            StatusCode::kFailedPrecondition);
  auto audit = Audit("meter_read", std::to_string(z->id));
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "approve");
  EXPECT_EQ(json::parse(audit[0].before_json)["status"], "flagged");
  EXPECT_EQ(json::parse(audit[0].after_json)["status"], "approved");
}

TEST_P(ReadingServiceTest, AMeterReplacedInThePeriodIsFlagged) {
  int64_t p = MakePoint("MP-A001");
  ASSERT_TRUE(
      Enter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  metering::ReplaceInput swap;
  swap.at_us = At({2026, 12, 10}, 9);
  swap.remove_readings = R({{"total", "400"}, {"peak", "240"}, {"valley", "160"}});
  swap.new_meter_id = MakeMeter("M-NEW", false, {"total", "peak", "valley"}, 6, "200/5");
  swap.install_readings = R({{"total", "0"}, {"peak", "0"}, {"valley", "0"}});
  ASSERT_TRUE(metering_->Replace(sys_, p, swap).ok());
  auto r = Enter(p, {2026, 12, 25}, R({{"total", "5"}, {"peak", "3"}, {"valley", "2"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->meter_asset_no, "M-NEW");
  EXPECT_EQ(r->multiplier, 40);
  EXPECT_EQ(*r->consumption, Kwh("300"));  // 100 × 1 + 5 × 40
  auto flags = Flags(*r);
  EXPECT_NE(std::find(flags.begin(), flags.end(), "meter_replaced"), flags.end());
}

TEST_P(ReadingServiceTest, ConfigurableThresholdsPerDepartment) {
  int64_t p = MakePoint("MP-A001");
  ASSERT_TRUE(
      Enter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  auto defaults = reading_->GetRules(reviewer_, u_->county_a);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->department_id, 0);
  EXPECT_EQ(defaults->above_last_month_pct, 200);
  // The city's rules apply below it: 1000 % allowed.
  ReviewRules loose = *defaults;
  loose.above_last_month_pct = 1000;
  EXPECT_EQ(reading_->SetRules(reader_, u_->city, 0, loose).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reading_->SetRules(reviewer_, u_->city, 0, loose).status().code(),
            StatusCode::kNotFound);  // above the reviewer's scope
  auto set = reading_->SetRules(sys_, u_->city, 0, loose);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->version, 1);
  EXPECT_EQ(reading_->SetRules(sys_, u_->city, 0, loose).status().code(), StatusCode::kAborted);
  auto inherited = reading_->GetRules(reviewer_, u_->station_a);
  ASSERT_TRUE(inherited.ok());
  EXPECT_EQ(inherited->department_id, u_->city);
  EXPECT_EQ(inherited->above_last_month_pct, 1000);
  loose.below_last_month_pct = 2000;
  EXPECT_EQ(reading_->SetRules(sys_, u_->city, 1, loose).status().field(), "below_last_month_pct");

  auto h = Enter(p, {2026, 12, 25}, R({{"total", "1300"}, {"peak", "780"}, {"valley", "520"}}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, "approved");  // 622 % is within the city's 1000 %
  EXPECT_EQ(Audit("reading_review_rules").size(), 1u);
}

TEST_P(ReadingServiceTest, CollectFromDailyFrozenThenEstimateTheRest) {
  int64_t f1 = MakePoint("MP-F1"), f2 = MakePoint("MP-F2"), f3 = MakePoint("MP-F3");
  for (int64_t p : {f1, f2, f3}) {
    ASSERT_TRUE(
        Enter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  }
  Segment seg = MakeSegment("SEG-F", reader_, u_->county_a);
  AddPoints(seg, {f1, f2, f3});
  auto gen = reading_->GeneratePlans(reader_, {2026, 12}, u_->county_a);
  ASSERT_TRUE(gen.ok());
  ASSERT_EQ(gen->created.size(), 1u);
  int64_t plan = gen->created[0].id;
  // The reading day's registers: frozen at 00:00 of the next day.
  auto frozen = [](int64_t point, const char* total, const char* peak, const char* valley) {
    DailyFrozen f;
    f.metering_point_id = point;
    f.day = {2026, 12, 26};
    f.registers = R({{"total", total}, {"peak", peak}});
    if (valley) f.registers["valley"] = Kwh(valley);
    return f;
  };
  ASSERT_TRUE(u_->db()
                  .Write([&](store::Connection& c) {
                    return StoreDailyFrozen(c, {frozen(f1, "620.5", "372.3", "248.2"),
                                                frozen(f2, "600", "360", nullptr)});
                  })
                  .ok());
  auto collected = reading_->CollectFrozen(reader_, plan);
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(collected->frozen_day, (Date{2026, 12, 26}));
  EXPECT_EQ(collected->collected, 1);
  EXPECT_EQ(collected->approved, 1);
  EXPECT_EQ(collected->missing, 2);  // f2 lacks valley, f3 has no row
  ASSERT_EQ(collected->issues.size(), 1u);
  EXPECT_EQ(collected->issues[0].point_code, "MP-F2");
  EXPECT_NE(collected->issues[0].message.find("lacks register(s) valley"), std::string::npos);
  grid::CappedCount total;
  auto reads = reading_->ListReads(reader_, {.plan_id = plan}, &total);
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].source, "frozen");
  EXPECT_EQ((*reads)[0].read_date, (Date{2026, 12, 25}));
  EXPECT_EQ((*reads)[0].registers.at("total"), Kwh("620.5"));

  // Rerunning adds only what is new.
  auto rerun = reading_->CollectFrozen(reader_, plan);
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->collected, 0);
  EXPECT_EQ(rerun->already_read, 1);
  ASSERT_TRUE(u_->db()
                  .Write([&](store::Connection& c) {
                    return StoreDailyFrozen(c, {frozen(f2, "600", "360", "240")});
                  })
                  .ok());
  rerun = reading_->CollectFrozen(reader_, plan);
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->collected, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_reads WHERE source = 'frozen'"), 2);

  // The missing one is estimated after the reading day, flagged for review.
  auto est = reading_->EstimateMissing(reader_, plan);
  ASSERT_TRUE(est.ok()) << est.status().ToString();
  EXPECT_EQ(est->estimated, 1);
  EXPECT_EQ(est->already_read, 2);
  auto queue = reading_->ReviewQueue(reviewer_, {.plan_id = plan}, &total);
  ASSERT_EQ(queue->size(), 1u);
  const Read& e = (*queue)[0];
  EXPECT_EQ(e.point_code, "MP-F3");
  EXPECT_EQ(e.source, "estimate");
  EXPECT_EQ(Flags(e), std::vector<std::string>{"estimated"});
  // 300 kWh over 56 days → 30 days: 160.7143 kWh.
  EXPECT_EQ(*e.consumption, Kwh("160.7143"));
  EXPECT_NE(e.note.find("the last 1 approved period"), std::string::npos) << e.note;
  auto p = reading_->GetPlan(reader_, plan);
  EXPECT_EQ(p->status, "reviewing");
  EXPECT_EQ(p->estimated_count, 1);
  EXPECT_EQ(p->missing_count, 0);
  ASSERT_TRUE(reading_->Approve(reviewer_, e.id, e.version).ok());
  EXPECT_EQ(reading_->GetPlan(reader_, plan)->status, "completed");
  EXPECT_EQ(reading_->EstimateMissing(reader_, plan)->estimated, 0);

  // Not before the reading date has passed.
  auto jan = reading_->GeneratePlans(reader_, {2027, 1}, u_->county_a);
  ASSERT_TRUE(jan.ok());
  EXPECT_EQ(reading_->EstimateMissing(reader_, jan->created[0].id).status().code(),
            StatusCode::kFailedPrecondition);
  auto audit = Audit("reading_plan", std::to_string(plan));
  EXPECT_GE(audit.size(), 5u);  // create, 3 collections, 2 estimates
}

// A "self"-scope reader sees the plan of their department but only the points of customers they
// manage: the others are left alone and reported.
TEST_P(ReadingServiceTest, CollectAndEstimateKeepToTheDataScope) {
  customer::CustomerInput c;
  c.customer_no = "1501000002";
  c.name = "客户A2";
  c.category = "commercial";
  c.address = "幸福路2号";
  c.department_id = u_->county_a;
  c.account_manager_id = std::optional<int64_t>(reader_.user_id);
  auto managed = customers_->Create(sys_, c);
  ASSERT_TRUE(managed.ok()) << managed.status().ToString();
  std::swap(customer_a_, managed->id);
  int64_t mine = MakePoint("MP-S1");
  std::swap(customer_a_, managed->id);
  int64_t theirs = MakePoint("MP-S2");
  for (int64_t p : {mine, theirs}) {
    ASSERT_TRUE(
        Enter(p, {2026, 11, 25}, R({{"total", "300"}, {"peak", "180"}, {"valley", "120"}})).ok());
  }
  Segment seg = MakeSegment("SEG-S", reader_, u_->county_a);
  AddPoints(seg, {mine, theirs});
  auto gen = reading_->GeneratePlans(reader_, {2026, 12}, u_->county_a);
  ASSERT_TRUE(gen.ok() && gen->created.size() == 1u);
  int64_t plan = gen->created[0].id;
  std::vector<DailyFrozen> rows;
  for (int64_t p : {mine, theirs}) {
    DailyFrozen f;
    f.metering_point_id = p;
    f.day = {2026, 12, 26};
    f.registers = R({{"total", "600"}, {"peak", "360"}, {"valley", "240"}});
    rows.push_back(f);
  }
  ASSERT_TRUE(u_->db().Write([&](store::Connection& c) { return StoreDailyFrozen(c, rows); }).ok());
  org::Actor self = reader_;
  self.scope = org::DataScope::kSelf;
  auto collected = reading_->CollectFrozen(self, plan);
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(collected->collected, 1);
  EXPECT_EQ(collected->missing, 0);
  ASSERT_EQ(collected->issues.size(), 1u);
  EXPECT_EQ(collected->issues[0].metering_point_id, theirs);
  EXPECT_EQ(collected->issues[0].message, "not in your data scope");
  auto count = [&](int64_t point) {
    return Count(
        "SELECT COUNT(*) FROM meter_reads WHERE period = 202612 AND "
        "metering_point_id = " +
        std::to_string(point));
  };
  EXPECT_EQ(count(mine), 1);
  EXPECT_EQ(count(theirs), 0);

  // The frozen row of the other point is gone: an estimate is due, but not the reader's to make.
  ASSERT_TRUE(
      u_->db()
          .Write([&](store::Connection& c) {
            return c.Exec("DELETE FROM daily_frozen_reads WHERE metering_point_id = $1", {theirs})
                .status();
          })
          .ok());
  auto est = reading_->EstimateMissing(self, plan);
  ASSERT_TRUE(est.ok()) << est.status().ToString();
  EXPECT_EQ(est->estimated, 0);
  ASSERT_EQ(est->issues.size(), 1u);
  EXPECT_EQ(est->issues[0].point_code, "MP-S2");
  EXPECT_EQ(est->issues[0].message, "not in your data scope");
  EXPECT_EQ(count(theirs), 0);
  // A reader of the whole department estimates it.
  EXPECT_EQ(reading_->EstimateMissing(reader_, plan)->estimated, 1);
  EXPECT_EQ(count(theirs), 1);
}

// ---- Import ----

class ImportTest : public ReadingServiceTest {
 protected:
  void SetUp() override {
    ReadingServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    a1_ = MakePoint("MP-A001");
    a2_ = MakePoint("MP-A002");
    a3_ = MakePoint("MP-A003");
    ASSERT_TRUE(
        Enter(a1_, {2026, 11, 25}, R({{"total", "400"}, {"peak", "240"}, {"valley", "160"}})).ok());
    ASSERT_TRUE(
        Enter(a2_, {2026, 11, 25}, R({{"total", "600"}, {"peak", "360"}, {"valley", "240"}})).ok());
    ASSERT_TRUE(
        Enter(a3_, {2026, 11, 25}, R({{"total", "200"}, {"peak", "120"}, {"valley", "80"}})).ok());
  }

  Result<ImportResult> Import(const std::string& bytes, const std::string& format,
                              std::vector<ImportLineError>* errors = nullptr) {
    std::istringstream in(bytes);
    ImportOptions o;
    o.format = format;
    o.file_name = "12月抄表." + format;
    return reading_->Import(reader_, in, o, errors);
  }

  // The three December reads of the fixtures: two clean, MP-A003 with zero use.
  void ExpectDecember(const Result<ImportResult>& r) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->lines, 3);
    EXPECT_EQ(r->reads, 3);
    EXPECT_EQ(r->approved, 2);
    EXPECT_EQ(r->flagged, 1);
    grid::CappedCount total;
    auto reads = reading_->ListReads(reader_, {.period = YearMonth{2026, 12}}, &total);
    ASSERT_TRUE(reads.ok());
    ASSERT_EQ(reads->size(), 3u);
    EXPECT_EQ((*reads)[0].point_code, "MP-A001");
    EXPECT_EQ((*reads)[0].source, "import");
    EXPECT_EQ((*reads)[0].import_id, r->import_id);
    EXPECT_EQ((*reads)[0].registers.at("total"), Kwh("700.5"));
    EXPECT_EQ(*(*reads)[0].consumption, Kwh("300.5"));
    EXPECT_EQ((*reads)[1].registers.at("peak"), Kwh("660"));
    EXPECT_EQ((*reads)[2].status, "flagged");
    auto audit = Audit("reading_import", std::to_string(r->import_id));
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(json::parse(audit[0].after_json)["reads"], 3);
  }

  int64_t a1_ = 0, a2_ = 0, a3_ = 0;
};

TEST_P(ImportTest, Utf8Csv) {
  auto r = Import(Fixture("reads_utf8.csv"), "csv");
  ExpectDecember(r);
  EXPECT_EQ(r->charset, "utf-8");
}

TEST_P(ImportTest, GbkCsv) {
  auto r = Import(Fixture("reads_gbk.csv"), "csv");
  ExpectDecember(r);
  EXPECT_EQ(r->charset, "gbk");
}

TEST_P(ImportTest, Xlsx) { ExpectDecember(Import(Fixture("reads.xlsx"), "xlsx")); }

TEST_P(ImportTest, XlsxWithSharedStrings) {
  ExpectDecember(Import(Fixture("reads_shared.xlsx"), "xlsx"));
}

TEST_P(ImportTest, ABadFileIsRejectedWholeWithEveryBadLine) {
  int64_t reads = Count("SELECT COUNT(*) FROM meter_reads");
  int64_t audits = Count("SELECT COUNT(*) FROM audit_log");
  std::vector<ImportLineError> errors;
  auto r = Import(Fixture("bad.csv"), "csv", &errors);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "file");
  std::vector<int64_t> lines;
  for (const auto& e : errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
  EXPECT_NE(errors[0].message.find("'MP-X999' does not exist"), std::string::npos);
  EXPECT_NE(errors[1].message.find("not a date"), std::string::npos);
  EXPECT_NE(errors[2].message.find("total 'abc'"), std::string::npos);
  EXPECT_NE(errors[3].message.find("also on line 2"), std::string::npos);
  EXPECT_NE(errors[4].message.find("register valley of meter M-MP-A002 is missing"),
            std::string::npos)
      << errors[4].message;
  EXPECT_NE(r.status().message().find("6 bad lines, nothing was imported: line 3:"),
            std::string::npos)
      << r.status().message();
  // Nothing is stored: not the good line 2, not the import, not an audit row.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_reads"), reads);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reading_imports"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log"), audits);
}

TEST_P(ImportTest, ReadsAgainstTheStoredHistory) {
  // A read dated before the point's previous read, and a point of another county.
  MakePoint("MP-B001", true);
  std::vector<ImportLineError> errors;
  auto r = Import(
      "point_code,read_date,total,peak,valley\n"
      "MP-A001,2026-11-20,700,420,280\n"
      "MP-B001,2026-12-25,10,6,4\n"
      "MP-A002,2026-12-25,1100,660,440\n",
      "csv", &errors);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_NE(errors[0].message.find("already has read"), std::string::npos) << errors[0].message;
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_NE(errors[1].message.find("outside your data scope"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_reads"), 3);
  // Two periods of one point in one file: in order.
  auto two = Import(
      "point_code,read_date,total,peak,valley\n"
      "MP-A001,2026-12-25,700,420,280\n"
      "MP-A001,2027-01-10,900,540,360\n",
      "csv", &errors);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->reads, 2);
  grid::CappedCount total;
  auto jan = reading_->ListReads(reader_, {.metering_point_id = a1_, .period = YearMonth{2027, 1}},
                                 &total);
  ASSERT_EQ(jan->size(), 1u);
  EXPECT_EQ(*(*jan)[0].consumption, Kwh("200"));
}

TEST_P(ImportTest, ALargeFileStreamsInChunks) {
  // 510 points: more than one chunk of lookups; every line is checked and stored.
  std::string csv = "point_code,read_date,total\n";
  for (int i = 0; i < 510; ++i) {
    std::string code = "MP-L" + std::to_string(1000 + i);
    MakePoint(code, false, {"total"}, 6);
    csv += code + ",2026-12-25," + std::to_string(100 + i) + "\n";
  }
  auto r = Import(csv, "csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->reads, 510);
  EXPECT_EQ(r->approved, 510);  // first reads: nothing to compare with
  EXPECT_EQ(Count("SELECT COUNT(*) FROM meter_reads WHERE source = 'import' AND billable = 1"),
            510);
}

GRIDMIS_READING_BACKENDS(ReadingServiceTest);
GRIDMIS_READING_BACKENDS(ImportTest);

}  // namespace
}  // namespace gridmis::reading
