#include "demo/names.h"

#include <array>
#include <cstdio>

namespace gridmis::demo {

namespace {

using SV = std::string_view;

void AppendDigits(Rng& rng, std::string& s, int n) {
  for (int i = 0; i < n; ++i) s += rng.Digit();
}

void AppendPadded(std::string& s, int64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  s += buf;
}

// ---- Surnames, weighted (per 10,000, roughly their frequency in northern China and Inner
// Mongolia: 王, 李, 张, 刘 lead; 郝, 乔, 贾, 武, 云, 智 are common locally).
struct Weighted {
  SV text;
  int weight;
};
constexpr Weighted kSurnames[] = {
    {"王", 780}, {"李", 740}, {"张", 700}, {"刘", 560}, {"赵", 300}, {"杨", 300}, {"陈", 260},
    {"郭", 200}, {"高", 170}, {"马", 160}, {"孙", 150}, {"韩", 120}, {"周", 120}, {"吴", 100},
    {"徐", 100}, {"胡", 110}, {"朱", 100}, {"贾", 100}, {"任", 90},  {"田", 90},  {"郝", 90},
    {"武", 90},  {"闫", 90},  {"白", 80},  {"乔", 80},  {"何", 60},  {"罗", 50},  {"梁", 70},
    {"宋", 70},  {"郑", 60},  {"谢", 50},  {"唐", 50},  {"冯", 70},  {"于", 70},  {"董", 70},
    {"程", 60},  {"曹", 60},  {"袁", 50},  {"许", 50},  {"苏", 60},  {"吕", 60},  {"魏", 60},
    {"薛", 50},  {"侯", 60},  {"康", 50},  {"尹", 40},  {"范", 50},  {"石", 50},  {"牛", 50},
    {"段", 40},  {"孟", 50},  {"温", 40},  {"杜", 50},  {"姚", 40},  {"常", 50},  {"霍", 40},
    {"云", 40},  {"秦", 40},  {"崔", 40},  {"安", 40},  {"樊", 30},  {"智", 30},  {"岳", 30},
    {"成", 30},  {"苗", 30},  {"冀", 20},  {"申", 20},  {"邢", 30},  {"卢", 30},  {"彭", 30},
    {"林", 40},  {"黄", 50},  {"邓", 30},  {"叶", 20},  {"潘", 20},  {"蒋", 20},  {"蔡", 20},
    {"丁", 30},  {"沈", 20},  {"姜", 30},  {"庞", 20},  {"鲍", 20},  {"包", 30},  {"奇", 10},
    {"訾", 10},  {"贺", 40},  {"雷", 20},  {"荣", 10},  {"阎", 20},  {"尚", 20},  {"葛", 20},
};

constexpr std::array<int, std::size(kSurnames)> SurnameWeights() {
  std::array<int, std::size(kSurnames)> w{};
  for (size_t i = 0; i < w.size(); ++i) w[i] = kSurnames[i].weight;
  return w;
}
constexpr auto kSurnameWeights = SurnameWeights();

constexpr SV kMaleSingle[] = {"伟", "强", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平",
                              "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊",
                              "帅", "旭", "宁", "龙", "林", "阳", "磊", "亮", "峰", "东", "彪"};
constexpr SV kMaleFirst[] = {"建", "志", "国", "永", "海", "文", "春", "晓", "小", "俊", "子",
                             "浩", "宇", "明", "金", "玉", "德", "振", "立", "忠", "占", "利",
                             "学", "宏", "保", "二", "三", "满", "双", "世", "家", "嘉", "泽"};
constexpr SV kMaleSecond[] = {"军", "华", "平", "强", "明", "伟", "东", "林", "峰", "刚", "亮",
                              "成", "生", "龙", "飞", "杰", "鹏", "涛", "斌", "辉", "宇", "轩",
                              "博", "然", "勇", "荣", "福", "喜", "旺", "义", "文", "清", "山"};
constexpr SV kFemaleSingle[] = {"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "丹", "萍",
                                "红", "玲", "燕", "莉", "婷", "雪", "慧", "琳", "颖", "倩",
                                "晶", "洁", "梅", "英", "兰", "琴", "蓉", "瑶"};
constexpr SV kFemaleFirst[] = {"秀", "桂", "玉", "美", "春", "晓", "丽", "海", "淑",
                               "凤", "雅", "欣", "梓", "雨", "佳", "文", "红", "金",
                               "翠", "月", "思", "慧", "素", "彩", "爱", "二", "巧"};
constexpr SV kFemaleSecond[] = {"英", "兰", "芳", "珍", "华", "梅", "霞", "琴", "艳",
                                "娟", "玲", "萍", "燕", "婷", "涵", "怡", "琪", "雪",
                                "洁", "敏", "丽", "娥", "花", "荣", "云", "琳", "妮"};

// Mongolian given names (many Mongolians in China write only the given name; some take a Han
// surname such as 包, 白, 韩, 云, 奇).
constexpr SV kMongolMale[] = {"巴特尔", "额尔敦", "苏和",   "阿拉坦",   "孟和",
                              "宝音",   "朝鲁",   "巴雅尔", "布和",     "达来",
                              "呼和",   "特木尔", "毕力格", "巴图",     "吉日嘎拉",
                              "那顺",   "乌力吉", "满都拉", "其其格图", "格日勒图"};
constexpr SV kMongolFemale[] = {"斯琴",   "乌云", "其木格", "那仁",         "图雅",     "萨仁",
                                "格日勒", "敖登", "娜仁",   "其其格",       "高娃",     "乌兰",
                                "托娅",   "塔娜", "萨日娜", "阿拉坦其其格", "斯琴高娃", "乌日娜"};
constexpr SV kMongolSurname[] = {"包", "白", "韩", "云", "奇", "鲍", "宝"};

// Trade names (字号) of local businesses.
constexpr SV kTrade[] = {
    "鑫源", "宏达", "恒泰",   "瑞丰",   "金泰", "华通", "兴隆",   "永盛", "天成", "泰和",
    "昌盛", "聚隆", "晟通",   "中兴",   "润丰", "宏源", "鼎盛",   "祥和", "宝丰", "华荣",
    "大地", "蒙达", "塞北",   "察哈尔", "岱海", "辉腾", "黄旗海", "阴山", "广源", "金鹏",
    "顺达", "利民", "振兴",   "博远",   "亿达", "盛源", "锦华",   "福源", "嘉禾", "金鼎",
    "万通", "德顺", "隆昌",   "恒源",   "吉祥", "草原", "蒙源",   "北疆", "长城", "鸿运",
    "同心", "诚信", "新世纪", "天骄",   "绿源", "丰泽", "远航",   "景泰", "金诚", "正和"};

struct Pattern {
  SV prefix;  // "" = county name, "city" = 乌兰察布市, "nm" = 内蒙古, "town", "village", "person"
  SV suffix;
  SV registry;
  int weight;
};

constexpr Pattern kShopPatterns[] = {
    {"", "商贸有限公司", "91", 12}, {"", "超市", "92", 14},
    {"", "饭店", "92", 8},          {"person", "家莜面馆", "92", 5},
    {"", "手把肉馆", "92", 3},      {"", "宾馆", "92", 5},
    {"", "汽车修理部", "92", 5},    {"village", "通信基站", "91", 9},
    {"", "加油站", "91", 3},        {"", "大药房", "91", 4},
    {"", "建材经销部", "92", 5},    {"", "农资店", "92", 4},
    {"", "便利店", "92", 6},        {"", "物业服务有限公司", "91", 3},
    {"", "幼儿园", "52", 2},        {"", "理发店", "92", 3},
    {"", "肉业有限公司", "91", 2},  {"", "通讯器材店", "92", 3},
    {"", "五金电料店", "92", 3},    {"", "洗浴中心", "92", 1},
};
constexpr Pattern kLargeCommercialPatterns[] = {
    {"", "购物广场有限公司", "91", 4},       {"", "大酒店有限公司", "91", 4},
    {"city", "房地产开发有限公司", "91", 4}, {"city", "物流有限公司", "91", 3},
    {"", "热力有限责任公司", "91", 3},       {"", "水务有限公司", "91", 1},
    {"city", "商砼有限公司", "91", 2},       {"", "冷链仓储有限公司", "91", 2},
    {"", "国际酒店管理有限公司", "91", 1},
};
constexpr Pattern kLargeIndustryPatterns[] = {
    {"", "铁合金有限责任公司", "91", 24},
    {"", "硅锰合金有限公司", "91", 10},
    {"city", "冶金有限公司", "91", 8},
    {"nm", "新材料科技有限公司", "91", 7},
    {"", "化工有限责任公司", "91", 6},
    {"", "电石有限公司", "91", 4},
    {"", "碳素有限公司", "91", 4},
    {"city", "水泥有限公司", "91", 4},
    {"city", "云计算数据中心有限公司", "91", 4},
    {"", "马铃薯淀粉有限公司", "91", 5},
    {"nm", "乳业有限公司", "91", 2},
    {"", "矿业有限公司", "91", 4},
    {"", "风电装备制造有限公司", "91", 2},
    {"", "石墨有限公司", "91", 0},  // 兴和: see below
};
constexpr Pattern kAgriculturalPatterns[] = {
    {"village", "农灌机井", "54", 30}, {"", "马铃薯种植专业合作社", "93", 12},
    {"", "养殖专业合作社", "93", 10},  {"", "蔬菜种植专业合作社", "93", 6},
    {"person", "家庭农场", "92", 8},   {"village", "扬水站", "54", 6},
    {"person", "（农灌）", "", 28},
};
constexpr Pattern kOtherPatterns[] = {
    {"town", "人民政府", "11", 3}, {"village", "村民委员会", "54", 8},
    {"town", "中心小学", "12", 3}, {"town", "卫生院", "12", 3},
    {"street", "路灯", "12", 4},   {"town", "派出所", "11", 2},
    {"town", "敬老院", "12", 1},   {"", "第二中学", "12", 1},
};

template <size_t N>
const Pattern& PickPattern(Rng& rng, const Pattern (&ps)[N]) {
  std::array<int, N> w{};
  for (size_t i = 0; i < N; ++i) w[i] = ps[i].weight;
  return ps[rng.Weighted(w)];
}

constexpr SV kBanks[kBankCount] = {"中国工商银行",    "中国农业银行",     "中国建设银行",
                                   "中国银行",        "中国邮政储蓄银行", "内蒙古银行",
                                   "农村信用合作联社"};
// Debit-card BINs of those banks.
constexpr SV kBankBins[kBankCount] = {"622202", "622848", "621700", "621661",
                                      "621799", "622147", "621737"};

constexpr SV kMobilePrefixes[] = {
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159",
    "178", "182", "183", "184", "187", "188", "198", "130", "131", "132", "155", "156", "166",
    "175", "176", "185", "186", "133", "149", "153", "173", "177", "180", "181", "189", "199"};

}  // namespace

char ResidentIdCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kMap[] = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17 && i < first17.size(); ++i) sum += (first17[i] - '0') * kWeights[i];
  return kMap[sum % 11];
}

bool IsValidResidentId(std::string_view id) {
  if (id.size() != 18) return false;
  for (size_t i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (id[i] - '0');
    return v;
  };
  int y = num(6, 4), m = num(10, 2), d = num(12, 2);
  if (y < 1800 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  return ResidentIdCheckChar(id.substr(0, 17)) == id[17];
}

std::string MakeResidentId(Rng& rng, std::string_view area6, Date birth, bool male) {
  std::string s(area6);
  AppendPadded(s, birth.year, 4);
  AppendPadded(s, birth.month, 2);
  AppendPadded(s, birth.day, 2);
  int seq = static_cast<int>(rng.Below(500)) * 2 + (male ? 1 : 0);  // 000..999, odd for men
  AppendPadded(s, seq, 3);
  s += ResidentIdCheckChar(s);
  return s;
}

namespace {
int Gb11714Value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}
constexpr SV kCreditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
int CreditValue(char c) {
  size_t p = kCreditAlphabet.find(c);
  return p == SV::npos ? -1 : static_cast<int>(p);
}
}  // namespace

char OrganizationCodeCheckChar(std::string_view body8) {
  static constexpr int kWeights[8] = {3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 8 && i < body8.size(); ++i) sum += Gb11714Value(body8[i]) * kWeights[i];
  int c = 11 - sum % 11;
  if (c == 10) return 'X';
  if (c == 11) return '0';
  return static_cast<char>('0' + c);
}

char CreditCodeCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                       29, 25, 13, 8,  24, 10, 30, 28};
  if (first17.size() < 17) return 0;
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    int v = CreditValue(first17[i]);
    if (v < 0) return 0;
    sum += v * kWeights[i];
  }
  int c = 31 - sum % 31;
  return kCreditAlphabet[c == 31 ? 0 : c];
}

bool IsValidCreditCode(std::string_view code) {
  if (code.size() != 18) return false;
  char c = CreditCodeCheckChar(code.substr(0, 17));
  return c != 0 && c == code[17];
}

std::string MakeCreditCode(Rng& rng, std::string_view registry, std::string_view area6) {
  std::string s(registry);
  s += area6;
  std::string body;
  // Organisation codes issued in Inner Mongolia mostly began with digits; keep to digits plus
  // the occasional letter in the code's alphabet.
  for (int i = 0; i < 8; ++i) {
    if (i == 0 && rng.Chance(1500)) {
      body += "MLN"[rng.Below(3)];
    } else {
      body += rng.Digit();
    }
  }
  s += body;
  s += OrganizationCodeCheckChar(body);
  s += CreditCodeCheckChar(s);
  return s;
}

char LuhnCheckDigit(std::string_view digits) {
  int sum = 0;
  bool dbl = true;  // the digit next to the check digit is doubled
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool IsValidLuhn(std::string_view number) {
  if (number.size() < 2) return false;
  for (char c : number) {
    if (c < '0' || c > '9') return false;
  }
  return LuhnCheckDigit(number.substr(0, number.size() - 1)) == number.back();
}

std::string MobileNumber(Rng& rng) {
  std::string s(rng.Pick(kMobilePrefixes));
  AppendDigits(rng, s, 8);
  return s;
}

std::string LandlineNumber(Rng& rng) {
  std::string s = "0474-";
  s += static_cast<char>('2' + rng.Below(7));  // local numbers start with 2..8
  AppendDigits(rng, s, 6);
  return s;
}

std::string DebitCardNumber(Rng& rng, size_t bank) {
  std::string s(kBankBins[bank % kBankCount]);
  AppendDigits(rng, s, 12);
  s += LuhnCheckDigit(s);
  return s;
}

std::string CorporateAccountNumber(Rng& rng) {
  std::string s = "0";
  s += static_cast<char>('1' + rng.Below(9));
  AppendDigits(rng, s, static_cast<int>(15 + rng.Below(4)));
  return s;
}

std::string BankBranchName(size_t bank, const CountyInfo& county) {
  bank %= kBankCount;
  if (bank == kBankCount - 1) {  // the rural credit unions are organised by county
    std::string s(county.name);
    s += "农村信用合作联社";
    return s;
  }
  std::string s(kBanks[bank]);
  s += "乌兰察布";
  if (county.admin_code == "150902") {
    s += "分行营业部";
  } else {
    s += county.short_name;
    s += "支行";
  }
  return s;
}

std::string PersonName(Rng& rng, bool male, bool mongolian) {
  std::string s;
  if (mongolian) {
    if (rng.Chance(3000)) s = rng.Pick(kMongolSurname);
    s += male ? rng.Pick(kMongolMale) : rng.Pick(kMongolFemale);
    return s;
  }
  s = kSurnames[rng.Weighted(kSurnameWeights)].text;
  if (rng.Chance(3000)) {
    s += male ? rng.Pick(kMaleSingle) : rng.Pick(kFemaleSingle);
  } else if (male) {
    s += rng.Pick(kMaleFirst);
    s += rng.Pick(kMaleSecond);
  } else {
    s += rng.Pick(kFemaleFirst);
    s += rng.Pick(kFemaleSecond);
  }
  return s;
}

Business MakeBusiness(Rng& rng, BusinessKind kind, const BusinessContext& ctx) {
  const Pattern* p = nullptr;
  switch (kind) {
    case BusinessKind::kShop:
      p = &PickPattern(rng, kShopPatterns);
      break;
    case BusinessKind::kLargeCommercial:
      p = &PickPattern(rng, kLargeCommercialPatterns);
      break;
    case BusinessKind::kLargeIndustry:
      // 兴和 is a graphite county: a third of its large industry mines or processes graphite.
      p = ctx.county && ctx.county->admin_code == "150924" && rng.Chance(3300)
              ? &kLargeIndustryPatterns[std::size(kLargeIndustryPatterns) - 1]
              : &PickPattern(rng, kLargeIndustryPatterns);
      break;
    case BusinessKind::kAgricultural:
      p = &PickPattern(rng, kAgriculturalPatterns);
      break;
    case BusinessKind::kOther:
      p = &PickPattern(rng, kOtherPatterns);
      break;
  }
  Business b;
  b.holder_male = rng.Chance(7000);
  b.holder =
      PersonName(rng, b.holder_male, ctx.county && rng.Chance(ctx.county->mongolian_per_10000));
  b.registry = p->registry;
  SV county = ctx.county ? ctx.county->name : SV("乌兰察布市");
  if (p->prefix.empty()) {
    b.name = county;
    b.name += rng.Pick(kTrade);
  } else if (p->prefix == "city") {
    b.name = "乌兰察布市";
    b.name += rng.Pick(kTrade);
  } else if (p->prefix == "nm") {
    b.name = "内蒙古";
    b.name += rng.Pick(kTrade);
  } else if (p->prefix == "town") {
    if (ctx.town.empty()) {
      // In the city's districts the street office and community services stand in for the
      // town's institutions.
      b.name = county;
      b.name += ctx.street.empty() ? SV("城区") : ctx.street;
      SV s = p->suffix;
      b.name += s == "人民政府"   ? SV("街道办事处")
                : s == "卫生院"   ? SV("社区卫生服务中心")
                : s == "中心小学" ? SV("小学")
                : s == "敬老院"   ? SV("养老院")
                                  : s;
      return b;
    }
    b.name = ctx.town;
  } else if (p->prefix == "village") {
    b.name = ctx.town.empty() ? county : ctx.town;
    b.name += ctx.locality;
  } else if (p->prefix == "street") {
    b.name = county;
    b.name += ctx.street.empty() ? SV("城区") : ctx.street;
  } else if (p->prefix == "person") {
    b.name = b.holder;
  }
  if (p->suffix == "农灌机井") {
    b.name += std::to_string(rng.Between(1, 12));
    b.name += "号";
  }
  b.name += p->suffix;
  return b;
}

}  // namespace gridmis::demo
