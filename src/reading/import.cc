#include "reading/import.h"

#include <iconv.h>

#include <cerrno>
#include <iterator>
#include <map>
#include <set>

#include "core/decimal.h"
#include "reading/xlsx.h"

namespace gridmis::reading {

namespace {

constexpr size_t kMaxLineBytes = 64 * 1024;

enum class Column { kPoint, kReadDate, kPeriod, kRegister };

struct ColumnDef {
  Column kind;
  std::string reg;  // for kRegister
};

const std::map<std::string, ColumnDef>& Aliases() {
  static const std::map<std::string, ColumnDef> kAliases = [] {
    std::map<std::string, ColumnDef> m;
    for (const char* a : {"point_code", "metering_point_code", "metering_point", "计量点编号",
                          "计量点编码", "计量点代码", "计量点"}) {
      m[a] = {Column::kPoint, ""};
    }
    for (const char* a : {"read_date", "date", "抄表日期", "抄表日"})
      m[a] = {Column::kReadDate, ""};
    for (const char* a : {"period", "电费年月", "年月"}) m[a] = {Column::kPeriod, ""};
    const std::vector<std::pair<const char*, std::vector<const char*>>> regs = {
        {"total", {"total", "总", "有功总", "正向有功总", "正向有功"}},
        {"sharp", {"sharp", "尖", "尖峰", "正向有功尖"}},
        {"peak", {"peak", "峰", "正向有功峰"}},
        {"flat", {"flat", "平", "正向有功平"}},
        {"valley", {"valley", "谷", "正向有功谷"}},
        {"export", {"export", "反向有功", "反向有功总"}},
        {"reactive_import", {"reactive_import", "正向无功", "正向无功总", "无功总"}},
        {"reactive_export", {"reactive_export", "反向无功", "反向无功总"}},
        {"max_demand", {"max_demand", "最大需量", "需量"}},
    };
    for (const auto& [reg, names] : regs) {
      for (const char* a : names) m[a] = {Column::kRegister, reg};
    }
    return m;
  }();
  return kAliases;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

// Header text → alias key: ASCII lower case, no spaces, without a unit or 示数 suffix.
std::string NormalizeHeader(std::string_view text) {
  std::string s;
  for (char ch : Trim(text)) {
    if (ch == ' ') continue;
    s += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  for (std::string_view suffix :
       {"(kwh)", "（kwh）", "(kw)", "（kw）", "(kvarh)", "（kvarh）", "示数", "读数"}) {
    if (s.size() > suffix.size() &&
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      s.resize(s.size() - suffix.size());
    }
  }
  return s;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (n < 0 || (n == 1 && c < 0xc2)) return false;
    if (n > 0 && i + static_cast<size_t>(n) >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xc0) != 0x80) return false;
    }
    if (n == 2) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) return false;
    } else if (n == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xf0 && c1 < 0x90) || c > 0xf4 || (c == 0xf4 && c1 >= 0x90)) return false;
    }
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

bool IsAscii(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

// GB18030 (a superset of GBK and GB2312) to UTF-8.
class GbDecoder {
 public:
  GbDecoder() : cd_(iconv_open("UTF-8", "GB18030")) {}
  ~GbDecoder() {
    if (ok()) iconv_close(cd_);
  }
  GbDecoder(const GbDecoder&) = delete;
  GbDecoder& operator=(const GbDecoder&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

  bool Convert(std::string_view in, std::string* out) {
    out->clear();
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    std::string buf(in.size() * 2 + 16, '\0');
    char* src = const_cast<char*>(in.data());
    size_t src_left = in.size();
    char* dst = buf.data();
    size_t dst_left = buf.size();
    while (src_left > 0) {
      size_t rc = iconv(cd_, &src, &src_left, &dst, &dst_left);
      if (rc == static_cast<size_t>(-1)) {
        if (errno == E2BIG) {
          size_t used = buf.size() - dst_left;
          buf.resize(buf.size() * 2);
          dst = buf.data() + used;
          dst_left = buf.size() - used;
          continue;
        }
        return false;
      }
    }
    out->assign(buf.data(), buf.size() - dst_left);
    return true;
  }

 private:
  iconv_t cd_;
};

// Splits a CSV record (RFC 4180: commas, double quotes, "" inside quotes).
bool SplitCsv(std::string_view record, std::vector<std::string>* cells, std::string* error) {
  cells->clear();
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < record.size(); ++i) {
    char ch = record[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < record.size() && record[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch == ',') {
      cells->push_back(was_quoted ? cell : Trim(cell));
      cell.clear();
      was_quoted = false;
    } else if (ch == '"' && Trim(cell).empty()) {
      quoted = true;
      was_quoted = true;
      cell.clear();
    } else if (ch == '"') {
      *error =
          "a double quote inside an unquoted cell (cell " + std::to_string(cells->size() + 1) + ")";
      return false;
    } else {
      cell += ch;
    }
  }
  if (quoted) {
    *error = "a quoted cell is not closed";
    return false;
  }
  cells->push_back(was_quoted ? cell : Trim(cell));
  return true;
}

// Whether a CSV record is still inside a quoted cell at its end.
bool OpenQuote(std::string_view record) {
  bool quoted = false;
  for (char ch : record) {
    if (ch == '"') quoted = !quoted;
  }
  return quoted;
}

struct Cell {
  std::string text;
  bool numeric = false;  // an xlsx number cell
};

Result<Date> ParseDateText(std::string_view text) {
  std::string s = Trim(text);
  auto bad = [&] {
    return InvalidArgument("read date '" + s.substr(0, 30) +
                           "' is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)");
  };
  int y = 0, m = 0, d = 0;
  if (s.size() == 8 && s.find_first_not_of("0123456789") == std::string::npos) {
    y = std::stoi(s.substr(0, 4));
    m = std::stoi(s.substr(4, 2));
    d = std::stoi(s.substr(6, 2));
  } else {
    // YYYY-M-D or YYYY/M/D, with an optional time after a space or 'T' (spreadsheets add it).
    size_t cut = s.find_first_of(" T");
    std::string date = cut == std::string::npos ? s : s.substr(0, cut);
    char sep = date.size() > 4 ? date[4] : '\0';
    if (sep != '-' && sep != '/' && sep != '.') return bad();
    size_t p1 = date.find(sep), p2 = date.find(sep, p1 + 1);
    if (p2 == std::string::npos || date.find(sep, p2 + 1) != std::string::npos) return bad();
    std::string ys = date.substr(0, p1), ms = date.substr(p1 + 1, p2 - p1 - 1),
                ds = date.substr(p2 + 1);
    for (const auto* part : {&ys, &ms, &ds}) {
      if (part->empty() || part->size() > 4 ||
          part->find_first_not_of("0123456789") != std::string::npos) {
        return bad();
      }
    }
    if (ys.size() != 4 || ms.size() > 2 || ds.size() > 2) return bad();
    y = std::stoi(ys);
    m = std::stoi(ms);
    d = std::stoi(ds);
  }
  if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return bad();
  return Date{y, m, d};
}

Result<YearMonth> ParsePeriodText(std::string_view text) {
  std::string s = Trim(text);
  auto bad = [&] {
    return InvalidArgument("period '" + s.substr(0, 30) + "' is not a month (YYYY-MM)");
  };
  int y = 0, m = 0;
  if (s.size() == 6 && s.find_first_not_of("0123456789") == std::string::npos) {
    y = std::stoi(s.substr(0, 4));
    m = std::stoi(s.substr(4, 2));
  } else if ((s.size() == 7 || s.size() == 6) && (s[4] == '-' || s[4] == '/') &&
             s.substr(0, 4).find_first_not_of("0123456789") == std::string::npos &&
             s.substr(5).find_first_not_of("0123456789") == std::string::npos) {
    y = std::stoi(s.substr(0, 4));
    m = std::stoi(s.substr(5));
  } else {
    return bad();
  }
  if (y < 1900 || y > 9999 || m < 1 || m > 12) return bad();
  return YearMonth{y, m};
}

// Maps the header to columns and the data lines to reads.
class LineReader {
 public:
  LineReader(const ImportedReadFn& on_read, const LineErrorFn& on_error, bool date1904)
      : on_read_(on_read), on_error_(on_error), date1904_(date1904) {}

  bool has_header() const { return has_header_; }

  // False when the header cannot be used (reported as an error of `line`).
  bool Header(int64_t line, const std::vector<Cell>& cells) {
    has_header_ = true;
    std::set<std::string> seen;
    bool point = false, date = false, reg = false;
    std::string problems;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string raw = Trim(cells[i].text);
      if (raw.empty()) {
        columns_.push_back(std::nullopt);
        continue;
      }
      auto it = Aliases().find(NormalizeHeader(raw));
      if (it == Aliases().end()) {
        problems += (problems.empty() ? "" : "; ") + std::string("unknown column '") +
                    raw.substr(0, 40) + "'";
        columns_.push_back(std::nullopt);
        continue;
      }
      std::string key = it->second.kind == Column::kRegister ? it->second.reg
                                                             : std::to_string(int(it->second.kind));
      if (!seen.insert(key).second) {
        problems += (problems.empty() ? "" : "; ") + std::string("column '") + raw.substr(0, 40) +
                    "' repeats an earlier column";
      }
      point |= it->second.kind == Column::kPoint;
      date |= it->second.kind == Column::kReadDate;
      reg |= it->second.kind == Column::kRegister;
      columns_.push_back(it->second);
    }
    if (!point) problems += (problems.empty() ? "" : "; ") + std::string("no point_code column");
    if (!date) problems += (problems.empty() ? "" : "; ") + std::string("no read_date column");
    if (!reg) problems += (problems.empty() ? "" : "; ") + std::string("no register column");
    if (!problems.empty()) {
      on_error_(line, "header: " + problems +
                          " (columns: point_code, read_date, period, total, sharp, peak, flat, "
                          "valley, export, reactive_import, reactive_export, max_demand, or "
                          "计量点编号, 抄表日期, 电费年月, 总, 尖, 峰, 平, 谷, ...)");
      return false;
    }
    return true;
  }

  Status Row(int64_t line, const std::vector<Cell>& cells) {
    bool empty = true;
    for (const auto& c : cells) {
      if (!Trim(c.text).empty()) empty = false;
    }
    if (empty) return Status::Ok();
    if (cells.size() > columns_.size()) {
      for (size_t i = columns_.size(); i < cells.size(); ++i) {
        if (!Trim(cells[i].text).empty()) {
          on_error_(line, "has " + std::to_string(cells.size()) + " cells but the header has " +
                              std::to_string(columns_.size()) + " columns");
          return Status::Ok();
        }
      }
    }
    ImportedRead read;
    read.line = line;
    std::string problems;
    auto problem = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
    bool have_date = false;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i]) continue;
      const Cell empty_cell;
      const Cell& cell = i < cells.size() ? cells[i] : empty_cell;
      std::string text = Trim(cell.text);
      switch (columns_[i]->kind) {
        case Column::kPoint:
          if (text.empty()) {
            problem("the metering point code is empty");
          } else if (text.size() > 32) {
            problem("metering point code '" + text.substr(0, 40) + "…' is too long");
          } else {
            read.point_code = text;
          }
          break;
        case Column::kReadDate: {
          if (text.empty()) {
            problem("the read date is empty");
            break;
          }
          auto d = cell.numeric ? ExcelSerialDate(text, date1904_) : ParseDateText(text);
          if (!d.ok()) {
            problem(d.status().message());
          } else {
            read.read_date = *d;
            have_date = true;
          }
          break;
        }
        case Column::kPeriod: {
          if (text.empty()) break;
          auto p = ParsePeriodText(text);
          if (!p.ok()) {
            problem(p.status().message());
          } else {
            read.period = *p;
          }
          break;
        }
        case Column::kRegister: {
          if (text.empty()) break;
          const std::string& reg = columns_[i]->reg;
          auto e =
              cell.numeric ? ParseImportedKwh(text) : Energy::ParseKwh(text, "register " + reg);
          if (!e.ok() && cell.numeric) {
            problem(reg + " " + e.status().message());
          } else if (!e.ok()) {
            problem(reg + " '" + text.substr(0, 30) +
                    "' is not a reading in kWh with at most 4 decimals");
          } else if (e->dwh() < 0) {
            problem(reg + " must not be negative");
          } else {
            read.registers[reg] = *e;
          }
          break;
        }
      }
    }
    if (problems.empty() && read.registers.empty()) problem("no register reading");
    if (!problems.empty() || !have_date) {
      on_error_(line, problems);
      return Status::Ok();
    }
    return on_read_(std::move(read));
  }

 private:
  const ImportedReadFn& on_read_;
  const LineErrorFn& on_error_;
  bool date1904_;
  bool has_header_ = false;
  std::vector<std::optional<ColumnDef>> columns_;
};

}  // namespace

Result<Date> ExcelSerialDate(std::string_view serial, bool date1904) {
  std::string s = Trim(serial);
  auto bad = [&] { return InvalidArgument("read date '" + s.substr(0, 30) + "' is not a date"); };
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot);
  if (whole.empty() || whole.size() > 7 ||
      whole.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  if (dot != std::string::npos &&
      s.substr(dot + 1).find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  int64_t n = std::stoll(whole);
  if (n < 1 || n > 2'958'465) return bad();
  // 1900 system: serial 25569 is 1970-01-01 (Excel counts a 29 February 1900 that never was).
  int64_t days = date1904 ? n - 24107 : n - 25569;
  if (!date1904 && n < 61) ++days;
  return Date::FromDays(days);
}

Result<Energy> ParseImportedKwh(std::string_view text) {
  std::string s = Trim(text);
  auto bad = [&] { return InvalidArgument("'" + s.substr(0, 30) + "' is not a number of kWh"); };
  if (s.empty()) return bad();
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    ++i;
  }
  std::string digits;
  int exponent = 0;  // value = digits × 10^exponent
  bool seen_dot = false, any = false;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      if (seen_dot) return bad();
      seen_dot = true;
    } else if (s[i] >= '0' && s[i] <= '9') {
      any = true;
      if (!(digits.empty() && s[i] == '0')) digits += s[i];
      if (seen_dot) --exponent;
    } else {
      return bad();
    }
  }
  if (!any) return bad();
  if (i < s.size()) {
    std::string e = s.substr(i + 1);
    if (e.empty() || e.size() > 4) return bad();
    size_t k = (e[0] == '-' || e[0] == '+') ? 1 : 0;
    if (k == e.size() || e.substr(k).find_first_not_of("0123456789") != std::string::npos) {
      return bad();
    }
    exponent += std::stoi(e);
  }
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  if (digits.empty()) return Energy::FromDwh(0);
  if (digits.size() > 18) {
    // Keep 17 significant digits (a double's precision), rounding the rest away.
    exponent += static_cast<int>(digits.size()) - 17;
    bool up = digits[17] >= '5';
    digits.resize(17);
    if (up) {
      int k = 16;
      while (k >= 0 && digits[static_cast<size_t>(k)] == '9')
        digits[static_cast<size_t>(k--)] = '0';
      if (k < 0) {
        digits.insert(digits.begin(), '1');
      } else {
        ++digits[static_cast<size_t>(k)];
      }
    }
  }
  int128 mantissa = 0;
  for (char ch : digits) mantissa = mantissa * 10 + (ch - '0');
  int scale = exponent + Energy::kScale;  // dWh = mantissa × 10^scale
  int128 dwh = 0;
  if (scale >= 0) {
    if (scale > 18) return bad();
    dwh = mantissa;
    for (int k = 0; k < scale; ++k) dwh *= 10;
  } else {
    // More than 4 decimals: only the binary-float noise of a number that had at most 4 is
    // rounded away. A double carries 15-17 significant digits, so the digits past the 4th
    // decimal must be a run of 0s or 9s through the 15th significant digit (660.0000000000001,
    // 1234.5599999999999); anything else is a value with more decimals than a register has.
    auto decimals = [&] {
      return InvalidArgument("'" + s.substr(0, 30) + "' has more than 4 decimals");
    };
    size_t past = static_cast<size_t>(-scale);  // digits past the 4th decimal
    if (digits.size() < 15 || past > digits.size()) return decimals();
    size_t first = digits.size() - past, end = first;
    char run = digits[first];
    if (run != '0' && run != '9') return decimals();
    while (end < digits.size() && digits[end] == run) ++end;
    if (end < 15) return decimals();
    int128 div = 1;
    for (int k = 0; k < -scale; ++k) div *= 10;
    auto q = DivRoundHalfUp(mantissa, div);
    if (!q.ok()) return bad();
    dwh = *q;
  }
  if (dwh > int128{1'000'000'000'000'000'000}) return bad();
  int64_t v = static_cast<int64_t>(dwh);
  return Energy::FromDwh(negative ? -v : v);
}

Status ReadCsvReads(std::istream& in, const std::string& charset, std::string* charset_used,
                    const ImportedReadFn& on_read, const LineErrorFn& on_error) {
  enum class Mode { kDetect, kUtf8, kGb };
  Mode mode;
  std::string lower;
  for (char ch : charset) lower += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
  if (lower.empty()) {
    mode = Mode::kDetect;
  } else if (lower == "utf-8" || lower == "utf8") {
    mode = Mode::kUtf8;
  } else if (lower == "gbk" || lower == "gb2312" || lower == "gb18030" || lower == "cp936") {
    mode = Mode::kGb;
  } else {
    return InvalidArgument("charset must be utf-8 or gbk (got '" + charset.substr(0, 20) + "')",
                           "charset");
  }
  GbDecoder gb;
  if (!gb.ok()) return Internal("iconv cannot convert GB18030 on this system");
  LineReader reader(on_read, on_error, false);
  std::string physical, record, decoded;
  std::vector<std::string> fields;
  std::vector<Cell> cells;
  int64_t line = 0;
  bool header_failed = false;
  auto set_used = [&] {
    if (charset_used) *charset_used = mode == Mode::kGb ? "gbk" : "utf-8";
  };
  set_used();
  while (std::getline(in, physical)) {
    ++line;
    int64_t first_line = line;
    if (line == 1 && physical.rfind("\xEF\xBB\xBF", 0) == 0) {
      physical.erase(0, 3);
      if (mode == Mode::kDetect) mode = Mode::kUtf8;
    }
    record = physical;
    bool too_long = false;
    // A quoted cell may hold a line break: the record goes on.
    while (OpenQuote(record) && !too_long && std::getline(in, physical)) {
      ++line;
      record += "\n" + physical;
      too_long = record.size() > kMaxLineBytes;
    }
    if (!record.empty() && record.back() == '\r') record.pop_back();
    if (header_failed) continue;
    if (record.size() > kMaxLineBytes || too_long) {
      on_error(first_line, "longer than " + std::to_string(kMaxLineBytes) + " bytes");
      if (!reader.has_header()) header_failed = true;
      continue;
    }
    if (!IsAscii(record) && mode == Mode::kDetect) {
      mode = IsValidUtf8(record) ? Mode::kUtf8 : Mode::kGb;
      set_used();
    }
    const std::string* text = &record;
    if (mode == Mode::kGb && !IsAscii(record)) {
      if (!gb.Convert(record, &decoded)) {
        on_error(first_line, "is not valid GBK text");
        if (!reader.has_header()) header_failed = true;
        continue;
      }
      text = &decoded;
    } else if (!IsValidUtf8(record)) {
      on_error(first_line, "is not valid UTF-8 text (save the file as UTF-8 or GBK)");
      if (!reader.has_header()) header_failed = true;
      continue;
    }
    std::string error;
    if (!SplitCsv(*text, &fields, &error)) {
      on_error(first_line, error);
      if (!reader.has_header()) header_failed = true;
      continue;
    }
    cells.clear();
    for (auto& f : fields) cells.push_back(Cell{std::move(f), false});
    if (!reader.has_header()) {
      bool blank = true;
      for (const auto& c : cells) {
        if (!c.text.empty()) blank = false;
      }
      if (blank) continue;
      if (!reader.Header(first_line, cells)) header_failed = true;
      continue;
    }
    RETURN_IF_ERROR(reader.Row(first_line, cells));
  }
  if (!reader.has_header() && !header_failed) on_error(1, "the file is empty: no header line");
  return Status::Ok();
}

Status ReadXlsxReads(std::istream& in, const ImportedReadFn& on_read, const LineErrorFn& on_error) {
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool date1904 = false;  // set by ReadFirstSheet before the first row
  std::unique_ptr<LineReader> reader;
  bool header_failed = false;
  std::vector<Cell> cells;
  Status st = ReadFirstSheet(
      file,
      [&](const SheetRow& row) -> Status {
        if (!reader) reader = std::make_unique<LineReader>(on_read, on_error, date1904);
        if (header_failed) return Status::Ok();
        cells.clear();
        for (const auto& c : row.cells) cells.push_back(Cell{c.text, c.numeric});
        if (!reader->has_header()) {
          if (!reader->Header(row.row, cells)) header_failed = true;
          return Status::Ok();
        }
        return reader->Row(row.row, cells);
      },
      &date1904);
  RETURN_IF_ERROR(st);
  if (!reader) on_error(1, "the first worksheet is empty: no header row");
  return Status::Ok();
}

}  // namespace gridmis::reading
