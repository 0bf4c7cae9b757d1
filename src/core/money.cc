#include "core/money.h"

#include "core/decimal.h"

namespace gridmis {

Result<Money> Money::ParseYuan(std::string_view yuan, std::string_view what) {
  ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(yuan, 2, what));
  ASSIGN_OR_RETURN(Decimal f, d.Rescale(2));
  return Money(f.mantissa);
}

std::string Money::ToYuanString() const { return Decimal{fen_, 2}.ToString(); }

Result<Energy> Energy::ParseKwh(std::string_view kwh, std::string_view what) {
  ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(kwh, kScale, what));
  ASSIGN_OR_RETURN(Decimal f, d.Rescale(kScale));
  return Energy(f.mantissa);
}

std::string Energy::ToKwhString(int decimals) const {
  if (decimals < 0) decimals = 0;
  if (decimals > kScale) decimals = kScale;
  auto r = Decimal{dwh_, kScale}.Rescale(decimals);
  return r.ok() ? r->ToString() : Decimal{dwh_, kScale}.ToString();
}

int64_t Energy::RoundedKwh() const {
  auto r = DivRoundHalfUp(dwh_, kDwhPerKwh);
  return r.ok() ? *r : 0;  // cannot overflow: the quotient is smaller than dwh_
}

Result<Price> Price::ParseYuan(std::string_view yuan, std::string_view what) {
  ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(yuan, kScale, what));
  ASSIGN_OR_RETURN(Decimal f, d.Rescale(kScale));
  return Price(f.mantissa);
}

std::string Price::ToYuanString() const {
  std::string s = Decimal{raw_, kScale}.ToString();
  // Keep at least 4 decimals, trim zeros beyond.
  size_t point = s.find('.');
  while (s.size() > point + 5 && s.back() == '0') s.pop_back();
  return s;
}

Result<Money> Price::Times(Energy e) const {
  ASSIGN_OR_RETURN(Decimal m,
                   Decimal::Multiply(Decimal{raw_, kScale}, Decimal{e.dwh(), Energy::kScale}, 2));
  return Money::FromFen(m.mantissa);
}

}  // namespace gridmis
