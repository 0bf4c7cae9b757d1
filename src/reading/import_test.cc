#include "reading/import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "reading/xlsx.h"

namespace gridmis::reading {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(GRIDMIS_READING_TEST_DATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Energy Kwh(const char* text) { return Energy::ParseKwh(text).value(); }

struct Parsed {
  std::vector<ImportedRead> reads;
  std::vector<std::pair<int64_t, std::string>> errors;
  std::string charset;
  Status status;
};

Parsed Csv(const std::string& text, const std::string& charset = "") {
  Parsed p;
  std::istringstream in(text);
  p.status = ReadCsvReads(
      in, charset, &p.charset,
      [&](ImportedRead&& r) {
        p.reads.push_back(std::move(r));
        return Status::Ok();
      },
      [&](int64_t line, const std::string& m) {
        p.errors.push_back({line, m});
      });
  return p;
}

Parsed Xlsx(const std::string& bytes) {
  Parsed p;
  std::istringstream in(bytes);
  p.status = ReadXlsxReads(
      in,
      [&](ImportedRead&& r) {
        p.reads.push_back(std::move(r));
        return Status::Ok();
      },
      [&](int64_t line, const std::string& m) {
        p.errors.push_back({line, m});
      });
  return p;
}

std::string ErrorsText(const Parsed& p) {
  std::string s;
  for (const auto& [line, m] : p.errors) s += std::to_string(line) + ": " + m + "\n";
  return s;
}

// The three December reads every fixture holds.
void ExpectDecemberReads(const Parsed& p) {
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_TRUE(p.errors.empty()) << ErrorsText(p);
  ASSERT_EQ(p.reads.size(), 3u);
  EXPECT_EQ(p.reads[0].point_code, "MP-A001");
  EXPECT_EQ(p.reads[0].line, 2);
  EXPECT_EQ(p.reads[0].read_date, (Date{2026, 12, 25}));
  EXPECT_EQ(p.reads[0].registers.at("total"), Kwh("700.5"));
  EXPECT_EQ(p.reads[0].registers.at("peak"), Kwh("420.3"));
  EXPECT_EQ(p.reads[0].registers.at("valley"), Kwh("280.2"));
  EXPECT_EQ(p.reads[1].point_code, "MP-A002");
  EXPECT_EQ(p.reads[1].read_date, (Date{2026, 12, 25}));
  EXPECT_EQ(p.reads[1].registers.at("total"), Kwh("1100"));
  EXPECT_EQ(p.reads[1].registers.at("peak"), Kwh("660"));
  EXPECT_EQ(p.reads[2].point_code, "MP-A003");
  EXPECT_EQ(p.reads[2].line, 4);
  EXPECT_EQ(p.reads[2].registers.at("total"), Kwh("200"));
  EXPECT_EQ(p.reads[2].registers.size(), 3u);
}

TEST(ImportCsvTest, Utf8WithEnglishHeaders) {
  Parsed p = Csv(Fixture("reads_utf8.csv"));
  ExpectDecemberReads(p);
  EXPECT_EQ(p.charset, "utf-8");
  EXPECT_EQ(p.reads[0].period, (YearMonth{2026, 12}));
  EXPECT_FALSE(p.reads[1].period);  // an empty cell
  EXPECT_EQ(p.reads[2].period, (YearMonth{2026, 12}));
}

TEST(ImportCsvTest, GbkWithChineseHeadersIsDetected) {
  std::string bytes = Fixture("reads_gbk.csv");
  Parsed p = Csv(bytes);
  ExpectDecemberReads(p);
  EXPECT_EQ(p.charset, "gbk");
  // Named explicitly too; read as UTF-8 it is refused with the line.
  EXPECT_EQ(Csv(bytes, "GBK").reads.size(), 3u);
  Parsed wrong = Csv(bytes, "utf-8");
  ASSERT_EQ(wrong.errors.size(), 1u);
  EXPECT_EQ(wrong.errors[0].first, 1);
  EXPECT_NE(wrong.errors[0].second.find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(Csv(bytes, "latin1").status.field(), "charset");
}

TEST(ImportCsvTest, ByteOrderMarkQuotesAndBlankLines) {
  Parsed p =
      Csv("\xEF\xBB\xBF"
          "计量点编号, 抄表日期 ,总示数,最大需量(kW)\n"
          "\n"
          "\"MP,1\",2026-12-25,\"1,234.5\",3\n"
          "MP2,2026-12-25,\"12\"\"3\",3\n"
          "\"MP3\",2026-12-25,\"5\n"
          "0\",1\n"
          "MP4,2026-12-25,7,\n");
  EXPECT_EQ(p.charset, "utf-8");
  ASSERT_EQ(p.errors.size(), 3u) << ErrorsText(p);
  EXPECT_EQ(p.errors[0].first, 3);  // "1,234.5" is no number
  EXPECT_EQ(p.errors[1].first, 4);
  EXPECT_EQ(p.errors[2].first, 5);  // a quoted line break: the record starts on line 5
  ASSERT_EQ(p.reads.size(), 1u);
  EXPECT_EQ(p.reads[0].line, 7);
  EXPECT_EQ(p.reads[0].registers.size(), 1u);  // max_demand empty: not given
}

TEST(ImportCsvTest, EveryBadLineIsReportedWithItsNumber) {
  Parsed p = Csv(Fixture("bad.csv"));
  ASSERT_TRUE(p.status.ok());
  // Lines 3 (unknown point), 6 (duplicate) and 7 (missing register) are for the service; the
  // parser reports what it can see alone.
  std::vector<int64_t> lines;
  for (const auto& e : p.errors) lines.push_back(e.first);
  EXPECT_EQ(lines, (std::vector<int64_t>{4, 5, 8})) << ErrorsText(p);
  EXPECT_NE(p.errors[0].second.find("'2026-13-45' is not a date"), std::string::npos);
  EXPECT_NE(p.errors[1].second.find("total 'abc'"), std::string::npos);
  EXPECT_NE(p.errors[2].second.find("at most 4 decimals"), std::string::npos);
  EXPECT_EQ(p.reads.size(), 4u);
}

TEST(ImportCsvTest, HeaderProblems) {
  Parsed p = Csv("point_code,when,total,kwh\nMP1,2026-12-25,1,2\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].first, 1);
  EXPECT_NE(p.errors[0].second.find("unknown column 'when'"), std::string::npos);
  EXPECT_NE(p.errors[0].second.find("unknown column 'kwh'"), std::string::npos);
  EXPECT_NE(p.errors[0].second.find("no read_date column"), std::string::npos);
  EXPECT_TRUE(p.reads.empty());
  p = Csv("point_code,read_date,total,总\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].second.find("repeats"), std::string::npos);
  p = Csv("");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].second.find("empty"), std::string::npos);
  p = Csv("point_code,read_date,total\nMP1,2026-12-25,1,extra\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].first, 2);
}

TEST(ImportXlsxTest, AWorkbookAsOpenpyxlSavesIt) {
  Parsed p = Xlsx(Fixture("reads.xlsx"));
  ExpectDecemberReads(p);  // date cells, "660.0000000000001" read as 660
}

TEST(ImportXlsxTest, SharedStringsRichTextAndPhoneticRuns) {
  std::string bytes = Fixture("reads_shared.xlsx");
  std::vector<SheetRow> rows;
  ASSERT_TRUE(ReadFirstSheet(bytes, [&](const SheetRow& r) {
                rows.push_back(r);
                return Status::Ok();
              }).ok());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].cells[0].text, "计量点编号");  // two runs; the phonetic run left out
  EXPECT_EQ(rows[1].cells[1].text, "46381");
  EXPECT_TRUE(rows[1].cells[1].numeric);
  EXPECT_FALSE(rows[1].cells[0].numeric);
  ExpectDecemberReads(Xlsx(bytes));
}

TEST(ImportXlsxTest, NotAWorkbook) {
  Parsed p = Xlsx("point_code,read_date\n");
  EXPECT_EQ(p.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status.message().find("not an xlsx workbook"), std::string::npos);
  std::string truncated = Fixture("reads.xlsx");
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(Xlsx(truncated).status.ok());
}

TEST(ImportNumbersTest, SpreadsheetNumbersAndDates) {
  EXPECT_EQ(*ParseImportedKwh("700.5"), Kwh("700.5"));
  EXPECT_EQ(*ParseImportedKwh("660.0000000000001"), Kwh("660"));
  EXPECT_EQ(*ParseImportedKwh("1234.5599999999999"), Kwh("1234.56"));
  EXPECT_EQ(*ParseImportedKwh("1.23456E5"), Kwh("123456"));
  EXPECT_EQ(*ParseImportedKwh("1E-2"), Kwh("0.01"));
  EXPECT_EQ(*ParseImportedKwh("0"), Kwh("0"));
  EXPECT_FALSE(ParseImportedKwh("12.34567").ok());  // more decimals than a register has
  // Float noise past the 4th decimal, a run of 0s or 9s through the 15th digit, is rounded away.
  EXPECT_EQ(*ParseImportedKwh("659.9999999999999"), Kwh("660"));
  EXPECT_EQ(*ParseImportedKwh("660.00000000000011"), Kwh("660"));
  EXPECT_EQ(*ParseImportedKwh("0.30000000000000004"), Kwh("0.3"));
  EXPECT_EQ(*ParseImportedKwh("1234.5600000000012"), Kwh("1234.56"));
  // Real decimals of a long number are not.
  for (const char* text : {"12345.678901234567", "100.12345678901234", "1234.56000000012",
                           "1234.5699999999", "1234.5650500000001", "0.0000123456789012345"}) {
    auto e = ParseImportedKwh(text);
    ASSERT_FALSE(e.ok()) << text << " read as " << e->ToKwhString();
    EXPECT_NE(e.status().message().find("more than 4 decimals"), std::string::npos) << text;
  }
  EXPECT_FALSE(ParseImportedKwh("abc").ok());
  EXPECT_FALSE(ParseImportedKwh("1e400").ok());
  EXPECT_EQ(*ExcelSerialDate("46381", false), (Date{2026, 12, 25}));
  EXPECT_EQ(*ExcelSerialDate("46381.5", false), (Date{2026, 12, 25}));
  EXPECT_EQ(*ExcelSerialDate("1", false), (Date{1900, 1, 1}));
  EXPECT_EQ(*ExcelSerialDate("61", false), (Date{1900, 3, 1}));
  EXPECT_EQ(*ExcelSerialDate("44919", true), (Date{2026, 12, 25}));
  EXPECT_FALSE(ExcelSerialDate("-3", false).ok());
}

}  // namespace
}  // namespace gridmis::reading
