// Reading the first worksheet of an xlsx workbook (Office Open XML SpreadsheetML): the ZIP
// container (stored or deflated entries, zlib), the shared strings and the sheet XML (expat),
// streamed row by row. Cell values come as the workbook stores them: text, or a number's
// decimal text (dates are day serials; see `date1904`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gridmis::reading {

struct SheetCell {
  std::string text;
  bool numeric = false;  // a number cell (t="n" or no type): `text` is its decimal text
};

struct SheetRow {
  int64_t row = 0;               // 1-based row number of the sheet
  std::vector<SheetCell> cells;  // by column, A = 0; missing cells are empty
};

struct XlsxLimits {
  int64_t max_entry_bytes = int64_t{1} << 30;  // an uncompressed part
  int64_t max_shared_strings_bytes = int64_t{256} << 20;
};

// Calls `fn` for each non-empty row of the workbook's first worksheet, in order; stops at the
// first non-OK status `fn` returns and returns it. InvalidArgument for a file that is not an
// xlsx workbook (naming what is wrong). `date1904` (optional) receives the workbook's date
// system.
Status ReadFirstSheet(std::string_view file, const std::function<Status(const SheetRow&)>& fn,
                      bool* date1904 = nullptr, const XlsxLimits& limits = {});

}  // namespace gridmis::reading
