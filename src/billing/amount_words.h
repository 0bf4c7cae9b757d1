// Amounts in Chinese capital numerals (大写金额), as bills, receipts and bank forms print them:
// 123.45 → 壹佰贰拾叁元肆角伍分, 100.00 → 壹佰元整, 1005.03 → 壹仟零伍元零叁分.
#pragma once

#include <string>

#include "core/money.h"

namespace gridmis::billing {

// Rules (the People's Bank of China's rules for writing amounts on bills): 整 after 元 when
// there are no 角 and 分, and after 角 when there is no 分; 零 for each run of zeros inside the
// number and after 元 when 角 is zero and 分 is not; tens always carry their digit (壹拾); a
// negative amount (a credit) starts with 负; zero is 零元整. Amounts up to 9999万亿 yuan.
std::string AmountInWords(Money amount);

}  // namespace gridmis::billing
