#include "reading/xlsx.h"

#include <expat.h>
#include <zlib.h>

#include <cstring>
#include <map>
#include <optional>

namespace gridmis::reading {

namespace {

// ---- ZIP container ----

uint32_t U32(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}
uint16_t U16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) |
                               static_cast<unsigned char>(s[at + 1]) << 8);
}

struct ZipEntry {
  uint16_t method = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
};

Status NotXlsx(const std::string& why) {
  return InvalidArgument("the file is not an xlsx workbook: " + why, "file");
}

Result<std::map<std::string, ZipEntry>> ReadCentralDirectory(std::string_view zip) {
  if (zip.size() < 22) return NotXlsx("too short for a ZIP archive");
  size_t eocd = std::string_view::npos;
  size_t lowest = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0;
  for (size_t at = zip.size() - 22 + 1; at-- > lowest;) {
    if (U32(zip, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string_view::npos) return NotXlsx("no ZIP end of central directory");
  uint16_t count = U16(zip, eocd + 10);
  uint32_t dir_size = U32(zip, eocd + 12);
  uint32_t dir_offset = U32(zip, eocd + 16);
  if (dir_offset == 0xffffffff || count == 0xffff) return NotXlsx("ZIP64 archives are not read");
  if (uint64_t{dir_offset} + dir_size > zip.size()) return NotXlsx("truncated central directory");
  std::map<std::string, ZipEntry> out;
  size_t at = dir_offset;
  for (uint16_t i = 0; i < count; ++i) {
    if (at + 46 > zip.size() || U32(zip, at) != 0x02014b50) {
      return NotXlsx("damaged central directory");
    }
    ZipEntry e;
    e.method = U16(zip, at + 10);
    e.compressed = U32(zip, at + 20);
    e.size = U32(zip, at + 24);
    uint16_t name_len = U16(zip, at + 28);
    uint16_t extra_len = U16(zip, at + 30);
    uint16_t comment_len = U16(zip, at + 32);
    e.local_offset = U32(zip, at + 42);
    if (at + 46 + name_len > zip.size()) return NotXlsx("damaged central directory");
    std::string name(zip.substr(at + 46, name_len));
    out[name] = e;
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

// Streams an entry's uncompressed bytes to `sink` in chunks.
Status Inflate(std::string_view zip, const std::string& name, const ZipEntry& e, int64_t max_bytes,
               const std::function<Status(std::string_view)>& sink) {
  size_t at = e.local_offset;
  if (at + 30 > zip.size() || U32(zip, at) != 0x04034b50) {
    return NotXlsx("damaged local header of " + name);
  }
  size_t data = at + 30 + U16(zip, at + 26) + U16(zip, at + 28);
  if (data + e.compressed > zip.size()) return NotXlsx(name + " is truncated");
  std::string_view in = zip.substr(data, e.compressed);
  if (e.method == 0) {
    if (static_cast<int64_t>(in.size()) > max_bytes) return NotXlsx(name + " is too large");
    return sink(in);
  }
  if (e.method != 8) return NotXlsx(name + " uses an unsupported compression method");
  z_stream z;
  std::memset(&z, 0, sizeof(z));
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return Internal("zlib inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string buf(64 * 1024, '\0');
  int64_t total = 0;
  Status st;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t produced = buf.size() - z.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced > 0)) {
      st = NotXlsx(name + " is damaged (inflate failed)");
      break;
    }
    total += static_cast<int64_t>(produced);
    if (total > max_bytes) {
      st = NotXlsx(name + " is larger than " + std::to_string(max_bytes) + " bytes");
      break;
    }
    if (produced > 0) {
      st = sink(std::string_view(buf.data(), produced));
      if (!st.ok()) break;
    }
    if (rc == Z_STREAM_END) break;
    if (produced == 0 && z.avail_in == 0) {
      st = NotXlsx(name + " is truncated");
      break;
    }
  }
  inflateEnd(&z);
  return st;
}

// ---- XML (expat) ----

// The local name of an expat name ("ns-uri|row" with namespaces, or "x:row").
std::string_view Local(const XML_Char* name) {
  std::string_view s(name);
  size_t cut = s.find_last_of("|:");
  return cut == std::string_view::npos ? s : s.substr(cut + 1);
}

const XML_Char* Attr(const XML_Char** attrs, std::string_view local) {
  for (int i = 0; attrs[i]; i += 2) {
    if (Local(attrs[i]) == local) return attrs[i + 1];
  }
  return nullptr;
}

// A streaming parse of one part with element handlers.
class XmlPart {
 public:
  using Start = std::function<void(std::string_view, const XML_Char**)>;
  using End = std::function<void(std::string_view)>;
  using Text = std::function<void(std::string_view)>;

  XmlPart(Start start, End end, Text text)
      : start_(std::move(start)), end_(std::move(end)), text_(std::move(text)) {
    parser_ = XML_ParserCreateNS(nullptr, '|');
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &XmlPart::OnStart, &XmlPart::OnEnd);
    XML_SetCharacterDataHandler(parser_, &XmlPart::OnText);
  }
  ~XmlPart() { XML_ParserFree(parser_); }
  XmlPart(const XmlPart&) = delete;
  XmlPart& operator=(const XmlPart&) = delete;

  Status Feed(std::string_view chunk, bool last, const std::string& part) {
    if (XML_Parse(parser_, chunk.data(), static_cast<int>(chunk.size()), last ? 1 : 0) ==
        XML_STATUS_ERROR) {
      if (!error_.ok()) return error_;
      return NotXlsx(part + " is not well-formed XML (line " +
                     std::to_string(XML_GetCurrentLineNumber(parser_)) +
                     "): " + XML_ErrorString(XML_GetErrorCode(parser_)));
    }
    return error_;
  }
  // Stops the parse with `s` (from a handler).
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    XML_StopParser(parser_, XML_FALSE);
  }

 private:
  static void OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
    static_cast<XmlPart*>(self)->start_(Local(name), attrs);
  }
  static void OnEnd(void* self, const XML_Char* name) {
    static_cast<XmlPart*>(self)->end_(Local(name));
  }
  static void OnText(void* self, const XML_Char* s, int len) {
    static_cast<XmlPart*>(self)->text_(std::string_view(s, static_cast<size_t>(len)));
  }

  XML_Parser parser_;
  Start start_;
  End end_;
  Text text_;
  Status error_;
};

Status ParsePart(std::string_view zip, const std::map<std::string, ZipEntry>& entries,
                 const std::string& name, int64_t max_bytes, XmlPart& xml) {
  auto it = entries.find(name);
  if (it == entries.end()) return NotXlsx("it has no " + name);
  RETURN_IF_ERROR(Inflate(zip, name, it->second, max_bytes,
                          [&](std::string_view chunk) { return xml.Feed(chunk, false, name); }));
  return xml.Feed({}, true, name);
}

// "AB12" → 27 (0-based column); -1 when there are no letters.
int ColumnOf(std::string_view ref) {
  int col = 0;
  size_t i = 0;
  for (; i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > 16384) return -1;
  }
  return i == 0 ? -1 : col - 1;
}

// The worksheet part of the workbook's first sheet.
Result<std::string> FirstSheetPart(std::string_view zip,
                                   const std::map<std::string, ZipEntry>& entries, int64_t max,
                                   bool* date1904) {
  std::string rid;
  bool in_sheets = false;
  XmlPart workbook(
      [&](std::string_view el, const XML_Char** attrs) {
        if (el == "workbookPr") {
          const XML_Char* d = Attr(attrs, "date1904");
          if (d && (std::string_view(d) == "1" || std::string_view(d) == "true")) *date1904 = true;
        } else if (el == "sheets") {
          in_sheets = true;
        } else if (el == "sheet" && in_sheets && rid.empty()) {
          const XML_Char* id = Attr(attrs, "id");
          if (id) rid = id;
        }
      },
      [&](std::string_view el) {
        if (el == "sheets") in_sheets = false;
      },
      [](std::string_view) {});
  RETURN_IF_ERROR(ParsePart(zip, entries, "xl/workbook.xml", max, workbook));
  std::string target;
  if (!rid.empty() && entries.count("xl/_rels/workbook.xml.rels")) {
    XmlPart rels(
        [&](std::string_view el, const XML_Char** attrs) {
          if (el != "Relationship") return;
          const XML_Char* id = Attr(attrs, "Id");
          const XML_Char* t = Attr(attrs, "Target");
          if (id && t && rid == id) target = t;
        },
        [](std::string_view) {}, [](std::string_view) {});
    RETURN_IF_ERROR(ParsePart(zip, entries, "xl/_rels/workbook.xml.rels", max, rels));
  }
  if (target.empty()) return std::string("xl/worksheets/sheet1.xml");
  if (target[0] == '/') return target.substr(1);
  return "xl/" + target;
}

Result<std::vector<std::string>> SharedStrings(std::string_view zip,
                                               const std::map<std::string, ZipEntry>& entries,
                                               const XlsxLimits& limits) {
  std::vector<std::string> out;
  if (!entries.count("xl/sharedStrings.xml")) return out;
  std::string current;
  bool in_si = false, in_t = false;
  int phonetic = 0;  // <rPh> runs (furigana) are not part of the text
  int64_t bytes = 0;
  XmlPart* self = nullptr;
  XmlPart xml(
      [&](std::string_view el, const XML_Char**) {
        if (el == "si") {
          in_si = true;
          current.clear();
        } else if (el == "rPh") {
          ++phonetic;
        } else if (el == "t" && in_si && phonetic == 0) {
          in_t = true;
        }
      },
      [&](std::string_view el) {
        if (el == "si") {
          in_si = false;
          bytes += static_cast<int64_t>(current.size());
          if (bytes > limits.max_shared_strings_bytes) {
            self->Fail(NotXlsx("its shared strings exceed " +
                               std::to_string(limits.max_shared_strings_bytes) + " bytes"));
          }
          out.push_back(std::move(current));
          current.clear();
        } else if (el == "rPh") {
          --phonetic;
        } else if (el == "t") {
          in_t = false;
        }
      },
      [&](std::string_view text) {
        if (in_t) current.append(text);
      });
  self = &xml;
  RETURN_IF_ERROR(ParsePart(zip, entries, "xl/sharedStrings.xml", limits.max_entry_bytes, xml));
  return out;
}

}  // namespace

Status ReadFirstSheet(std::string_view file, const std::function<Status(const SheetRow&)>& fn,
                      bool* date1904, const XlsxLimits& limits) {
  bool d1904 = false;
  ASSIGN_OR_RETURN(auto entries, ReadCentralDirectory(file));
  if (!entries.count("xl/workbook.xml")) return NotXlsx("it has no xl/workbook.xml");
  ASSIGN_OR_RETURN(std::string sheet,
                   FirstSheetPart(file, entries, limits.max_entry_bytes, &d1904));
  if (date1904) *date1904 = d1904;
  ASSIGN_OR_RETURN(std::vector<std::string> strings, SharedStrings(file, entries, limits));

  SheetRow row;
  bool in_row = false;
  int next_col = 0;
  // The current cell.
  int col = -1;
  std::string type;
  std::string value;
  bool in_value = false;  // <v> or <t> inside <is>
  bool in_inline = false;
  int phonetic = 0;
  int64_t next_row = 1;
  XmlPart* self = nullptr;
  auto finish_cell = [&]() -> Status {
    if (col < 0) return Status::Ok();
    SheetCell cell;
    if (type == "s") {
      char* end = nullptr;
      long idx = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || idx < 0 || static_cast<size_t>(idx) >= strings.size()) {
        return NotXlsx("row " + std::to_string(row.row) + " refers to shared string '" +
                       value.substr(0, 20) + "' that does not exist");
      }
      cell.text = strings[static_cast<size_t>(idx)];
    } else if (type == "b") {
      cell.text = value == "1" ? "TRUE" : "FALSE";
    } else if (type == "n" || type.empty()) {
      cell.text = value;
      cell.numeric = !value.empty();
    } else {  // str, inlineStr, e (errors keep their text, e.g. "#N/A")
      cell.text = value;
    }
    if (static_cast<size_t>(col) >= row.cells.size())
      row.cells.resize(static_cast<size_t>(col) + 1);
    row.cells[static_cast<size_t>(col)] = std::move(cell);
    next_col = col + 1;
    col = -1;
    return Status::Ok();
  };
  XmlPart xml(
      [&](std::string_view el, const XML_Char** attrs) {
        if (el == "row") {
          in_row = true;
          row.cells.clear();
          next_col = 0;
          const XML_Char* r = Attr(attrs, "r");
          row.row = r ? std::strtoll(r, nullptr, 10) : next_row;
          if (row.row <= 0) row.row = next_row;
        } else if (el == "c" && in_row) {
          const XML_Char* r = Attr(attrs, "r");
          col = r ? ColumnOf(r) : next_col;
          if (col < 0) col = next_col;
          const XML_Char* t = Attr(attrs, "t");
          type = t ? t : "";
          value.clear();
        } else if (el == "v" && col >= 0) {
          in_value = true;
        } else if (el == "is" && col >= 0) {
          in_inline = true;
        } else if (el == "rPh") {
          ++phonetic;
        } else if (el == "t" && in_inline && phonetic == 0) {
          in_value = true;
        }
      },
      [&](std::string_view el) {
        if (el == "v" || el == "t") {
          in_value = false;
        } else if (el == "is") {
          in_inline = false;
        } else if (el == "rPh") {
          --phonetic;
        } else if (el == "c") {
          Status st = finish_cell();
          if (!st.ok()) self->Fail(st);
        } else if (el == "row" && in_row) {
          in_row = false;
          next_row = row.row + 1;
          bool empty = true;
          for (const auto& c : row.cells) {
            if (!c.text.empty()) empty = false;
          }
          if (!empty) {
            Status st = fn(row);
            if (!st.ok()) self->Fail(st);
          }
        }
      },
      [&](std::string_view text) {
        if (in_value) value.append(text);
      });
  self = &xml;
  return ParsePart(file, entries, sheet, limits.max_entry_bytes, xml);
}

}  // namespace gridmis::reading
