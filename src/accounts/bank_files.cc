#include "accounts/bank_files.h"

#include <iconv.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "core/decimal.h"

namespace gridmis::accounts {

namespace {

bool IsValidUtf8(std::string_view s, size_t* bad_at) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      *bad_at = i;
      return false;
    }
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        *bad_at = i;
        return false;
      }
    }
    i += n;
  }
  return true;
}

int64_t LineOf(std::string_view s, size_t offset) {
  int64_t line = 1;
  for (size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') ++line;
  }
  return line;
}

Result<std::string> Convert(std::string_view in, const char* from, const char* to,
                            std::string_view what) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1))
    return Internal(std::string("iconv cannot convert ") + from);
  std::string out;
  out.resize(in.size() * 2 + 16);
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  while (src_left > 0) {
    size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
    if (r == static_cast<size_t>(-1)) {
      if (errno == E2BIG) {
        size_t used = static_cast<size_t>(dst - out.data());
        out.resize(out.size() * 2);
        dst = out.data() + used;
        dst_left = out.size() - used;
        continue;
      }
      size_t at = in.size() - src_left;
      iconv_close(cd);
      return InvalidArgument(std::string(what) + " at line " + std::to_string(LineOf(in, at)) +
                                 " (byte " + std::to_string(at + 1) + ")",
                             "content");
    }
  }
  out.resize(static_cast<size_t>(dst - out.data()));
  iconv_close(cd);
  return out;
}

std::vector<std::string> Split(std::string_view line, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = line.find(sep, start);
    if (p == std::string_view::npos) {
      out.emplace_back(line.substr(start));
      break;
    }
    out.emplace_back(line.substr(start, p - start));
    start = p + 1;
  }
  for (auto& f : out) {
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.pop_back();
    size_t i = 0;
    while (i < f.size() && (f[i] == ' ' || f[i] == '\t')) ++i;
    f.erase(0, i);
  }
  return out;
}

// Non-blank lines with their 1-based numbers.
std::vector<std::pair<int64_t, std::string>> Lines(std::string_view text) {
  std::vector<std::pair<int64_t, std::string>> out;
  int64_t n = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t p = text.find('\n', start);
    std::string_view line =
        text.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start);
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (!blank) out.emplace_back(n, std::string(line));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<Date> CompactDate(std::string_view s) {
  if (s.size() != 8 || !AllDigits(s)) return std::nullopt;
  std::string iso = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
                    std::string(s.substr(6, 2));
  auto d = Date::Parse(iso);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::string Quote(std::string_view s) {
  std::string v(s.substr(0, 40));
  return "'" + v + "'";
}

// Yuan with at most two decimals, not negative.
std::optional<Money> YuanField(std::string_view s) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return std::nullopt;
  auto m = Money::ParseYuan(s);
  if (!m.ok()) return std::nullopt;
  return *m;
}

std::optional<int64_t> FenField(std::string_view s) {
  if (!AllDigits(s) || s.size() > 15) return std::nullopt;
  return std::stoll(std::string(s));
}

std::string Clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '|' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Result<std::string> ToUtf8(std::string_view bytes, std::string_view encoding) {
  if (encoding == "utf8") {
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
    size_t bad = 0;
    if (!IsValidUtf8(bytes, &bad)) {
      return InvalidArgument("the file is not valid UTF-8 at line " +
                                 std::to_string(LineOf(bytes, bad)) + " (byte " +
                                 std::to_string(bad + 1) + ")",
                             "content");
    }
    return std::string(bytes);
  }
  if (encoding == "gbk") return Convert(bytes, "GB18030", "UTF-8", "the file is not valid GBK");
  return InvalidArgument("unknown file encoding " + Quote(encoding) + " (utf8 or gbk)", "encoding");
}

Result<std::string> FromUtf8(std::string_view utf8, std::string_view encoding) {
  if (encoding == "utf8") return std::string(utf8);
  if (encoding == "gbk") {
    return Convert(utf8, "UTF-8", "GBK", "a character cannot be written in GBK");
  }
  return InvalidArgument("unknown file encoding " + Quote(encoding) + " (utf8 or gbk)", "encoding");
}

Result<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pos = 0;
  for (char c : text) {
    ++pos;
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    int v = value(c);
    if (v < 0) {
      return InvalidArgument("content_base64 is not base64 (character " + std::to_string(pos) + ")",
                             "content_base64");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string EncodeBase64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string DescribeFileErrors(const std::vector<FileError>& errors, size_t max) {
  std::string s;
  for (size_t i = 0; i < errors.size() && i < max; ++i) {
    if (i) s += "; ";
    s += errors[i].line > 0 ? "line " + std::to_string(errors[i].line) + ": " : "";
    s += errors[i].reason;
  }
  if (errors.size() > max) s += "; and " + std::to_string(errors.size() - max) + " more";
  return s;
}

std::string FormatDebitRequest(std::string_view batch_no, Date export_date,
                               const std::vector<DebitRequestLine>& lines) {
  Money total;
  for (const auto& l : lines) total += l.amount;
  char month[8];
  std::snprintf(month, sizeof month, "%04d%02d", export_date.year, export_date.month);
  std::string out = std::string(month) + "|" + std::to_string(lines.size()) + "|" +
                    total.ToYuanString() + "|" + Clean(batch_no) + "\n";
  for (const auto& l : lines) {
    char period[8];
    std::snprintf(period, sizeof period, "%04d%02d", l.period.year, l.period.month);
    out += Clean(l.customer_no) + "|" + Clean(l.bank_account_no) + "|" + l.amount.ToYuanString() +
           "|" + period + "|" + Clean(l.department_code) + "|" + Clean(l.serial) + "|" +
           Clean(l.account_name) + "\n";
  }
  return out;
}

DebitReturn ParseDebitReturn(std::string_view text, std::vector<FileError>* errors) {
  DebitReturn out;
  auto lines = Lines(text);
  if (lines.empty()) {
    errors->push_back({0, "the file is empty: a header line is required"});
    return out;
  }
  bool header_ok = true;
  {
    const auto& [n, line] = lines[0];
    auto f = Split(line, '|');
    if (f.size() != 3) {
      errors->push_back({n, "the header must have 3 fields (batch no | count | total), found " +
                                std::to_string(f.size())});
      header_ok = false;
    } else {
      out.batch_no = f[0];
      if (out.batch_no.empty()) errors->push_back({n, "the header's batch number is empty"});
      if (!AllDigits(f[1]) || f[1].size() > 9) {
        errors->push_back({n, "the header's record count " + Quote(f[1]) + " is not a number"});
        header_ok = false;
      } else {
        out.count = std::stoll(f[1]);
      }
      auto total = YuanField(f[2]);
      if (!total) {
        errors->push_back(
            {n, "the header's total " + Quote(f[2]) + " is not an amount in yuan (e.g. 123.45)"});
        header_ok = false;
      } else {
        out.total = *total;
      }
    }
  }
  std::map<std::string, int64_t> seen;
  Money debited_sum;
  out.detail_lines = static_cast<int64_t>(lines.size()) - 1;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& [n, line] = lines[i];
    auto f = Split(line, '|');
    if (f.size() != 8) {
      errors->push_back({n, "a detail line must have 8 fields, found " + std::to_string(f.size())});
      continue;
    }
    DebitReturnLine l;
    l.line = n;
    size_t before = errors->size();
    l.serial = f[0];
    if (l.serial.empty()) errors->push_back({n, "the serial (账务流水号) is empty"});
    l.customer_no = f[1];
    if (l.customer_no.empty()) errors->push_back({n, "the customer number is empty"});
    auto amount = YuanField(f[2]);
    if (!amount) {
      errors->push_back({n, "amount " + Quote(f[2]) + " is not an amount in yuan"});
    } else {
      l.amount = *amount;
    }
    if (f[3] != "1" && f[3] != "0") {
      errors->push_back({n, "the success flag " + Quote(f[3]) + " must be 1 or 0"});
    }
    l.success = f[3] == "1";
    auto debited = YuanField(f[4]);
    if (!debited) {
      errors->push_back({n, "debited amount " + Quote(f[4]) + " is not an amount in yuan"});
    } else {
      l.debited = *debited;
    }
    if (amount && debited && (f[3] == "1" || f[3] == "0")) {
      if (l.success && l.debited != l.amount) {
        errors->push_back({n, "a successful debit must take the whole amount " +
                                  l.amount.ToYuanString() + ", not " + l.debited.ToYuanString()});
      }
      if (!l.success && l.debited != Money()) {
        errors->push_back(
            {n, "a failed debit must have debited 0.00, not " + l.debited.ToYuanString()});
      }
    }
    l.bank_serial = f[5];
    if (l.success && l.bank_serial.empty()) {
      errors->push_back({n, "a successful debit needs the bank's serial"});
    }
    auto date = CompactDate(f[6]);
    if (!date) {
      errors->push_back({n, "debit date " + Quote(f[6]) + " is not a date YYYYMMDD"});
    } else {
      l.debit_date = *date;
    }
    l.reason = f[7];
    if (!l.serial.empty()) {
      auto [it, fresh] = seen.emplace(l.serial, n);
      if (!fresh) {
        errors->push_back({n, "serial " + Quote(l.serial) + " already appears on line " +
                                  std::to_string(it->second)});
      }
    }
    if (errors->size() == before) {
      debited_sum += l.debited;
      out.lines.push_back(std::move(l));
    }
  }
  if (header_ok) {
    int64_t details = static_cast<int64_t>(lines.size()) - 1;
    if (out.count != details) {
      errors->push_back({lines[0].first, "the header says " + std::to_string(out.count) +
                                             " records but the file has " +
                                             std::to_string(details)});
    }
    if (static_cast<int64_t>(out.lines.size()) == details && out.total != debited_sum) {
      errors->push_back({lines[0].first, "the header's total " + out.total.ToYuanString() +
                                             " is not the sum of the debited amounts " +
                                             debited_sum.ToYuanString()});
    }
  }
  return out;
}

CheckFile ParseCheckFile(std::string_view text, std::vector<FileError>* errors) {
  CheckFile out;
  auto lines = Lines(text);
  if (lines.empty()) {
    errors->push_back({0, "the file is empty: a header line is required"});
    return out;
  }
  bool header_ok = true;
  {
    const auto& [n, line] = lines[0];
    auto f = Split(line, '|');
    if (f.size() != 4) {
      errors->push_back({n,
                         "the header must have 4 fields (channel | clearing date | count | "
                         "net total in fen), found " +
                             std::to_string(f.size())});
      header_ok = false;
    } else {
      out.channel_code = f[0];
      auto d = CompactDate(f[1]);
      if (!d) {
        errors->push_back(
            {n, "the header's clearing date " + Quote(f[1]) + " is not a date YYYYMMDD"});
        header_ok = false;
      } else {
        out.clearing_date = *d;
      }
      if (!AllDigits(f[2]) || f[2].size() > 9) {
        errors->push_back({n, "the header's count " + Quote(f[2]) + " is not a number"});
        header_ok = false;
      } else {
        out.count = std::stoll(f[2]);
      }
      std::string_view total = f[3];
      bool negative = !total.empty() && total[0] == '-';
      if (negative) total.remove_prefix(1);
      auto fen = FenField(total);
      if (!fen) {
        errors->push_back(
            {n, "the header's net total " + Quote(f[3]) + " is not a whole number of fen"});
        header_ok = false;
      } else {
        out.net_total = Money::FromFen(negative ? -*fen : *fen);
      }
    }
  }
  std::map<std::string, int64_t> pays, reversals;
  Money net;
  int64_t parsed = 0;
  std::vector<CheckLine> candidates;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& [n, line] = lines[i];
    auto f = Split(line, '|');
    if (f.size() != 14) {
      errors->push_back(
          {n, "a detail line must have 14 fields, found " + std::to_string(f.size())});
      continue;
    }
    CheckLine l;
    l.line = n;
    size_t before = errors->size();
    l.ref_no = f[0];
    l.customer_no = f[1];
    if (l.customer_no.empty()) errors->push_back({n, "the customer number is empty"});
    auto clearing = CompactDate(f[2]);
    if (!clearing) {
      errors->push_back({n, "clearing date " + Quote(f[2]) + " is not a date YYYYMMDD"});
    } else {
      l.clearing_date = *clearing;
      if (header_ok && l.clearing_date != out.clearing_date) {
        errors->push_back({n, "clearing date " + l.clearing_date.ToString() +
                                  " is not the header's " + out.clearing_date.ToString()});
      }
    }
    auto bank_date = CompactDate(f[3]);
    if (!bank_date) {
      errors->push_back({n, "bank date " + Quote(f[3]) + " is not a date YYYYMMDD"});
    } else {
      l.bank_date = *bank_date;
    }
    l.bank_time = f[4];
    if (!l.bank_time.empty() && (l.bank_time.size() != 6 || !AllDigits(l.bank_time))) {
      errors->push_back({n, "bank time " + Quote(f[4]) + " is not HHMMSS"});
    }
    l.serial = f[5];
    if (l.serial.empty()) errors->push_back({n, "the bank serial is empty"});
    l.bank_account = f[6];
    if (f[7] != "01" && f[7] != "02") {
      errors->push_back({n, "transaction type " + Quote(f[7]) + " must be 01 (缴费) or 02 (冲正)"});
    }
    l.reversal = f[7] == "02";
    auto fen = FenField(f[8]);
    if (!fen || *fen == 0) {
      errors->push_back({n, "amount " + Quote(f[8]) + " is not a whole number of fen above 0"});
    } else {
      l.amount = Money::FromFen(*fen);
    }
    l.original_serial = f[9];
    if (l.reversal && l.original_serial.empty()) {
      errors->push_back({n, "a reversal (02) must name the serial of the payment it reverses"});
    }
    if (!l.reversal && !l.original_serial.empty() && f[7] == "01") {
      errors->push_back({n, "a payment (01) must not name an original serial"});
    }
    l.period = f[13];
    if (!l.serial.empty() && (f[7] == "01" || f[7] == "02")) {
      auto& seen = l.reversal ? reversals : pays;
      auto [it, fresh] = seen.emplace(l.serial, n);
      if (!fresh) {
        errors->push_back({n, "serial " + Quote(l.serial) + " already appears on line " +
                                  std::to_string(it->second)});
      }
    }
    if (errors->size() == before) {
      ++parsed;
      net += l.reversal ? -l.amount : l.amount;
      candidates.push_back(std::move(l));
    }
  }
  for (auto& l : candidates) {
    if (l.reversal) {
      auto it = pays.find(l.original_serial);
      if (it == pays.end()) {
        errors->push_back({l.line, "the reversal names serial " + Quote(l.original_serial) +
                                       ", which is not a payment in this file"});
        continue;
      }
    }
    out.lines.push_back(l);
  }
  if (header_ok) {
    int64_t details = static_cast<int64_t>(lines.size()) - 1;
    if (out.count != details) {
      errors->push_back({lines[0].first, "the header says " + std::to_string(out.count) +
                                             " records but the file has " +
                                             std::to_string(details)});
    }
    if (parsed == details && out.net_total != net) {
      errors->push_back(
          {lines[0].first, "the header's net total " + std::to_string(out.net_total.fen()) +
                               " fen is not the details' " + std::to_string(net.fen()) + " fen"});
    }
  }
  return out;
}

}  // namespace gridmis::accounts
