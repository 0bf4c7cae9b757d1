// Bank files (tariffs.md §11.2, §11.3): the direct-debit request the utility sends (代扣文件),
// the bank's return file (回盘文件) and the channel's daily check file (对账文件). Pure: text in,
// values and line-numbered errors out; the services decide what to post.
//
// All files are '|'-delimited lines in UTF-8 or GBK (per channel), '\n' or "\r\n" line ends, a
// header line first, blank lines ignored. Amounts in yuan carry two decimals ("123.45"); the
// check file carries fen as whole numbers, as the eleGz layout does.
//
// Debit request (exported), after §11.2 eleGz:
//   header  电费月 YYYYMM | 总记录数 | 总金额 | 批号
//   detail  用户编号 | 银行账号 | 金额 | 电费月份 YYYYMM | 单位编码 | 账务流水号 | 账户名称
// Return file (imported), one line per exported line:
//   header  批号 | 总记录数 | 实扣总金额
//   detail  账务流水号 | 用户编号 | 应扣金额 | 成功标志 1/0 | 实扣金额 | 银行流水号 |
//           扣款日期 YYYYMMDD | 说明
// Check file (imported), after §11.3 eleGz 缴费对账:
//   header  渠道代码 | 清算日期 YYYYMMDD | 总笔数 | 净额(分, 缴费 − 冲正)
//   detail  供电公司系统参考号 | 用户编号 | 清算日期 | 银行交易日期 | 银行时间 HHMMSS |
//           银行流水号 | 客户账号 | 交易类型 01 缴费 / 02 冲正 | 金额(分) | 原银行流水号 (冲正) |
//           供电交易日期 | 供电交易时间 | 支票号 | 电费月份
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::accounts {

// ---- Encodings ----

// "utf8" (validated) or "gbk" (GB 18030 accepted) to UTF-8. A leading UTF-8 BOM is dropped.
// InvalidArgument naming the line and byte of the first undecodable character.
Result<std::string> ToUtf8(std::string_view bytes, std::string_view encoding);
// UTF-8 to "utf8" (unchanged) or "gbk"; InvalidArgument for a character GBK lacks.
Result<std::string> FromUtf8(std::string_view utf8, std::string_view encoding);
Result<std::string> DecodeBase64(std::string_view text);
std::string EncodeBase64(std::string_view bytes);

// A problem with one line of a file (line 0: the file as a whole).
struct FileError {
  int64_t line = 0;
  std::string reason;
};
// "line 3: amount 'x' is not ...; line 7: ..." (at most `max` listed, then "and N more").
std::string DescribeFileErrors(const std::vector<FileError>& errors, size_t max = 20);

// ---- Direct debit request ----

struct DebitRequestLine {
  std::string customer_no;
  std::string bank_account_no;
  Money amount;
  YearMonth period;
  std::string department_code;
  std::string serial;
  std::string account_name;
};
// The request file as UTF-8 text ('|' and line breaks inside fields are replaced by spaces).
std::string FormatDebitRequest(std::string_view batch_no, Date export_date,
                               const std::vector<DebitRequestLine>& lines);

// ---- Direct debit return ----

struct DebitReturnLine {
  int64_t line = 0;  // in the file, 1-based
  std::string serial;
  std::string customer_no;
  Money amount;
  bool success = false;
  Money debited;
  std::string bank_serial;
  Date debit_date;
  std::string reason;
};
struct DebitReturn {
  std::string batch_no;
  int64_t count = 0;
  Money total;                         // of the debited amounts
  int64_t detail_lines = 0;            // in the file, good or bad
  std::vector<DebitReturnLine> lines;  // the good ones
};
// Parses the file and checks it on its own: every field, a success debits the whole amount and a
// failure nothing, serials unique, the header's count and total equal to the details. Every
// problem is appended to `errors`.
DebitReturn ParseDebitReturn(std::string_view utf8, std::vector<FileError>* errors);

// ---- Check file ----

struct CheckLine {
  int64_t line = 0;
  std::string ref_no;  // our receipt number (may be empty)
  std::string customer_no;
  Date clearing_date;
  Date bank_date;
  std::string bank_time;
  std::string serial;  // the bank's serial: the key
  std::string bank_account;
  bool reversal = false;  // type 02
  Money amount;
  std::string original_serial;  // reversals: the serial of the payment reversed
  std::string period;
};
struct CheckFile {
  std::string channel_code;
  Date clearing_date;
  int64_t count = 0;
  Money net_total;
  std::vector<CheckLine> lines;
};
// Parses the file and checks it on its own: 14 fields a line, dates, types, amounts in fen,
// each line's clearing date the header's, serials unique per type, each reversal naming a
// payment of the file, the header's count and net total equal to the details.
CheckFile ParseCheckFile(std::string_view utf8, std::vector<FileError>* errors);

}  // namespace gridmis::accounts
