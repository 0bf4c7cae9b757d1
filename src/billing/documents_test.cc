// The bill PDF and the xlsx list, from bills built in memory: a valid PDF with the Chinese text
// extractable (pdftotext from poppler-utils) and a TrueType font embedded; a workbook that is a
// zip whose sheet XML holds the values.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "billing/amount_words.h"
#include "billing/internal/billing_internal.h"

namespace gridmis::billing {
namespace {

rating::BillLine Line(std::string kind, std::string desc, std::string period, int tier,
                      const char* qty, const char* price, int64_t fen) {
  rating::BillLine l;
  l.kind = std::move(kind);
  l.description = std::move(desc);
  l.period_code = std::move(period);
  l.tier = tier;
  l.quantity = *Decimal::Parse(qty);
  l.unit = "kWh";
  l.unit_price = *Decimal::Parse(price);
  l.amount = Money::FromFen(fen);
  return l;
}

BillDocument SampleDocument() {
  BillDocument d;
  Bill& b = d.bill;
  b.id = 7;
  b.bill_no = BillNo(YearMonth{2026, 10}, 12345, 1);
  b.metering_point_code = "MP0012345";
  b.metering_point_name = "居民用电";
  b.customer_no = "1509020001";
  b.customer_name = "张伟";
  b.customer_address = "集宁区新华街12号";
  b.customer_category = "residential";
  b.period = YearMonth{2026, 10};
  b.status = "issued";
  b.tariff_code = "residential_lv";
  b.tariff_version = "residential_lv@2024-01-01";
  b.first_day = Date{2026, 9, 29};
  b.last_day = Date{2026, 10, 28};
  b.billed_kwh = 250;
  b.tier_kwh[0] = 200;
  b.tier_kwh[1] = 50;
  b.tier_cumulative_after_kwh = 2210;
  b.energy_charge = Money::FromFen(12345);
  b.total = Money::FromFen(12345);
  b.due_date = Date{2026, 11, 20};
  b.lines.push_back(Line("energy", "峰段电度电费", "peak", 0, "150", "0.5680", 8520));
  b.lines.push_back(Line("energy", "谷段电度电费", "valley", 0, "100", "0.28800000", 2880));
  b.lines.push_back(Line("tier_increment", "阶梯二档加价", "", 2, "50", "0.0500", 250));
  b.lines.push_back(Line("tier_increment", "阶梯调整", "", 0, "1", "6.9500", 695));
  b.detail_json = nlohmann::json{
      {"meters",
       {{{"asset_no", "3301000123"},
         {"multiplier", 1},
         {"start", {{"total", "1000.0000"}, {"peak", "600.0000"}, {"valley", "400.0000"}}},
         {"end", {{"total", "1250.0000"}, {"peak", "750.0000"}, {"valley", "500.0000"}}}}}},
      {"energy",
       {{"metered", {{"total", "250.0000"}, {"peak", "150.0000"}, {"valley", "100.0000"}}},
        {"transformer_active_loss", "0.0000"},
        {"line_loss", "0.0000"},
        {"max_demand_kw",
         "0.0000"}}}}.dump();
  d.utility_name = "乌兰察布供电公司";
  d.department_name = "集宁供电所";
  d.voltage_text = "交流220V";
  d.payment_url = "https://pay.gridmis.example/bill?no=" + b.bill_no;
  d.print_date = Date{2026, 11, 1};
  return d;
}

std::string WriteTemp(const std::string& bytes, const char* suffix) {
  std::string path = std::string("/tmp/gridmis-doc-test-") + std::to_string(getpid()) + suffix;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(BillPdfTest, IsAValidPdfWithTheChineseTextAndAnEmbeddedTrueTypeFont) {
  BillDocument doc = SampleDocument();
  auto pdf = RenderBillPdf(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  ASSERT_GT(pdf->size(), 1000u);
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  EXPECT_NE(pdf->rfind("%%EOF"), std::string::npos);
  // Glyphs come from an embedded TrueType font (not a base-14 font that has no CJK glyphs).
  EXPECT_NE(pdf->find("/FontFile2"), std::string::npos);
  EXPECT_NE(pdf->find("/ToUnicode"), std::string::npos);

  // To look at it: GRIDMIS_TEST_KEEP_PDF=/tmp/bill.pdf, then pdftoppm -png.
  if (const char* keep = std::getenv("GRIDMIS_TEST_KEEP_PDF")) {
    std::ofstream(keep, std::ios::binary) << *pdf;
  }
  if (system("command -v pdftotext > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "pdftotext (poppler-utils) is not installed: text not checked";
  }
  std::string path = WriteTemp(*pdf, ".pdf");
  std::string text = Capture("pdftotext -layout " + path + " -");
  std::remove(path.c_str());
  for (const std::string& want :
       {std::string("电费通知单"), std::string("乌兰察布供电公司"), std::string("张伟"),
        std::string("1509020001"), std::string("集宁区新华街12号"), doc.bill.bill_no,
        std::string("居民生活用电"), std::string("峰段电度电费"), std::string("阶梯二档加价"),
        std::string("3301000123"), std::string("1250"), std::string("123.45"),
        std::string("壹佰贰拾叁元肆角伍分"), std::string("2026年11月20日"), std::string("扫码交费"),
        std::string("交流220V")}) {
    EXPECT_NE(text.find(want), std::string::npos) << "missing '" << want << "' in:\n" << text;
  }
  // Unit prices as notices print them: 4 decimals at least, stored zeros beyond trimmed.
  EXPECT_NE(text.find("0.2880"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.28800000"), std::string::npos) << text;
}

TEST(BillPdfTest, AnUnissuedBillSaysSoAndHasNoDueDateYet) {
  BillDocument doc = SampleDocument();
  doc.bill.status = "review";
  doc.bill.due_date.reset();
  auto pdf = RenderBillPdf(doc);
  ASSERT_TRUE(pdf.ok());
  if (system("command -v pdftotext > /dev/null 2>&1") != 0) GTEST_SKIP();
  std::string path = WriteTemp(*pdf, ".pdf");
  std::string text = Capture("pdftotext " + path + " -");
  std::remove(path.c_str());
  EXPECT_NE(text.find("待审核"), std::string::npos) << text;
  EXPECT_NE(text.find("发行后确定"), std::string::npos) << text;
}

// The entries of a zip archive (stored or deflated), by name.
std::map<std::string, std::string> Unzip(const std::string& zip) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  auto u16 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(zip[at])) |
           static_cast<uint32_t>(static_cast<uint8_t>(zip[at + 1])) << 8;
  };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  // The central directory has the sizes even when local headers defer them.
  size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
  if (eocd == std::string::npos) return out;
  size_t count = u16(eocd + 10);
  pos = u32(eocd + 16);
  for (size_t i = 0; i < count; ++i) {
    if (zip.compare(pos, 4, std::string("PK\x01\x02", 4)) != 0) break;
    uint32_t method = u16(pos + 10);
    uint32_t csize = u32(pos + 20);
    uint32_t usize = u32(pos + 24);
    uint32_t nlen = u16(pos + 28), xlen = u16(pos + 30), clen = u16(pos + 32);
    uint32_t local = u32(pos + 42);
    std::string name = zip.substr(pos + 46, nlen);
    pos += 46 + nlen + xlen + clen;
    size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    std::string raw = zip.substr(data, csize);
    if (method == 0) {
      out[name] = raw;
      continue;
    }
    std::string inflated(usize, '\0');
    z_stream zs{};
    inflateInit2(&zs, -MAX_WBITS);
    zs.next_in = reinterpret_cast<Bytef*>(raw.data());
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = reinterpret_cast<Bytef*>(inflated.data());
    zs.avail_out = static_cast<uInt>(inflated.size());
    inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    out[name] = inflated;
  }
  return out;
}

TEST(BillsXlsxTest, IsAWorkbookWithOneRowPerBill) {
  Bill a = SampleDocument().bill;
  Bill b = a;
  b.bill_no = BillNo(YearMonth{2026, 10}, 12346, 2);
  b.customer_name = "李娜";
  b.total = Money::FromFen(-5);
  b.status = "review";
  b.review_flags = {"negative_line", "change_month"};
  auto xlsx = RenderBillsXlsx({a, b});
  ASSERT_TRUE(xlsx.ok()) << xlsx.status().ToString();
  EXPECT_EQ(xlsx->substr(0, 2), "PK");
  auto files = Unzip(*xlsx);
  ASSERT_TRUE(files.count("xl/workbook.xml")) << files.size();
  ASSERT_TRUE(files.count("xl/worksheets/sheet1.xml"));
  EXPECT_NE(files["xl/workbook.xml"].find("电费账单"), std::string::npos);
  const std::string& sheet = files["xl/worksheets/sheet1.xml"];
  for (const std::string& want :
       {std::string("账单编号"), a.bill_no, b.bill_no, std::string("张伟"), std::string("李娜"),
        std::string("<v>123.45</v>"), std::string("<v>-0.05</v>"), std::string("<v>250</v>"),
        std::string("negative_line,change_month"), std::string("待审核"), std::string("已发行"),
        std::string("2026-11-20")}) {
    EXPECT_NE(sheet.find(want), std::string::npos) << "missing '" << want << "'";
  }
  // Three rows: the header and two bills.
  size_t rows = 0;
  for (size_t p = sheet.find("<row "); p != std::string::npos; p = sheet.find("<row ", p + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 3u);
  // The same workbook opens with the system's unzip, when there is one.
  if (system("command -v unzip > /dev/null 2>&1") == 0) {
    std::string path = WriteTemp(*xlsx, ".xlsx");
    EXPECT_EQ(system(("unzip -tq " + path + " > /dev/null").c_str()), 0);
    std::remove(path.c_str());
  }
}

}  // namespace
}  // namespace gridmis::billing
