// Reading files of reads (抄表数据导入): CSV (UTF-8 or GBK) and xlsx, one read per line.
//
// The first line names the columns: the metering point code, the read date, optionally the
// period, and one column per register, in English or Chinese:
//   point_code (计量点编号), read_date (抄表日期), period (电费年月), total (总), sharp (尖),
//   peak (峰), flat (平), valley (谷), export (反向有功), reactive_import (正向无功),
//   reactive_export (反向无功), max_demand (最大需量)
// Values are kWh with at most four decimals; an empty cell means the register is not given.
// Dates are YYYY-MM-DD (also YYYY/MM/DD, YYYYMMDD, and date cells in xlsx); periods YYYY-MM.
//
// Streaming: rows are handed over one at a time; memory does not grow with the file (xlsx needs
// the whole ZIP in memory, its sheet is inflated and parsed in chunks).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "reading/review.h"

namespace gridmis::reading {

struct ImportedRead {
  int64_t line = 0;  // 1-based line of the file (row of the sheet)
  std::string point_code;
  Date read_date;
  std::optional<YearMonth> period;
  Registers registers;
};

// Called for each well-formed line; a non-OK status stops the reading and is returned.
using ImportedReadFn = std::function<Status(ImportedRead&&)>;
// Called for each bad line with its number and what is wrong; reading goes on.
using LineErrorFn = std::function<void(int64_t line, const std::string& message)>;

// `charset`: "utf-8", "gbk", "gb2312", "gb18030" or "" to detect (a UTF-8 byte-order mark or
// valid UTF-8 means UTF-8, otherwise GBK, read as GB18030, its superset). `charset_used`
// receives "utf-8" or "gbk". A header that cannot be used is reported as an error of line 1 and
// nothing else is read; InvalidArgument only for an unknown charset.
Status ReadCsvReads(std::istream& in, const std::string& charset, std::string* charset_used,
                    const ImportedReadFn& on_read, const LineErrorFn& on_error);

// The first worksheet of an xlsx workbook. InvalidArgument when the file is not a workbook.
Status ReadXlsxReads(std::istream& in, const ImportedReadFn& on_read, const LineErrorFn& on_error);

// The date of an Excel day serial ("46106" → 2026-03-25; 1904 date system when `date1904`);
// a fraction (a time of day) is dropped.
Result<Date> ExcelSerialDate(std::string_view serial, bool date1904);

// "1234.56" kWh, also a spreadsheet's binary-float text ("1234.5599999999999" → 1234.56,
// "1.23456E5"): at most 4 decimals; digits past the 4th are accepted (and rounded half up) only
// as float noise, a run of 0s or 9s through the 15th significant digit.
Result<Energy> ParseImportedKwh(std::string_view text);

}  // namespace gridmis::reading
