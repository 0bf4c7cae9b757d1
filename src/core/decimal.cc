#include "core/decimal.h"

#include <compare>
#include <limits>

namespace gridmis {

namespace {
constexpr int64_t kPow10[] = {1LL,
                              10LL,
                              100LL,
                              1000LL,
                              10000LL,
                              100000LL,
                              1000000LL,
                              10000000LL,
                              100000000LL,
                              1000000000LL,
                              10000000000LL,
                              100000000000LL,
                              1000000000000LL,
                              10000000000000LL,
                              100000000000000LL,
                              1000000000000000LL,
                              10000000000000000LL,
                              100000000000000000LL,
                              1000000000000000000LL};

bool FitsInt64(int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}
}  // namespace

int64_t Pow10(int n) { return kPow10[n]; }

Result<int64_t> DivRoundHalfUp(int128 num, int128 den) {
  if (den == 0) return InvalidArgument("division by zero");
  if (den < 0) {
    num = -num;
    den = -den;
  }
  int128 q = num / den;
  int128 r = num % den;
  int128 twice = (r < 0 ? -r : r) * 2;
  if (twice >= den) q += (num < 0 ? -1 : 1);
  if (!FitsInt64(q)) return InvalidArgument("decimal overflow");
  return static_cast<int64_t>(q);
}

Result<Decimal> Decimal::Parse(std::string_view text, int max_scale, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(std::string(what) + " '" + std::string(text.substr(0, 40)) + "' " +
                           std::string(why));
  };
  if (text.empty()) return bad("is empty");
  size_t i = 0;
  bool neg = false;
  if (text[0] == '-' || text[0] == '+') {
    neg = text[0] == '-';
    i = 1;
  }
  int128 m = 0;
  int scale = 0;
  bool seen_point = false;
  int digits = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (seen_point) return bad("has two decimal points");
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') return bad("is not a decimal number");
    m = m * 10 + (c - '0');
    ++digits;
    if (seen_point) ++scale;
    if (m > std::numeric_limits<int64_t>::max()) return bad("is too large");
  }
  if (digits == 0) return bad("has no digits");
  if (seen_point && scale == 0) return bad("ends with a decimal point");
  if (scale > max_scale) {
    return bad("has more than " + std::to_string(max_scale) + " digits after the decimal point");
  }
  return Decimal{static_cast<int64_t>(neg ? -m : m), scale};
}

Result<Decimal> Decimal::Rescale(int new_scale) const {
  if (new_scale < 0 || new_scale > 18) return InvalidArgument("scale out of range");
  if (new_scale >= scale) {
    int128 v = static_cast<int128>(mantissa) * kPow10[new_scale - scale];
    if (!FitsInt64(v)) return InvalidArgument("decimal overflow");
    return Decimal{static_cast<int64_t>(v), new_scale};
  }
  ASSIGN_OR_RETURN(int64_t m, DivRoundHalfUp(mantissa, kPow10[scale - new_scale]));
  return Decimal{m, new_scale};
}

std::string Decimal::ToString() const {
  int128 v = mantissa;
  bool neg = v < 0;
  if (neg) v = -v;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  if (neg) digits.insert(digits.begin(), '-');
  return digits;
}

Result<Decimal> Decimal::Multiply(Decimal a, Decimal b, int scale) {
  if (scale < 0 || scale > 18) return InvalidArgument("scale out of range");
  int128 p = static_cast<int128>(a.mantissa) * b.mantissa;
  int ps = a.scale + b.scale;  // <= 36
  if (ps <= scale) {
    // Scale up; p * 10^(scale-ps) with scale-ps <= 18.
    int128 v = p * kPow10[scale - ps];
    if (!FitsInt64(v)) return InvalidArgument("decimal overflow");
    return Decimal{static_cast<int64_t>(v), scale};
  }
  int drop = ps - scale;
  int128 den = 1;
  for (int i = 0; i < drop; ++i) den *= 10;
  ASSIGN_OR_RETURN(int64_t m, DivRoundHalfUp(p, den));
  return Decimal{m, scale};
}

namespace {
// Compares a*10^k with b without overflow, k >= 0.
std::strong_ordering CompareScaled(int64_t a, int k, int64_t b) {
  int128 x = a;
  for (int i = 0; i < k; ++i) {
    x *= 10;
    if (x > (static_cast<int128>(1) << 100) || x < -(static_cast<int128>(1) << 100)) break;
  }
  return x <=> static_cast<int128>(b);
}
}  // namespace

bool operator==(Decimal a, Decimal b) { return (a <=> b) == 0; }

std::strong_ordering operator<=>(Decimal a, Decimal b) {
  if (a.scale <= b.scale) return CompareScaled(a.mantissa, b.scale - a.scale, b.mantissa);
  return 0 <=> CompareScaled(b.mantissa, a.scale - b.scale, a.mantissa);
}

}  // namespace gridmis
