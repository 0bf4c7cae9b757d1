#include "billing/amount_words.h"

#include <cstdint>
#include <vector>

namespace gridmis::billing {

namespace {

constexpr const char* kDigits[] = {"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"};
constexpr const char* kUnits[] = {"", "拾", "佰", "仟"};       // within a group of four
constexpr const char* kSections[] = {"", "万", "亿", "万亿"};  // groups of four digits

// One group of four digits (1..9999) without leading 零; zeros inside become one 零.
std::string Group(int64_t g) {
  std::string out;
  bool zero = false;
  for (int pos = 3; pos >= 0; --pos) {
    int64_t p = 1;
    for (int i = 0; i < pos; ++i) p *= 10;
    int d = static_cast<int>(g / p % 10);
    if (d == 0) {
      if (!out.empty()) zero = true;
      continue;
    }
    if (zero) out += kDigits[0];
    zero = false;
    out += kDigits[d];
    out += kUnits[pos];
  }
  return out;
}

}  // namespace

std::string AmountInWords(Money amount) {
  int64_t fen = amount.fen();
  std::string out;
  // |INT64_MIN| does not fit; such amounts are far beyond the supported range anyway.
  if (fen < 0) {
    out = "负";
    fen = fen == INT64_MIN ? INT64_MAX : -fen;
  }
  int64_t yuan = fen / 100;
  int jiao = static_cast<int>(fen / 10 % 10);
  int cents = static_cast<int>(fen % 10);
  if (yuan >= 10'000'000'000'000'000) return out + std::to_string(yuan) + "元";  // out of range

  if (yuan > 0) {
    std::vector<int64_t> groups;  // low to high
    for (int64_t y = yuan; y > 0; y /= 10'000) groups.push_back(y % 10'000);
    std::string words;
    bool pending_zero = false;
    for (size_t i = groups.size(); i-- > 0;) {
      int64_t g = groups[i];
      if (g == 0) {
        if (!words.empty()) pending_zero = true;
        continue;
      }
      if (!words.empty() && (pending_zero || g < 1000)) words += kDigits[0];
      pending_zero = false;
      words += Group(g);
      words += kSections[i];
    }
    out += words + "元";
  }
  if (jiao == 0 && cents == 0) return out + (yuan == 0 ? "零元整" : "整");
  if (jiao > 0) {
    out += kDigits[jiao];
    out += "角";
  } else if (yuan > 0) {
    out += kDigits[0];  // 壹佰元零伍分
  }
  if (cents > 0) {
    out += kDigits[cents];
    out += "分";
  } else {
    out += "整";
  }
  return out;
}

}  // namespace gridmis::billing
