// Money and energy as exact integers.
//
// Money is counted in fen (分, 0.01 yuan) as a signed 64-bit integer. Energy is counted in
// deci-watt-hours (dWh: 1 dWh = 0.1 Wh = 0.0001 kWh), the finest register resolution the field
// protocols carry (Q/GDW 1376.1 data format A.14, XXXXXX.XXXX kWh); DL/T 645 registers
// (XXXXXX.XX kWh) convert exactly. Reactive energy (kvarh) uses the same resolution.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gridmis {

class Money {
 public:
  constexpr Money() = default;
  static constexpr Money FromFen(int64_t fen) { return Money(fen); }
  // "12.30", "-5", "0.05" yuan; at most 2 fraction digits. The error names `what`.
  static Result<Money> ParseYuan(std::string_view yuan, std::string_view what = "amount");

  constexpr int64_t fen() const { return fen_; }
  // "12.30", "-0.05"
  std::string ToYuanString() const;

  constexpr Money operator+(Money o) const { return Money(fen_ + o.fen_); }
  constexpr Money operator-(Money o) const { return Money(fen_ - o.fen_); }
  constexpr Money operator-() const { return Money(-fen_); }
  Money& operator+=(Money o) {
    fen_ += o.fen_;
    return *this;
  }
  Money& operator-=(Money o) {
    fen_ -= o.fen_;
    return *this;
  }
  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(int64_t fen) : fen_(fen) {}
  int64_t fen_ = 0;
};

class Energy {
 public:
  static constexpr int kScale = 4;  // digits after the kWh point
  static constexpr int64_t kDwhPerKwh = 10000;

  constexpr Energy() = default;
  static constexpr Energy FromDwh(int64_t dwh) { return Energy(dwh); }
  static constexpr Energy FromKwh(int64_t kwh) { return Energy(kwh * kDwhPerKwh); }
  // "1234.56" kWh; at most 4 fraction digits.
  static Result<Energy> ParseKwh(std::string_view kwh, std::string_view what = "energy");

  constexpr int64_t dwh() const { return dwh_; }
  // With `decimals` fraction digits (0..4), rounded half away from zero: "1234.56".
  std::string ToKwhString(int decimals = 4) const;
  // Whole kWh, rounded half away from zero: billing quantities are whole kWh.
  int64_t RoundedKwh() const;

  constexpr Energy operator+(Energy o) const { return Energy(dwh_ + o.dwh_); }
  constexpr Energy operator-(Energy o) const { return Energy(dwh_ - o.dwh_); }
  constexpr auto operator<=>(const Energy&) const = default;

 private:
  constexpr explicit Energy(int64_t dwh) : dwh_(dwh) {}
  int64_t dwh_ = 0;
};

// Price in yuan per unit with up to 8 fraction digits, e.g. 0.5380 yuan/kWh. Stored as the
// count of 1e-8 yuan.
class Price {
 public:
  static constexpr int kScale = 8;
  static Result<Price> ParseYuan(std::string_view yuan, std::string_view what = "price");
  static constexpr Price FromNanoYuanX10(int64_t v) { return Price(v); }
  constexpr int64_t raw() const { return raw_; }
  // Trailing zeros beyond 4 decimals trimmed: "0.5380", "0.01234567".
  std::string ToYuanString() const;
  // price × energy, rounded to the fen (四舍五入).
  Result<Money> Times(Energy e) const;
  constexpr auto operator<=>(const Price&) const = default;

 private:
  constexpr explicit Price(int64_t raw) : raw_(raw) {}
  int64_t raw_ = 0;
};

}  // namespace gridmis
