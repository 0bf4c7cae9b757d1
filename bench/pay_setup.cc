// Prepares a database for bench/pay_wrk.sh: a payment channel "BENCH" with its API user and a
// fresh API token, and an issued bill (a receivable with a late fee running) for each of the
// first N customers, through the same posting contract the billing workflow uses. Prints the
// token on stdout and writes the customer numbers, one per line, to the given file.
//
//   pay_setup DB_URL CUSTOMERS CUSTOMER_NOS_FILE
//
// Rerunnable: the channel is reused and bills already issued are skipped (PostBillIssued is
// idempotent by bill id).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "accounts/channel.h"
#include "accounts/posting.h"
#include "app/app.h"
#include "app/domain.h"
#include "org/org.h"
#include "store/db.h"

namespace {

using gridmis::Date;
using gridmis::Money;
using gridmis::Result;
using gridmis::Status;
using gridmis::YearMonth;

constexpr int64_t kBillIdBase = 9'000'000'000;  // out of the bill run's way

int Fail(const Status& s) {
  std::cerr << "pay_setup: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: pay_setup DB_URL CUSTOMERS CUSTOMER_NOS_FILE\n";
    return 2;
  }
  gridmis::Config config;
  config.database_url = argv[1];
  config.log_level = "warn";
  const int64_t customers = std::stoll(argv[2]);
  auto app =
      gridmis::app::App::Create(config, {.hash_strength = gridmis::org::HashStrength::kMinimum});
  if (!app.ok()) return Fail(app.status());
  auto& db = (*app)->db();
  auto& org = (*app)->org();
  const gridmis::org::Actor system = gridmis::org::Actor::System("pay_setup");
  const int64_t now = (*app)->clock().NowMicros();
  const Date today = (*app)->time_zone().LocalDate(now);

  // The channel's API user and channel.
  auto root = db.ReadValue<int64_t>([](gridmis::store::Connection& c) {
    return c.QueryInt("SELECT MIN(id) FROM departments WHERE parent_id IS NULL");
  });
  if (!root.ok()) return Fail(root.status());
  auto uid = db.ReadValue<int64_t>([](gridmis::store::Connection& c) {
    return c.QueryInt("SELECT id FROM users WHERE username = 'bench_bank'");
  });
  if (!uid.ok()) {
    gridmis::org::UserInput u;
    u.username = "bench_bank";
    u.display_name = "压测银行";
    u.department_id = *root;
    u.password = "Bench-Bank-2026!x";
    u.roles = std::vector<std::string>{"payment_channel"};
    auto created = org.CreateUser(system, u);
    if (!created.ok()) return Fail(created.status());
    uid = created->id;
  }
  auto& channels = (*app)->domain().channels();
  auto existing = channels.ListChannels(system);
  if (!existing.ok()) return Fail(existing.status());
  bool have = false;
  for (const auto& ch : *existing) have = have || ch.code == "BENCH";
  if (!have) {
    gridmis::accounts::ChannelInput in;
    in.code = "BENCH";
    in.name = "压测银行";
    in.user_id = std::optional<int64_t>(*uid);
    auto ch = channels.CreateChannel(system, in);
    if (!ch.ok()) return Fail(ch.status());
  }
  auto token = org.CreateApiToken(system, *uid, "pay_wrk", std::nullopt);
  if (!token.ok()) return Fail(token.status());

  // A bill for each of the first N customers: due 20 days ago, so late fees run.
  std::ofstream out(argv[3]);
  int64_t issued = 0;
  int64_t after = 0;
  while (issued < customers) {
    struct Row {
      int64_t id, department_id, account_id;
      std::string no, category;
    };
    std::vector<Row> rows;
    Status s = db.Read([&](gridmis::store::Connection& c) {
      return c.Query(
          "SELECT cu.id, cu.customer_no, cu.category, cu.department_id, "
          "COALESCE((SELECT MIN(a.id) FROM accounts a WHERE a.customer_id = cu.id), 0) "
          "FROM customers cu WHERE cu.id > $1 ORDER BY cu.id LIMIT 5000",
          {after}, [&](const gridmis::store::Row& r) {
            rows.push_back({r.Int(0), r.Int(3), r.Int(4), r.Text(1), r.Text(2)});
          });
    });
    if (!s.ok()) return Fail(s);
    if (rows.empty()) break;
    if (static_cast<int64_t>(rows.size()) > customers - issued) rows.resize(customers - issued);
    s = db.Write([&](gridmis::store::Connection& c) -> Status {
      for (const auto& r : rows) {
        gridmis::accounts::BillPosting b;
        b.bill_id = kBillIdBase + r.id;
        b.bill_no = "BENCH" + std::to_string(r.id);
        b.customer_id = r.id;
        b.account_id = r.account_id;
        b.department_id = r.department_id;
        b.period = YearMonth{today.year, today.month}.Prev();
        b.amount = Money::FromFen(5'000 + (r.id * 7919) % 45'000);
        b.due_date = today.AddDays(-20);
        b.issue_date = today.AddDays(-35);
        b.customer_category = r.category;
        RETURN_IF_ERROR(gridmis::accounts::PostBillIssued(c, b, now));
        ++issued;
      }
      return Status::Ok();
    });
    if (!s.ok()) return Fail(s);
    for (const auto& r : rows) out << r.no << "\n";
    after = rows.back().id;
  }
  std::cerr << "pay_setup: " << issued << " customers with a bill\n";
  std::cout << token->token << "\n";
  return 0;
}
