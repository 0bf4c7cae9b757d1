// People, organisations and their numbers for the demo utility: Chinese and Mongolian personal
// names, company names of the region's trades, resident identity numbers (GB 11643), unified
// social credit codes (GB 32100), mobile and landline numbers, bank cards (Luhn).
//
// The check-digit functions are exact implementations of the standards and are also useful to
// validate input elsewhere.
#pragma once

#include <string>
#include <string_view>

#include "core/time.h"
#include "demo/places.h"
#include "demo/rng.h"

namespace gridmis::demo {

// ---- Identity numbers ----

// GB 11643-1999 居民身份证号码 check character ('0'..'9' or 'X') of the first 17 digits.
char ResidentIdCheckChar(std::string_view first17);
// 18 characters, 17 digits, a real birth date, the right check character.
bool IsValidResidentId(std::string_view id);
// area (6 digits, GB/T 2260) + birth date + 3-digit sequence (odd for men) + check.
std::string MakeResidentId(Rng& rng, std::string_view area6, Date birth, bool male);

// GB 11714-1997 组织机构代码 check character of the 8-character body.
char OrganizationCodeCheckChar(std::string_view body8);
// GB 32100-2015 统一社会信用代码 check character of the first 17 characters, or 0 when one of
// them is outside the code's alphabet (digits and upper-case letters except I, O, S, V, Z).
char CreditCodeCheckChar(std::string_view first17);
bool IsValidCreditCode(std::string_view code);
// registry: 登记管理部门码 + 机构类别码, e.g. "91" (company), "92" (individual business), "93"
// (farmers' co-operative), "11" (government body), "12" (public institution), "52" (private
// non-enterprise unit), "54" (village committee). area6: GB/T 2260 code.
std::string MakeCreditCode(Rng& rng, std::string_view registry, std::string_view area6);

// Luhn check digit of `digits` (the number without its check digit).
char LuhnCheckDigit(std::string_view digits);
bool IsValidLuhn(std::string_view number);

// ---- Contact numbers ----

// An 11-digit mainland mobile number with a real operator prefix.
std::string MobileNumber(Rng& rng);
// An Ulanqab landline, "0474-8231456".
std::string LandlineNumber(Rng& rng);
// A 19-digit debit card of one of the banks in BankName, with a valid Luhn digit.
std::string DebitCardNumber(Rng& rng, size_t bank);
// A corporate settlement account number (17-20 digits).
std::string CorporateAccountNumber(Rng& rng);
inline constexpr size_t kBankCount = 7;
// "中国农业银行乌兰察布集宁支行"
std::string BankBranchName(size_t bank, const CountyInfo& county);

// ---- Names ----

// A Han name ("王建华", surnames weighted by frequency in northern China) or, when `mongolian`,
// a Mongolian one ("巴特尔", "包斯琴").
std::string PersonName(Rng& rng, bool male, bool mongolian);

// What a non-residential customer is, which decides its name and identity document.
enum class BusinessKind {
  kShop,             // small general commercial: shops, restaurants, hotels, base stations
  kLargeCommercial,  // general commercial on its own transformer: malls, heating, logistics
  kLargeIndustry,    // 大工业: ferroalloy, metallurgy, chemicals, graphite, data centres...
  kAgricultural,     // irrigation wells, co-operatives, family farms
  kOther,            // public bodies: governments, schools, clinics, village committees
};

struct BusinessContext {
  const CountyInfo* county = nullptr;
  std::string_view town;      // "白海子镇"; empty in the city's urban districts
  std::string_view locality;  // the village or residential compound
  std::string_view street;    // urban street, may be empty
};

struct Business {
  std::string name;
  // The credit-code registry ("91"...), or empty when the holder is a person identified by
  // resident ID (a farmer's irrigation well).
  std::string registry;
  std::string holder;  // the legal representative or owner, a person's name
  bool holder_male = true;
};

Business MakeBusiness(Rng& rng, BusinessKind kind, const BusinessContext& ctx);

}  // namespace gridmis::demo
