// Exact decimal arithmetic for money, energy and prices. No binary floating point.
//
// A Decimal is a 64-bit mantissa with a decimal scale: Decimal{12345, 2} is 123.45. Rounding is
// "round half away from zero" (四舍五入), the rule Chinese billing applies wherever it rounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gridmis {

__extension__ typedef __int128 int128;  // GCC/Clang 128-bit integer for exact products

// Rounds num/den to the nearest integer, halves away from zero. den != 0.
// Uses 128-bit intermediates; fails only if the quotient does not fit 64 bits.
Result<int64_t> DivRoundHalfUp(int128 num, int128 den);

// Returns 10^n for 0 <= n <= 18.
int64_t Pow10(int n);

struct Decimal {
  int64_t mantissa = 0;
  int scale = 0;  // 0..18 digits after the point

  // Parses "123", "-0.5", "123.4500". Rejects exponents, spaces, empty strings, more than
  // `max_scale` fraction digits and values that overflow. The error names `what`.
  static Result<Decimal> Parse(std::string_view text, int max_scale = 18,
                               std::string_view what = "number");

  // The value at `new_scale`, rounded half away from zero when reducing the scale.
  Result<Decimal> Rescale(int new_scale) const;

  // Exactly `scale` fraction digits: Decimal{5, 2} -> "0.05".
  std::string ToString() const;

  // (a * b) rounded to `scale` digits.
  static Result<Decimal> Multiply(Decimal a, Decimal b, int scale);

  friend bool operator==(Decimal a, Decimal b);
  friend std::strong_ordering operator<=>(Decimal a, Decimal b);
};

}  // namespace gridmis
