// The bill as a PDF in Chinese (cairo + pango with a TrueType CJK font, a payment QR code) and
// bill lists as xlsx (libxlsxwriter).
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "billing/amount_words.h"
#include "billing/internal/billing_internal.h"

namespace gridmis::billing {

using nlohmann::json;

namespace {

// The CJK font: WenQuanYi Micro Hei (fonts-wqy-microhei), with Noto Sans CJK as a fallback.
constexpr const char* kFont = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif";

std::string CategoryZh(std::string_view c) {
  if (c == "residential") return "居民生活用电";
  if (c == "commercial") return "一般工商业用电";
  if (c == "large_industry") return "大工业用电";
  if (c == "agricultural") return "农业生产用电";
  return "其他用电";
}

std::string StatusZh(std::string_view s) {
  if (s == "calculated") return "已计算";
  if (s == "review") return "待审核";
  if (s == "held") return "暂挂";
  if (s == "approved") return "已审核";
  if (s == "issued") return "已发行";
  if (s == "cancelled") return "已作废";
  return std::string(s);
}

std::string RegisterZh(std::string_view r) {
  if (r == "total") return "总";
  if (r == "sharp") return "尖峰";
  if (r == "peak") return "高峰";
  if (r == "flat") return "平段";
  if (r == "valley") return "低谷";
  if (r == "export") return "反向有功";
  if (r == "reactive_import") return "正向无功";
  if (r == "reactive_export") return "反向无功";
  if (r == "max_demand") return "最大需量";
  return std::string(r);
}

std::string PeriodZh(std::string_view p) {
  if (p == "sharp") return "尖峰";
  if (p == "peak") return "高峰";
  if (p == "flat") return "平段";
  if (p == "valley") return "低谷";
  if (p == "deep_valley") return "深谷";
  return "";
}

// "1234.5600" → "1234.56" (at least two decimals kept).
std::string Trim(std::string s) {
  size_t dot = s.find('.');
  if (dot == std::string::npos) return s;
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  return s;
}

// A unit price as tariff notices print it: at least 4 decimals, trailing zeros beyond trimmed
// ("0.5000", "0.02766875").
std::string PriceText(const Decimal& d) {
  std::string s = d.ToString();
  size_t dot = s.find('.');
  if (dot == std::string::npos) return s + ".0000";
  while (s.size() < dot + 5) s.push_back('0');
  while (s.size() > dot + 5 && s.back() == '0') s.pop_back();
  return s;
}

std::string ZhDate(const Date& d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%d年%d月%d日", d.year, d.month, d.day);
  return buf;
}

// ---- Drawing ----

class Page {
 public:
  static constexpr double kWidth = 595.28;  // A4 in points
  static constexpr double kHeight = 841.89;
  static constexpr double kMargin = 40;

  explicit Page(cairo_t* cr) : cr_(cr) {}

  // Draws `text` in the box starting at (x, y) of `width`; returns its height.
  double Text(double x, double y, std::string_view text, double size, bool bold = false,
              double width = -1, PangoAlignment align = PANGO_ALIGN_LEFT) {
    PangoLayout* layout = pango_cairo_create_layout(cr_);
    PangoFontDescription* font = pango_font_description_from_string(kFont);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    if (bold) pango_font_description_set_weight(font, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(layout, font);
    if (width > 0) {
      pango_layout_set_width(layout, static_cast<int>(width * PANGO_SCALE));
      pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    }
    pango_layout_set_alignment(layout, align);
    pango_layout_set_text(layout, text.data(), static_cast<int>(text.size()));
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout);
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    pango_font_description_free(font);
    g_object_unref(layout);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  void Line(double x1, double y1, double x2, double y2, double width = 0.6) {
    cairo_set_line_width(cr_, width);
    cairo_move_to(cr_, x1, y1);
    cairo_line_to(cr_, x2, y2);
    cairo_stroke(cr_);
  }

  // A table row: cells of the given widths from x; the row's height is the tallest cell.
  double Row(double x, double y, const std::vector<double>& widths,
             const std::vector<std::string>& cells, double size, bool bold = false,
             const std::vector<PangoAlignment>& aligns = {}) {
    double h = 0;
    double cx = x;
    for (size_t i = 0; i < widths.size() && i < cells.size(); ++i) {
      PangoAlignment a = i < aligns.size() ? aligns[i] : PANGO_ALIGN_LEFT;
      h = std::max(h, Text(cx + 3, y + 2, cells[i], size, bold, widths[i] - 6, a));
      cx += widths[i];
    }
    h += 4;
    double total = 0;
    for (double w : widths) total += w;
    Line(x, y + h, x + total, y + h, 0.3);
    return h;
  }

  // The QR code of `text` at (x, y) with side `side`.
  Status Qr(double x, double y, double side, const std::string& text) {
    QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) return Internal("could not encode the payment QR code");
    int n = qr->width;
    int quiet = 2;
    double module = side / (n + 2 * quiet);
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_rectangle(cr_, x, y, side, side);
    cairo_fill(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    for (int row = 0; row < n; ++row) {
      for (int col = 0; col < n; ++col) {
        if (qr->data[row * n + col] & 1) {
          cairo_rectangle(cr_, x + (col + quiet) * module, y + (row + quiet) * module, module,
                          module);
        }
      }
    }
    cairo_fill(cr_);
    QRcode_free(qr);
    return Status::Ok();
  }

  cairo_t* cr() { return cr_; }

 private:
  cairo_t* cr_;
};

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

Result<std::string> RenderBillPdf(const BillDocument& doc) {
  const Bill& b = doc.bill;
  std::string out;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(AppendToString, &out, Page::kWidth, Page::kHeight);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return Internal("could not create the PDF surface");
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                 ("电费通知单 " + b.bill_no).c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "gridmis");
  cairo_t* cr = cairo_create(surface);
  Page p(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  const double x0 = Page::kMargin;
  const double width = Page::kWidth - 2 * Page::kMargin;
  double y = Page::kMargin;
  auto next_page_if = [&](double need) {
    if (y + need > Page::kHeight - Page::kMargin) {
      cairo_show_page(cr);
      y = Page::kMargin;
    }
  };

  // ---- Header ----
  y += p.Text(x0, y, doc.utility_name, 12, false, width, PANGO_ALIGN_CENTER);
  y += p.Text(x0, y, "电费通知单", 20, true, width, PANGO_ALIGN_CENTER) + 6;
  if (b.status == "cancelled") {
    y += p.Text(x0, y, "（本账单已作废）", 12, true, width, PANGO_ALIGN_CENTER);
  } else if (b.status != "issued") {
    y += p.Text(x0, y, "（" + StatusZh(b.status) + "，未发行）", 10, false, width,
                PANGO_ALIGN_CENTER);
  }
  p.Line(x0, y + 2, x0 + width, y + 2, 1.2);
  y += 8;

  // ---- Customer and period ----
  const double half = width / 2;
  auto pair = [&](const std::string& left, const std::string& right) {
    double h1 = p.Text(x0, y, left, 10, false, half - 6);
    double h2 = right.empty() ? 0 : p.Text(x0 + half, y, right, 10, false, half);
    y += std::max(h1, h2) + 3;
  };
  pair("户号：" + b.customer_no, "户名：" + b.customer_name);
  pair("用电地址：" + b.customer_address, "");
  pair("计量点：" + b.metering_point_code +
           (b.metering_point_name.empty() ? std::string() : " " + b.metering_point_name),
       "用电类别：" + CategoryZh(b.customer_category));
  pair("电压等级：" + doc.voltage_text, "电价：" + b.tariff_code + "（" + b.tariff_version + "）");
  pair("电费年月：" + std::to_string(b.period.year) + "年" + std::to_string(b.period.month) + "月",
       "抄表区间：" + b.first_day.ToString() + " 至 " + b.last_day.ToString());
  pair("账单编号：" + b.bill_no + (b.seq > 1 ? "（第" + std::to_string(b.seq) + "次开具）" : ""),
       "供电单位：" + doc.department_name);
  pair("打印日期：" + ZhDate(doc.print_date),
       "交费截止日期：" + (b.due_date ? ZhDate(*b.due_date) : std::string("发行后确定")));
  y += 4;

  // ---- Reads and multiplier ----
  json detail = json::parse(b.detail_json, nullptr, false);
  if (detail.is_object() && detail.contains("meters")) {
    next_page_if(60);
    y += p.Text(x0, y, "抄表示数", 12, true) + 2;
    std::vector<double> w = {100, 75, 95, 95, 55, width - 420};
    std::vector<PangoAlignment> right = {PANGO_ALIGN_LEFT,  PANGO_ALIGN_LEFT,  PANGO_ALIGN_RIGHT,
                                         PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT};
    p.Line(x0, y, x0 + width, y, 0.6);
    y += p.Row(x0, y, w, {"表号", "示数类型", "上次示数", "本次示数", "倍率", "抄见电量(kWh)"}, 9,
               true, right);
    const json& metered = detail["energy"].value("metered", json::object());
    for (const auto& m : detail["meters"]) {
      const json& end = m.value("end", json::object());
      const json& start = m.value("start", json::object());
      for (const char* reg : {"total", "sharp", "peak", "flat", "valley", "reactive_import",
                              "reactive_export", "export", "max_demand"}) {
        if (!end.contains(reg)) continue;
        next_page_if(20);
        std::string st = start.contains(reg) ? Trim(start[reg].get<std::string>()) : "";
        std::string en = Trim(end[reg].get<std::string>());
        std::string used = detail["meters"].size() == 1 && metered.contains(reg)
                               ? Trim(metered[reg].get<std::string>())
                               : "";
        y += p.Row(x0, y, w,
                   {m.value("asset_no", ""), RegisterZh(reg), st, en,
                    std::to_string(m.value("multiplier", int64_t{1})), used},
                   9, false, right);
      }
    }
    const json& e = detail["energy"];
    std::string losses;
    if (e.value("transformer_active_loss", "0.0000") != "0.0000") {
      losses += "变损 " + Trim(e.value("transformer_active_loss", "")) + " kWh  ";
    }
    if (e.value("line_loss", "0.0000") != "0.0000") {
      losses += "线损 " + Trim(e.value("line_loss", "")) + " kWh  ";
    }
    if (e.value("max_demand_kw", "0.0000") != "0.0000") {
      losses += "最大需量 " + Trim(e.value("max_demand_kw", "")) + " kW";
    }
    if (!losses.empty()) y += p.Text(x0, y + 2, losses, 9) + 4;
    y += 6;
  }

  // ---- Charges ----
  next_page_if(60);
  y += p.Text(x0, y, "电费明细", 12, true) + 2;
  {
    std::vector<double> w = {150, 60, 90, 90, width - 390};
    std::vector<PangoAlignment> al = {PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT, PANGO_ALIGN_RIGHT,
                                      PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT};
    p.Line(x0, y, x0 + width, y, 0.6);
    y += p.Row(x0, y, w, {"项目", "时段/档", "数量", "单价(元)", "金额(元)"}, 9, true, al);
    for (const auto& l : b.lines) {
      next_page_if(20);
      std::string when = PeriodZh(l.period_code);
      if (l.tier > 0)
        when += (when.empty() ? "" : " ") + std::string("第") + std::to_string(l.tier) + "档";
      y += p.Row(x0, y, w,
                 {l.description, when, Trim(l.quantity.ToString()) + " " + l.unit,
                  PriceText(l.unit_price), l.amount.ToYuanString()},
                 9, false, al);
    }
  }
  y += 6;
  next_page_if(120);
  {
    std::vector<double> w = {width / 4, width / 4, width / 4, width / 4};
    y += p.Row(
        x0, y, w,
        {"电度电费：" + b.energy_charge.ToYuanString(),
         "基本电费：" + b.basic_charge.ToYuanString(), "力调电费：" + b.pf_charge.ToYuanString(),
         "基金及附加：" + b.fund_charge.ToYuanString()},
        9);
    std::string pf = "本期计费电量：" + std::to_string(b.billed_kwh) + " kWh";
    if (b.power_factor) {
      pf += "    功率因数：" + *b.power_factor;
      if (b.pf_adjust_rate) pf += "（调整率 " + *b.pf_adjust_rate + "）";
    }
    if (b.tier_kwh[0] + b.tier_kwh[1] + b.tier_kwh[2] > 0) {
      pf += "    阶梯电量 " + std::to_string(b.tier_kwh[0]) + "/" + std::to_string(b.tier_kwh[1]) +
            "/" + std::to_string(b.tier_kwh[2]) + " kWh，年度累计 " +
            std::to_string(b.tier_cumulative_after_kwh) + " kWh";
    }
    y += p.Text(x0, y + 2, pf, 9, false, width) + 6;
  }

  // ---- Total ----
  p.Line(x0, y, x0 + width, y, 1.2);
  y += 6;
  double qr_side = 110;
  double text_w = width - qr_side - 20;
  double top = y;
  y += p.Text(x0, y, "本期应交电费（小写）：¥" + b.total.ToYuanString(), 14, true, text_w) + 4;
  y += p.Text(x0, y, "大写：" + AmountInWords(b.total), 13, true, text_w) + 6;
  y += p.Text(x0, y,
              "请于交费截止日期前交清电费，逾期将按规定收取电费违约金。可在供电营业厅、银行或扫描"
              "右侧二维码交费。",
              9, false, text_w) +
       4;
  y += p.Text(x0, y, "交费链接：" + doc.payment_url, 8, false, text_w);
  RETURN_IF_ERROR(p.Qr(x0 + width - qr_side, top, qr_side, doc.payment_url));
  p.Text(x0 + width - qr_side, top + qr_side + 2, "扫码交费", 9, false, qr_side,
         PANGO_ALIGN_CENTER);

  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_status_t st = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    return Internal(std::string("rendering the bill PDF failed: ") + cairo_status_to_string(st));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// xlsx

Result<std::string> RenderBillsXlsx(const std::vector<Bill>& bills) {
  bool given = false;
  return RenderBillsXlsx([&]() -> Result<std::vector<Bill>> {
    if (given) return std::vector<Bill>();
    given = true;
    return bills;
  });
}

Result<std::string> RenderBillsXlsx(const std::function<Result<std::vector<Bill>>()>& next_page) {
  char path[] = "/tmp/gridmis-bills-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return Internal("could not create a temporary file for the workbook");
  close(fd);
  struct Unlink {
    const char* p;
    ~Unlink() { std::remove(p); }
  } unlink_at_end{path};

  lxw_workbook_options options = {};
  options.constant_memory = LXW_TRUE;  // rows stream to disk; strings inline
  options.tmpdir = const_cast<char*>("/tmp");
  lxw_workbook* wb = workbook_new_opt(path, &options);
  if (!wb) return Internal("could not create the workbook");
  lxw_worksheet* ws = workbook_add_worksheet(wb, "电费账单");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  lxw_format* money = workbook_add_format(wb);
  format_set_num_format(money, "0.00");
  const char* headers[] = {"账单编号",      "电费年月", "户号",         "户名",
                           "计量点",        "电价",     "用电类别",     "状态",
                           "计费电量(kWh)", "电度电费", "基本电费",     "力调电费",
                           "基金及附加",    "合计(元)", "交费截止日期", "审核标记"};
  const double widths[] = {20, 9, 14, 16, 14, 20, 14, 8, 13, 12, 12, 12, 12, 12, 13, 24};
  for (lxw_col_t i = 0; i < std::size(headers); ++i) {
    worksheet_set_column(ws, i, i, widths[i], nullptr);
    worksheet_write_string(ws, 0, i, headers[i], bold);
  }
  auto yuan = [](Money m) { return static_cast<double>(m.fen()) / 100.0; };
  lxw_row_t row = 1;
  Status failed;
  while (true) {
    auto page = next_page();
    if (!page.ok()) {
      failed = page.status();
      break;
    }
    if (page->empty()) break;
    for (const auto& b : *page) {
      worksheet_write_string(ws, row, 0, b.bill_no.c_str(), nullptr);
      worksheet_write_string(ws, row, 1, b.period.ToString().c_str(), nullptr);
      worksheet_write_string(ws, row, 2, b.customer_no.c_str(), nullptr);
      worksheet_write_string(ws, row, 3, b.customer_name.c_str(), nullptr);
      worksheet_write_string(ws, row, 4, b.metering_point_code.c_str(), nullptr);
      worksheet_write_string(ws, row, 5, b.tariff_code.c_str(), nullptr);
      worksheet_write_string(ws, row, 6, CategoryZh(b.customer_category).c_str(), nullptr);
      worksheet_write_string(ws, row, 7, StatusZh(b.status).c_str(), nullptr);
      worksheet_write_number(ws, row, 8, static_cast<double>(b.billed_kwh), nullptr);
      worksheet_write_number(ws, row, 9, yuan(b.energy_charge), money);
      worksheet_write_number(ws, row, 10, yuan(b.basic_charge), money);
      worksheet_write_number(ws, row, 11, yuan(b.pf_charge), money);
      worksheet_write_number(ws, row, 12, yuan(b.fund_charge), money);
      worksheet_write_number(ws, row, 13, yuan(b.total), money);
      worksheet_write_string(ws, row, 14, b.due_date ? b.due_date->ToString().c_str() : "",
                             nullptr);
      worksheet_write_string(ws, row, 15, JoinFlags(b.review_flags).c_str(), nullptr);
      ++row;
    }
  }
  lxw_error err = workbook_close(wb);
  RETURN_IF_ERROR(failed);
  if (err != LXW_NO_ERROR) {
    return Internal(std::string("writing the workbook failed: ") + lxw_strerror(err));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace gridmis::billing
