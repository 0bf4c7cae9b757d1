// The geography of the demo utility: the Ulanqab (乌兰察布) power-supply bureau of Inner
// Mongolia Electric Power (内蒙古电力集团, the 蒙西 grid) with its eleven real counties and
// districts, supply stations named after real towns and sumu, and generated villages, residential
// compounds and streets in them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "demo/rng.h"

namespace gridmis::demo {

// 供电所: a supply station, named after the town (镇/乡/苏木) or city district it serves.
struct StationInfo {
  std::string_view name;    // "白海子供电所"
  std::string_view pinyin;  // "baihaizi": the suffix of the station's meter-reader login
  std::string_view town;    // "白海子镇"; for urban stations the district part ("桥东")
  bool urban = false;       // streets and residential compounds rather than villages
};

// A county-level division (区/市/县/旗) and its power-supply branch (供电分局).
struct CountyInfo {
  std::string_view name;             // "察哈尔右翼前旗"
  std::string_view short_name;       // "察右前旗": how names and addresses abbreviate it
  std::string_view pinyin;           // "qianqi": the suffix of the county's logins
  std::string_view admin_code;       // GB/T 2260 code, "150926"
  int weight;                        // share of customers (roughly the 2020 census, 10k people)
  int mongolian_per_10000;           // customers with Mongolian names
  std::string_view industrial_park;  // where its large industry sits
  std::span<const StationInfo> stations;
  std::span<const std::string_view> other_towns;  // towns without a station of their own
};

inline constexpr std::string_view kCity = "乌兰察布市";
inline constexpr std::string_view kCityAdminCode = "150900";

std::span<const CountyInfo> UlanqabCounties();

// "高家营子村", "前进村", "乌兰哈达嘎查"
std::string VillageName(Rng& rng);
// "锦绣小区", "御景花园"
std::string CompoundName(Rng& rng);
// A street of the county seat: real ones for 集宁, common Chinese street names elsewhere.
std::string_view StreetName(Rng& rng, const CountyInfo& county);
// Where the county's index-th substation stands: the place that names it ("集宁东", "白海子",
// "工业园区") and the address part after the county ("城区", "白海子镇", "工业园区").
struct SubstationSite {
  std::string_view place;
  std::string_view address;
};
SubstationSite SubstationPlace(const CountyInfo& county, size_t index);
// How many distinct places SubstationPlace has for the county before it repeats.
size_t SubstationPlaceCount(const CountyInfo& county);
// A word for feeder names: "东风", "胜利"...
std::string_view FeederWord(Rng& rng);

}  // namespace gridmis::demo
