// Accounts over HTTP: the counter's query, payment, receipt and reversal; the ledger views; a
// bank calling the channel API with an API token (retries, conflicts, reversal, permissions);
// reconciliation and closing the day with the check files of tests/data/bank; direct-debit
// export, the GBK request file, frozen bills and the return file (bad lines named, nothing
// posted); prepaid purchases; counter payments and purchases idempotent by request_id. On
// SQLite and PostgreSQL.
#include <fstream>
#include <set>

#include "accounts/bank_files.h"
#include "accounts/posting.h"
#include "api/api_fixture.h"

namespace gridmis::testing {
namespace {

using nlohmann::json;

std::string BankFixture(const std::string& name) {
  std::string here = __FILE__;  // .../tests/api/accounts_test.cc
  std::string dir = here.substr(0, here.rfind("/api/")) + "/data/bank/";
  std::ifstream in(dir + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << dir + name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class AccountsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mgr_ = LoginAs("manager");
    clerk_a_ = LoginAs("clerk_a");
    clerk_b_ = LoginAs("clerk_b");
    shop_ = MakeCustomer("1500000001", "commercial");
    home_ = MakeCustomer("1500000002", "residential");
    // The December bill of the shop: 10,000.00 due 2026-12-25 (today is 2027-01-15).
    Issue(1, shop_, 1'000'000, "2026-12", "2026-12-25");
  }

  int64_t MakeCustomer(const std::string& no, const std::string& category) {
    auto r = mgr_->Post("/api/v1/customers", json{{"customer_no", no},
                                                  {"name", "客户" + no},
                                                  {"category", category},
                                                  {"address", "集宁区新华街" + no + "号"},
                                                  {"department_id", county_a_}}
                                                 .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    int64_t id = Json(r).value("id", int64_t{0});
    auto acc = mgr_->Post("/api/v1/customers/" + std::to_string(id) + "/accounts",
                          json{{"account_no", "A" + no}, {"name", "客户" + no}}.dump());
    EXPECT_EQ(acc.status, 201) << acc.body;
    return id;
  }

  // A bill issued by the billing workflow (the posting contract in its transaction).
  void Issue(int64_t bill_id, int64_t customer, int64_t fen, const char* period, const char* due,
             int64_t account_id = 0) {
    Status s = app_->db().Write([&](store::Connection& c) -> Status {
      accounts::BillPosting b;
      b.bill_id = bill_id;
      b.bill_no = "B" + std::to_string(bill_id);
      b.customer_id = customer;
      if (account_id) {
        b.account_id = account_id;
      } else {
        ASSIGN_OR_RETURN(b.account_id, c.QueryInt("SELECT MIN(id) FROM accounts WHERE "
                                                  "customer_id = $1",
                                                  {customer}));
      }
      b.department_id = county_a_;
      b.period = YearMonth::Parse(period).value();
      b.amount = Money::FromFen(fen);
      b.due_date = Date::Parse(due).value();
      b.issue_date = b.due_date.AddDays(-15);
      ASSIGN_OR_RETURN(b.customer_category,
                       c.QueryText("SELECT category FROM customers WHERE id = $1", {customer}));
      return accounts::PostBillIssued(c, b, clock_.NowMicros());
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  int64_t Count(const std::string& sql) {
    auto n = app_->db().ReadValue<int64_t>([&](store::Connection& c) { return c.QueryInt(sql); });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  // A payment channel with its API user and token; returns the bank's client.
  std::unique_ptr<HttpClient> MakeChannel(const std::string& code, const std::string& encoding,
                                          const std::string& bank_name, int64_t* channel_id) {
    int64_t uid = CreateUser("api_" + code, root_, "payment_channel");
    auto token = app_->org().CreateApiToken(org::Actor::System("test"), uid, code, std::nullopt);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    auto r = mgr_->Post("/api/v1/payment-channels", json{{"code", code},
                                                         {"name", bank_name},
                                                         {"user_id", uid},
                                                         {"bank_name", bank_name},
                                                         {"file_encoding", encoding}}
                                                        .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    *channel_id = Json(r).value("id", int64_t{0});
    auto client = Anonymous();
    client->SetBearer(token.ok() ? token->token : "");
    return client;
  }

  std::string CustomerPath(int64_t id) { return "/api/v1/customers/" + std::to_string(id); }

  std::unique_ptr<HttpClient> mgr_, clerk_a_, clerk_b_;
  int64_t shop_ = 0, home_ = 0;
};

TEST_P(AccountsApiTest, CounterQueryPaymentReceiptReversalAndLedger) {
  // Late fee to today: Dec 26-31 at 2‰ (120.00) + Jan 1-15 at 3‰ (450.00).
  auto q = clerk_a_->Get(CustomerPath(shop_) + "/arrears");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(Json(q)["late_fee"], "570.00");
  EXPECT_EQ(Json(q)["total"], "10570.00");
  EXPECT_EQ(clerk_b_->Get(CustomerPath(shop_) + "/arrears").status, 404);

  // Strict bodies: an unknown field or a bad amount is named; nothing is posted.
  auto reader = LoginAs("reader_a");
  int64_t audit = AuditCount();
  auto bad = clerk_a_->Post(
      "/api/v1/payments",
      json{{"customer_id", shop_}, {"amount", "10.00"}, {"method", "cash"}, {"amonut", "1"}}
          .dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Json(bad)["error"]["field"], "amonut");
  bad =
      clerk_a_->Post("/api/v1/payments",
                     json{{"customer_id", shop_}, {"amount", "10.001"}, {"method", "cash"}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["error"]["field"], "amount");
  EXPECT_EQ(reader
                ->Post("/api/v1/payments",
                       json{{"customer_id", shop_}, {"amount", "1.00"}, {"method", "cash"}}.dump())
                .status,
            403);
  EXPECT_EQ(AuditCount(), audit);

  auto paid = clerk_a_->Post("/api/v1/payments", json{{"customer_id", shop_},
                                                      {"amount", "10600.00"},
                                                      {"method", "cash"},
                                                      {"tendered", "10700.00"}}
                                                     .dump());
  ASSERT_EQ(paid.status, 201) << paid.body;
  json receipt = Json(paid);
  EXPECT_EQ(receipt["late_fee"], "570.00");
  EXPECT_EQ(receipt["principal"], "10000.00");
  EXPECT_EQ(receipt["credit"], "30.00");
  EXPECT_EQ(receipt["change"], "100.00");
  EXPECT_EQ(receipt["cashier"], "clerk_a");
  EXPECT_NE(receipt["printable"].get<std::string>().find("找零：100.00"), std::string::npos);
  std::string id = std::to_string(receipt["payment_id"].get<int64_t>());
  auto text = clerk_a_->Get("/api/v1/payments/" + id + "/receipt");
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.Header("content-type").rfind("text/plain", 0), 0u);
  EXPECT_NE(text.body.find(receipt["receipt_no"].get<std::string>()), std::string::npos);
  EXPECT_EQ(clerk_b_->Get("/api/v1/payments/" + id).status, 404);

  auto tb = Json(mgr_->Get("/api/v1/ledger/trial-balance"));
  EXPECT_EQ(tb["balanced"], true);
  EXPECT_EQ(tb["total_balance"], "0.00");
  EXPECT_EQ(tb["total_debit"], "20600.00");
  auto st = Json(mgr_->Get(CustomerPath(shop_) + "/statement?from=2027-01-01"));
  EXPECT_EQ(st["opening_balance"], "10000.00");
  EXPECT_EQ(st["closing_balance"], "-30.00");

  // Reverse it the same day: a stale version conflicts, the right one reverses.
  auto stale = clerk_a_->Post("/api/v1/payments/" + id + "/reverse",
                              json{{"version", 99}, {"reason", "收错户"}}.dump());
  EXPECT_EQ(stale.status, 409) << stale.body;
  auto rev = clerk_a_->Post("/api/v1/payments/" + id + "/reverse",
                            json{{"version", receipt["version"]}, {"reason", "收错户"}}.dump());
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(Json(rev)["status"], "reversed");
  EXPECT_EQ(Json(clerk_a_->Get(CustomerPath(shop_) + "/arrears"))["total"], "10570.00");
  auto entries = Json(mgr_->Get("/api/v1/ledger/entries?kind=payment_reversal"));
  ASSERT_EQ(entries["total"], 1);
  EXPECT_FALSE(entries["items"][0]["reverses_entry_id"].is_null());
  EXPECT_EQ(Json(mgr_->Get("/api/v1/ledger/trial-balance"))["total_balance"], "0.00");
  auto list = Json(mgr_->Get("/api/v1/receivables?customer_id=" + std::to_string(shop_)));
  ASSERT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["late_fee_due"], "570.00");
}

TEST_P(AccountsApiTest, ABankCallsTheChannelApiWithItsToken) {
  int64_t channel = 0;
  auto bank = MakeChannel("ICBC", "utf8", "工商银行", &channel);
  auto q = bank->Get("/api/v1/channel/arrears?customer_no=1500000001");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(Json(q)["total"], "10570.00");
  EXPECT_EQ(bank->Get("/api/v1/channel/arrears?customer_no=9999999999").status, 404);

  json pay = {{"serial", "S-1"},
              {"customer_no", "1500000001"},
              {"amount", "10570.00"},
              {"txn_time", "101500"},
              {"expected_total", "10570.00"}};
  auto first = bank->Post("/api/v1/channel/payments", pay.dump());
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(Json(first)["duplicate"], false);
  // The bank timed out and retries: the original answer, 200, nothing posted.
  int64_t audit = AuditCount();
  auto retry = bank->Post("/api/v1/channel/payments", pay.dump());
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry)["duplicate"], true);
  EXPECT_EQ(Json(retry)["receipt_no"], Json(first)["receipt_no"]);
  pay["amount"] = "1.00";
  auto conflict = bank->Post("/api/v1/channel/payments", pay.dump());
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Json(conflict)["error"]["code"], "ALREADY_EXISTS");
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);
  // A stale query total is refused.
  Issue(2, shop_, 5000, "2027-01", "2027-01-30");
  auto changed = bank->Post("/api/v1/channel/payments", json{{"serial", "S-X"},
                                                             {"customer_no", "1500000001"},
                                                             {"amount", "50.00"},
                                                             {"expected_total", "10570.00"}}
                                                            .dump());
  EXPECT_EQ(changed.status, 409);
  EXPECT_EQ(Json(changed)["error"]["field"], "expected_total");

  // Same-day reversal; the reconciliation of the day; closing it.
  auto rev = bank->Post("/api/v1/channel/reversals", json{{"serial", "S-1"}}.dump());
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(Json(rev)["status"], "reversed");
  ASSERT_EQ(
      bank->Post(
              "/api/v1/channel/payments",
              json{{"serial", "S-2"}, {"customer_no", "1500000001"}, {"amount", "500.00"}}.dump())
          .status,
      201);
  // Whose permissions: a counter clerk's session cannot use the channel API, the bank's token
  // cannot take counter payments or read the ledger.
  EXPECT_EQ(
      clerk_a_
          ->Post("/api/v1/channel/payments",
                 json{{"serial", "S-C"}, {"customer_no", "1500000001"}, {"amount", "1.00"}}.dump())
          .status,
      403);
  EXPECT_EQ(bank->Post("/api/v1/payments",
                       json{{"customer_id", shop_}, {"amount", "1.00"}, {"method", "cash"}}.dump())
                .status,
            403);
  EXPECT_EQ(bank->Get("/api/v1/ledger/trial-balance").status, 403);

  std::string path =
      "/api/v1/reconciliations?channel_id=" + std::to_string(channel) + "&clearing_date=2027-01-15";
  audit = AuditCount();
  auto bad =
      mgr_->Send("POST", path, BankFixture("icbc_check_bad.txt"), {{"Content-Type", "text/plain"}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  std::set<int64_t> lines;
  json bad_body = Json(bad);
  for (const auto& l : bad_body["bad_lines"]) lines.insert(l["line"].get<int64_t>());
  EXPECT_EQ(lines, (std::set<int64_t>{2, 4})) << bad.body;
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reconciliations"), 0);
  auto recon = mgr_->Send("POST", path + "&file_name=icbc.txt",
                          BankFixture("icbc_check_20270115.txt"), {{"Content-Type", "text/plain"}});
  ASSERT_EQ(recon.status, 201) << recon.body;
  EXPECT_EQ(Json(recon)["matched_count"], 1);
  EXPECT_EQ(Json(recon)["bank_only_count"], 1);
  EXPECT_EQ(Json(recon)["utility_only_count"], 0);
  EXPECT_EQ(Json(recon)["balanced"], false);
  EXPECT_EQ(Json(recon)["items"][0]["serial"], "S-9");
  auto closed = mgr_->Post(
      "/api/v1/payment-channels/" + std::to_string(channel) + "/days/2027-01-15/close", "{}");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Json(closed)["status"], "closed");
  auto late = bank->Post("/api/v1/channel/reversals", json{{"serial", "S-2"}}.dump());
  EXPECT_EQ(late.status, 409);
  EXPECT_NE(Json(late)["error"]["message"].get<std::string>().find("已清算"), std::string::npos);
  auto days = Json(mgr_->Get("/api/v1/payment-channels/" + std::to_string(channel) + "/days"));
  EXPECT_EQ(days["items"][0]["payment_total"], "500.00");
}

TEST_P(AccountsApiTest, DirectDebitFilesOverHttp) {
  int64_t channel = 0;
  auto bank = MakeChannel("BOC", "gbk", "中国银行", &channel);
  auto acc =
      mgr_->Post(CustomerPath(home_) + "/accounts", json{{"account_no", "DK-1500000002"},
                                                         {"name", "张三代扣"},
                                                         {"payment_method", "bank_debit"},
                                                         {"bank_name", "中国银行"},
                                                         {"bank_account_no", "6216600000000002"}}
                                                        .dump());
  ASSERT_EQ(acc.status, 201) << acc.body;
  Issue(3, home_, 20'000, "2026-12", "2027-01-25", Json(acc)["id"].get<int64_t>());

  EXPECT_EQ(clerk_a_
                ->Post("/api/v1/debit-batches",
                       json{{"channel_id", channel}, {"department_id", county_a_}}.dump())
                .status,
            403);
  auto made = mgr_->Post("/api/v1/debit-batches",
                         json{{"channel_id", channel}, {"department_id", county_a_}}.dump());
  ASSERT_EQ(made.status, 201) << made.body;
  json batch = Json(made);
  ASSERT_EQ(batch["batch_no"], "DK20270115BOC000001");
  std::string path = "/api/v1/debit-batches/" + std::to_string(batch["id"].get<int64_t>());
  auto file = mgr_->Get(path + "/file");
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.Header("content-type"), "text/plain; charset=GBK");
  auto text = accounts::ToUtf8(file.body, "gbk");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "202701|1|200.00|DK20270115BOC000001\n"
            "1500000002|6216600000000002|200.00|202612|GS0101|DK20270115BOC000001-00001|"
            "张三代扣\n");
  // Frozen until the return file.
  auto refused =
      clerk_a_->Post("/api/v1/payments",
                     json{{"customer_id", home_}, {"amount", "200.00"}, {"method", "cash"}}.dump());
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(Json(refused)["error"]["message"].get<std::string>().find("DK20270115BOC000001"),
            std::string::npos);

  int64_t audit = AuditCount();
  auto bad = mgr_->Send("POST", path + "/return", BankFixture("boc_return_bad.txt"),
                        {{"Content-Type", "text/plain"}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  std::set<int64_t> lines;
  json bad_body = Json(bad);
  for (const auto& l : bad_body["bad_lines"]) lines.insert(l["line"].get<int64_t>());
  EXPECT_EQ(lines, (std::set<int64_t>{2, 3})) << bad.body;
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 0);
  EXPECT_EQ(Json(mgr_->Get(path))["status"], "exported");

  std::string ok = BankFixture("boc_return_ok.gbk.txt");
  auto done =
      mgr_->Send("POST", path + "/return", ok, {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Json(done)["status"], "returned");
  EXPECT_EQ(Json(done)["success_count"], 1);
  EXPECT_EQ(Json(done)["items"][0]["reason"], "代扣成功");
  // The same file again, as JSON with base64: the same answer, nothing posted.
  auto again =
      mgr_->Post(path + "/return", json{{"content_base64", accounts::EncodeBase64(ok)}}.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments WHERE source = 'debit'"), 1);
  EXPECT_EQ(Json(clerk_a_->Get(CustomerPath(home_) + "/arrears"))["total"], "0.00");
  (void)bank;
}

TEST_P(AccountsApiTest, PrepaidPurchaseAndControlRequestsOverHttp) {
  auto point = mgr_->Post("/api/v1/metering-points", json{{"code", "MP-1"},
                                                          {"customer_id", home_},
                                                          {"voltage_v", 220},
                                                          {"tariff_code", "residential_lv"}}
                                                         .dump());
  ASSERT_EQ(point.status, 201) << point.body;
  auto open = clerk_a_->Post(
      "/api/v1/prepaid-accounts",
      json{{"metering_point_id", Json(point)["id"]}, {"mode", "ic_card"}, {"card_no", "IC0001"}}
          .dump());
  ASSERT_EQ(open.status, 201) << open.body;
  std::string path = "/api/v1/prepaid-accounts/" + std::to_string(Json(open)["id"].get<int64_t>());
  auto buy =
      clerk_a_->Post(path + "/purchases", json{{"amount", "100.00"}, {"method", "cash"}}.dump());
  ASSERT_EQ(buy.status, 201) << buy.body;
  EXPECT_EQ(Json(buy)["card_write"]["purchase_count"], 1);
  EXPECT_EQ(Json(buy)["account"]["balance"], "100.00");
  auto txns = Json(clerk_a_->Get(path + "/transactions"));
  EXPECT_EQ(txns["total"], 1);
  EXPECT_EQ(clerk_b_->Get(path).status, 404);
  EXPECT_EQ(Json(clerk_a_->Get("/api/v1/control-requests"))["total"], 0);
  auto deduct = clerk_a_->Post("/api/v1/prepaid/deductions", json{{"day", "2027-01-14"}}.dump());
  ASSERT_EQ(deduct.status, 200) << deduct.body;
  EXPECT_EQ(Json(deduct)["accounts"], 0);  // no remote accounts
  EXPECT_EQ(clerk_a_->Post("/api/v1/prepaid/deductions", json{{"day", "2027-01-15"}}.dump()).status,
            400);
  EXPECT_EQ(Json(mgr_->Get("/api/v1/ledger/trial-balance"))["balanced"], true);
}

TEST_P(AccountsApiTest, CounterPaymentsAndPurchasesAreIdempotentByRequestId) {
  json pay = {{"customer_id", shop_},
              {"amount", "100.00"},
              {"method", "cash"},
              {"request_id", "POS1-20270115-0001"}};
  auto first = clerk_a_->Post("/api/v1/payments", pay.dump());
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(Json(first)["duplicate"], false);
  EXPECT_EQ(Json(first)["request_id"], "POS1-20270115-0001");
  // The client timed out and sends it again: the original receipt, 200, nothing posted.
  int64_t audit = AuditCount();
  auto retry = clerk_a_->Post("/api/v1/payments", pay.dump());
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry)["duplicate"], true);
  EXPECT_EQ(Json(retry)["receipt_no"], Json(first)["receipt_no"]);
  pay["amount"] = "200.00";
  auto conflict = clerk_a_->Post("/api/v1/payments", pay.dump());
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(Json(conflict)["error"]["field"], "request_id");
  pay["request_id"] = "bad id!";
  auto bad = clerk_a_->Post("/api/v1/payments", pay.dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Json(bad)["error"]["field"], "request_id");
  EXPECT_EQ(AuditCount(), audit);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);

  auto point = mgr_->Post("/api/v1/metering-points", json{{"code", "MP-2"},
                                                          {"customer_id", home_},
                                                          {"voltage_v", 220},
                                                          {"tariff_code", "residential_lv"}}
                                                         .dump());
  ASSERT_EQ(point.status, 201) << point.body;
  auto open = clerk_a_->Post(
      "/api/v1/prepaid-accounts",
      json{{"metering_point_id", Json(point)["id"]}, {"mode", "ic_card"}, {"card_no", "IC0002"}}
          .dump());
  ASSERT_EQ(open.status, 201) << open.body;
  std::string path = "/api/v1/prepaid-accounts/" + std::to_string(Json(open)["id"].get<int64_t>());
  json buy = {{"amount", "100.00"}, {"method", "cash"}, {"request_id", "CARD-0001"}};
  auto bought = clerk_a_->Post(path + "/purchases", buy.dump());
  ASSERT_EQ(bought.status, 201) << bought.body;
  EXPECT_EQ(Json(bought)["duplicate"], false);
  EXPECT_EQ(Json(bought)["transaction"]["request_id"], "CARD-0001");
  auto again = clerk_a_->Post(path + "/purchases", buy.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again)["duplicate"], true);
  EXPECT_EQ(Json(again)["card_write"], Json(bought)["card_write"]);
  EXPECT_EQ(Json(again)["account"]["balance"], "100.00");
  EXPECT_EQ(Json(clerk_a_->Get(path + "/transactions"))["total"], 1);
  buy["method"] = "card";
  EXPECT_EQ(clerk_a_->Post(path + "/purchases", buy.dump()).status, 409);

  // Money on it: the account cannot be closed.
  auto close = clerk_a_->Send(
      "PATCH", path,
      json{{"version", Json(again)["account"]["version"]}, {"status", "closed"}}.dump());
  EXPECT_EQ(close.status, 409) << close.body;
  EXPECT_EQ(Json(close)["error"]["field"], "status");
  EXPECT_NE(Json(close)["error"]["message"].get<std::string>().find("100.00"), std::string::npos);
  EXPECT_EQ(Json(clerk_a_->Get(path))["status"], "active");
}

GRIDMIS_API_TEST_BACKENDS(AccountsApiTest);

}  // namespace
}  // namespace gridmis::testing
