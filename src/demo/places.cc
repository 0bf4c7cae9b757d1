#include "demo/places.h"

#include <array>

namespace gridmis::demo {

namespace {

using SV = std::string_view;

// Stations: the county seat (or the city's districts) first, then large towns.
constexpr StationInfo kJining[] = {{"桥东供电所", "qiaodong", "桥东", true},
                                   {"桥西供电所", "qiaoxi", "桥西", true},
                                   {"白海子供电所", "baihaizi", "白海子镇", false},
                                   {"马莲渠供电所", "malianqu", "马莲渠乡", false}};
constexpr SV kJiningTowns[] = {"白海子镇", "马莲渠乡"};

constexpr StationInfo kFengzhen[] = {{"丰镇城区供电所", "fengzhencheng", "城区", true},
                                     {"隆盛庄供电所", "longshengzhuang", "隆盛庄镇", false},
                                     {"黑土台供电所", "heitutai", "黑土台镇", false},
                                     {"巨宝庄供电所", "jubaozhuang", "巨宝庄镇", false}};
constexpr SV kFengzhenTowns[] = {"红砂坝镇", "三义泉镇", "浑源窑乡", "元山子乡", "官屯堡乡"};

constexpr StationInfo kZhuozi[] = {{"卓资山供电所", "zhuozishan", "卓资山镇", true},
                                   {"旗下营供电所", "qixiaying", "旗下营镇", false},
                                   {"十八台供电所", "shibatai", "十八台镇", false}};
constexpr SV kZhuoziTowns[] = {"巴音锡勒镇", "梨花镇", "红召乡", "大榆树乡"};

constexpr StationInfo kHuade[] = {{"长顺供电所", "changshun", "长顺镇", true},
                                  {"朝阳供电所", "chaoyang", "朝阳镇", false},
                                  {"七号供电所", "qihao", "七号镇", false}};
constexpr SV kHuadeTowns[] = {"德包图乡", "公腊胡洞乡", "白音特拉乡"};

constexpr StationInfo kShangdu[] = {{"七台供电所", "qitai", "七台镇", true},
                                    {"十八顷供电所", "shibaqing", "十八顷镇", false},
                                    {"大黑沙土供电所", "daheishatu", "大黑沙土镇", false},
                                    {"小海子供电所", "xiaohaizi", "小海子镇", false}};
constexpr SV kShangduTowns[] = {"西井子镇", "屯垦队镇", "卯都乡", "玻璃忽镜乡", "三大顷乡"};

constexpr StationInfo kXinghe[] = {{"城关供电所", "chengguan", "城关镇", true},
                                   {"张皋供电所", "zhanggao", "张皋镇", false},
                                   {"店子供电所", "dianzi", "店子镇", false}};
constexpr SV kXingheTowns[] = {"赛乌素镇", "鄂尔栋镇", "大库联乡", "民族团结乡", "五股泉乡"};

constexpr StationInfo kLiangcheng[] = {{"岱海供电所", "daihai", "岱海镇", true},
                                       {"永兴供电所", "yongxing", "永兴镇", false},
                                       {"麦胡图供电所", "maihutu", "麦胡图镇", false}};
constexpr SV kLiangchengTowns[] = {"鸿茅镇", "六苏木镇",   "蛮汉镇",
                                   "天成乡", "曹碾满族乡", "厂汉营乡"};

constexpr StationInfo kQianqi[] = {{"土贵乌拉供电所", "tuguiwula", "土贵乌拉镇", true},
                                   {"平地泉供电所", "pingdiquan", "平地泉镇", false},
                                   {"玫瑰营供电所", "meiguiying", "玫瑰营镇", false},
                                   {"黄旗海供电所", "huangqihai", "黄旗海镇", false}};
constexpr SV kQianqiTowns[] = {"巴音塔拉镇", "乌拉哈乡", "三岔口乡", "煤窑乡"};

constexpr StationInfo kZhongqi[] = {{"科布尔供电所", "kebuer", "科布尔镇", true},
                                    {"铁沙盖供电所", "tieshagai", "铁沙盖镇", false},
                                    {"广益隆供电所", "guangyilong", "广益隆镇", false}};
constexpr SV kZhongqiTowns[] = {"宏盘乡", "乌素图镇", "土城子乡", "大滩乡", "库伦苏木", "黄羊城镇"};

constexpr StationInfo kHouqi[] = {{"白音察干供电所", "baiyinchagan", "白音察干镇", true},
                                  {"土牧尔台供电所", "tumuertai", "土牧尔台镇", false},
                                  {"红格尔图供电所", "honggeertu", "红格尔图镇", false}};
constexpr SV kHouqiTowns[] = {"贲红镇", "乌兰哈达苏木", "当郎忽洞苏木", "锡勒乡"};

constexpr StationInfo kSiziwang[] = {{"乌兰花供电所", "wulanhua", "乌兰花镇", true},
                                     {"吉生太供电所", "jishengtai", "吉生太镇", false},
                                     {"库伦图供电所", "kuluntu", "库伦图镇", false},
                                     {"供济堂供电所", "gongjitang", "供济堂镇", false}};
constexpr SV kSiziwangTowns[] = {"白音朝克图镇", "红格尔苏木", "江岸苏木", "脑木更苏木",
                                 "查干补力格苏木"};

constexpr CountyInfo kCounties[] = {
    {"集宁区", "集宁", "jining", "150902", 34, 100, "集宁现代物流园区", kJining, kJiningTowns},
    {"丰镇市", "丰镇", "fengzhen", "150981", 24, 50, "丰镇高新技术产业园区", kFengzhen,
     kFengzhenTowns},
    {"卓资县", "卓资", "zhuozi", "150921", 11, 150, "卓资县工业园区", kZhuozi, kZhuoziTowns},
    {"化德县", "化德", "huade", "150922", 11, 100, "化德县长顺工业园区", kHuade, kHuadeTowns},
    {"商都县", "商都", "shangdu", "150923", 17, 100, "商都县七台工业园区", kShangdu, kShangduTowns},
    {"兴和县", "兴和", "xinghe", "150924", 16, 80, "兴和县石墨新材料产业园", kXinghe, kXingheTowns},
    {"凉城县", "凉城", "liangcheng", "150925", 14, 80, "凉城县工业园区", kLiangcheng,
     kLiangchengTowns},
    {"察哈尔右翼前旗", "察右前旗", "qianqi", "150926", 16, 300, "察右前旗天皮山工业园区", kQianqi,
     kQianqiTowns},
    {"察哈尔右翼中旗", "察右中旗", "zhongqi", "150927", 11, 800, "察右中旗工业园区", kZhongqi,
     kZhongqiTowns},
    {"察哈尔右翼后旗", "察右后旗", "houqi", "150928", 11, 900, "察右后旗红格尔图工业园区", kHouqi,
     kHouqiTowns},
    {"四子王旗", "四子王旗", "siziwang", "150929", 13, 1200, "四子王旗工业园区", kSiziwang,
     kSiziwangTowns},
};

// Villages: a slogan name ("前进村"), a family or landscape name with a suffix ("高家营子村"),
// or in pastoral areas a Mongolian name with 嘎查 (the Mongolian administrative village).
constexpr SV kVillageSlogan[] = {"前进", "红旗", "胜利", "新民", "团结", "联合", "永丰", "丰收",
                                 "太平", "光明", "兴隆", "富强", "五一", "幸福", "东风", "向阳",
                                 "和平", "新胜", "永胜", "三义", "复兴", "民主", "建设", "新华"};
constexpr SV kVillageRoot[] = {"高家",   "王家", "李家", "张家", "刘家", "赵家", "郭家",   "马家",
                               "杨家",   "韩家", "贾家", "乔家", "武家", "白家", "郝家",   "孙家",
                               "大榆树", "三道", "黄土", "石门", "二道", "榆树", "柳树",   "沙圪",
                               "红山",   "黑沙", "古城", "东滩", "西滩", "双井", "三股泉", "八号",
                               "十二号", "水泉", "庙",   "边墙"};
constexpr SV kVillageSuffix[] = {"营子", "沟", "滩", "庄", "梁", "湾", "窑", "堡", "湾子", "坊"};
constexpr SV kMongolianVillage[] = {"乌兰哈达", "查干淖尔", "巴音塔拉",   "敖包图",  "哈达图",
                                    "阿力善图", "乌兰胡洞", "格日勒图",   "宝音图",  "巴彦淖尔",
                                    "白音希勒", "额尔敦",   "那仁宝力格", "希拉穆仁"};

constexpr SV kCompoundWord[] = {
    "锦绣",   "阳光",   "富康",   "金地", "幸福", "和谐", "书香", "御景", "华府", "盛世",
    "怡和",   "滨河",   "康居",   "龙城", "泰和", "学府", "紫薇", "丽都", "馨园", "绿洲",
    "察哈尔", "霸王河", "老虎山", "京都", "凯旋", "恒大", "东方", "世纪", "康馨", "瑞祥"};
constexpr SV kCompoundSuffix[] = {"小区", "家园", "花园", "苑", "新城", "嘉园", "名苑", "华庭"};

// 集宁区: the city's real main streets.
constexpr SV kJiningStreets[] = {
    "察哈尔大街", "工农大街", "新华街", "解放路", "民建路", "建设大街",   "恩和大街", "怀远大街",
    "虎山路",     "泉山路",   "永安路", "前进路", "新体路", "霸王河大街", "光明路",   "育才路"};
constexpr SV kTownStreets[] = {"人民路", "解放路", "建设街",   "新华街", "团结路", "胜利路",
                               "和平街", "友谊路", "民族街",   "振兴路", "文化街", "育才路",
                               "工农路", "健康街", "迎宾大道", "府前街"};

constexpr SV kJiningPlaces[] = {"集宁东", "集宁西", "集宁南", "集宁北", "白海子",   "马莲渠",
                                "老虎山", "霸王河", "泉山",   "虎山",   "物流园区", "新区"};
constexpr SV kGenericPlaces[] = {"城东", "城西", "城南", "城北", "工业园区", "新区"};

constexpr SV kFeederWord[] = {"东风", "前进", "胜利", "红旗", "新华", "光明", "建设", "团结",
                              "和平", "幸福", "振兴", "兴旺", "繁荣", "富民", "工业", "农灌",
                              "城关", "南环", "北环", "朝阳", "长青", "联合", "园区", "迎宾"};

}  // namespace

std::span<const CountyInfo> UlanqabCounties() { return kCounties; }

std::string VillageName(Rng& rng) {
  std::string s;
  uint64_t kind = rng.Below(100);
  if (kind < 35) {
    s = rng.Pick(kVillageSlogan);
    s += "村";
  } else if (kind < 92) {
    s = rng.Pick(kVillageRoot);
    s += rng.Pick(kVillageSuffix);
    s += "村";
  } else {
    s = rng.Pick(kMongolianVillage);
    s += "嘎查";
  }
  return s;
}

std::string CompoundName(Rng& rng) {
  std::string s(rng.Pick(kCompoundWord));
  s += rng.Pick(kCompoundSuffix);
  return s;
}

std::string_view StreetName(Rng& rng, const CountyInfo& county) {
  if (county.admin_code == "150902") return rng.Pick(kJiningStreets);
  return rng.Pick(kTownStreets);
}

SubstationSite SubstationPlace(const CountyInfo& county, size_t index) {
  auto strip = [](SV town) {
    for (SV suffix : {SV("满族乡"), SV("镇"), SV("乡"), SV("苏木")}) {
      if (town.ends_with(suffix)) return town.substr(0, town.size() - suffix.size());
    }
    return town;
  };
  if (county.admin_code == "150902") {
    SV place = kJiningPlaces[index % std::size(kJiningPlaces)];
    if (place == "白海子") return {place, "白海子镇"};
    if (place == "马莲渠") return {place, "马莲渠乡"};
    return {place, place.starts_with("集宁") ? SV("城区") : place};
  }
  // The stations' towns first, then the other towns, then directions.
  size_t n_st = county.stations.size();
  if (index < n_st) {
    const StationInfo& st = county.stations[index];
    if (st.town == "城区") return {county.short_name, "城区"};
    return {strip(st.town), st.town};
  }
  index -= n_st;
  if (index < county.other_towns.size()) {
    SV town = county.other_towns[index];
    return {strip(town), town};
  }
  index -= county.other_towns.size();
  SV place = kGenericPlaces[index % std::size(kGenericPlaces)];
  return {place, place};
}

size_t SubstationPlaceCount(const CountyInfo& county) {
  if (county.admin_code == "150902") return std::size(kJiningPlaces);
  return county.stations.size() + county.other_towns.size() + std::size(kGenericPlaces);
}

std::string_view FeederWord(Rng& rng) { return rng.Pick(kFeederWord); }

}  // namespace gridmis::demo
