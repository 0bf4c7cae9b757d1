// Q/GDW 1376.1-2013 (and 376.1-2009) master-station protocol: the frame codec and the data units
// of Appendix A. Pure: bytes in, values out, and back; no I/O, no allocation beyond the results.
//
// Decoding is for untrusted input: every length is checked before it is read, an error names the
// byte offset and the field, and nothing is ever read past the span. Missing data (EEH) is
// std::nullopt, never a number. Tolerated vendor quirks (see the `warnings` of a Frame) are
// accepted where harmless: a link function code that differs from the textbook, FIR=0 on a
// single reply, trailing padding counted in L after the last unit of an AFN00/AFN02 frame.
//
// Encoding is strict and canonical: a decoded canonical frame re-encodes byte for byte.
//
// Reference: ../../../docs/protocols.md (copied from the research notes) and tests/data/vectors/.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::acquisition::gdw1376 {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// The user-data length the L field can hold; a whole frame is L + 8 bytes.
inline constexpr size_t kMaxUserData = 16383;
inline constexpr size_t kMaxFrame = kMaxUserData + 8;
// The largest pn a DA can name ((255 - 1) * 8 + 8) and the largest Fn a DT can name (30 * 8 + 8).
inline constexpr uint16_t kMaxPn = 2040;
inline constexpr uint16_t kMaxFn = 248;
// Passed as the only pn to MakeGroup: DA = FF 00, all valid measurement points except p0.
inline constexpr uint16_t kAllPoints = 0xFFFF;
// The most (pn, Fn) items one frame may carry: every point of a terminal with 8 Fns. A frame
// of empty items could otherwise name ~262,000 (four bytes of DA/DT name 64), which Decode
// refuses rather than allocate.
inline constexpr size_t kMaxItemsPerFrame = size_t{kMaxPn} * 8;

enum Afn : uint8_t {
  kAfnConfirm = 0x00,  // 确认/否认
  kAfnReset = 0x01,    // 复位 (PW)
  kAfnLink = 0x02,     // 链路接口检测: F1 login, F2 logout, F3 heartbeat
  kAfnRelay = 0x03,
  kAfnSetParams = 0x04,  // 设置参数 (PW)
  kAfnControl = 0x05,    // 控制命令 (PW)
  kAfnAuth = 0x06,       // 身份认证 (PW both ways)
  kAfnCascade = 0x08,
  kAfnConfig = 0x09,       // 请求终端配置
  kAfnQueryParams = 0x0A,  // 查询参数
  kAfnTask = 0x0B,
  kAfnClass1 = 0x0C,   // 一类数据 (real time)
  kAfnClass2 = 0x0D,   // 二类数据 (frozen, curves)
  kAfnClass3 = 0x0E,   // 三类数据 (events)
  kAfnFile = 0x0F,     // 文件传输 (PW)
  kAfnForward = 0x10,  // 数据转发 (PW)
};
// "link interface check", ... ; "" for an unknown AFN.
const char* AfnName(uint8_t afn);
// Downlink frames of this AFN carry the 16-byte PW (01, 04, 05, 06, 0F, 10); uplink only 06.
bool AfnHasPw(uint8_t afn, bool uplink);

// A terminal's address: A1 (administrative area, 4 BCD digits, low byte first on the wire) and
// A2 (binary, little endian, 1..65535). Ordered, hashable through Packed().
struct TerminalKey {
  uint16_t area = 0;     // A1 as a decimal number 0..9999: bytes 01 32 → 3201
  uint16_t address = 0;  // A2
  uint32_t Packed() const { return (uint32_t{area} << 16) | address; }
  auto operator<=>(const TerminalKey&) const = default;
};
// "3201-04660" (as acquisition::FormatTerminalAddress writes it).
std::string ToString(TerminalKey k);

struct Address {
  TerminalKey terminal;
  uint8_t msa = 0;     // A3 D1-D7: master station address 0..127
  bool group = false;  // A3 D0: A2 is a group address (FFFF + group = broadcast)
};

// C: the control field.
struct Control {
  bool up = false;       // DIR: 1 = terminal → master
  bool prm = true;       // PRM: 1 = from the initiating station
  bool fcb_acd = false;  // downlink FCB; uplink ACD (important events waiting, EC in AUX)
  bool fcv = false;      // downlink FCV (FCB meaningful); reserved uplink
  uint8_t func = 0;      // function code 0..15
  uint8_t Byte() const;
  static Control FromByte(uint8_t b);
};

// SEQ: TpV, FIR, FIN, CON and the 4-bit PSEQ/RSEQ.
struct Seq {
  bool tpv = false;
  bool fir = true;
  bool fin = true;
  bool con = false;
  uint8_t seq = 0;  // 0..15
  uint8_t Byte() const;
  static Seq FromByte(uint8_t b);
};

// Tp: the initiator's frame counter, the send time (A.16, day-of-month precision) and the
// allowed delay in minutes (0 = do not check).
struct TimeTag {
  uint8_t pfc = 0;
  uint8_t second = 0, minute = 0, hour = 0, day = 1;
  uint8_t delay_minutes = 0;
};

// EC: event counters, in uplink frames with ACD = 1.
struct EventCounter {
  uint8_t important = 0;  // EC1
  uint8_t normal = 0;     // EC2
};

// One (pn, Fn) of a frame with its data bytes (request data such as a Td_d, or reply data).
struct Item {
  uint16_t pn = 0;  // 0 = the terminal itself (p0)
  uint16_t fn = 0;  // 1..248
  Bytes data;       // may be empty
};

// One data unit identifier DA+DT with the items it covers, pn ascending (outer), Fn ascending
// (inner): a decoded group has exactly one item per (pn, Fn) its DA/DT names, each with its data
// bytes (empty for a request without data). A reply leaves out the (pn, Fn) the terminal has no
// data for by clearing that DT bit: the DT, `fns` and `items` then do not name it. DA = FF 00 (all
// valid points) has an empty `pns` and all_points = true; its items carry pn kAllPoints (one per
// Fn). A DA or DT with no bit set (decoded with a warning) has no items.
// AFN00 F3 (per-unit confirm) is a group (p0, F3) without items; its data is Frame::confirm.
// Encode accepts `items` empty (every item without data) or exactly one item per (pn, Fn), and
// checks each item's data against ItemLength where the codec knows the Fn.
struct Group {
  uint8_t da1 = 0, da2 = 0, dt1 = 0, dt2 = 0;  // as on the wire
  bool all_points = false;
  std::vector<uint16_t> pns;  // expanded from DA, ascending
  std::vector<uint16_t> fns;  // expanded from DT, ascending
  std::vector<Item> items;
};

// Builds a group for points of one DA group (pn 1..8, 9..16, ...) and Fns of one DT group
// (F1..F8, F9..F16, ...). InvalidArgument when they are not (or pn > 2040, Fn not in 1..248).
// p0: pns = {0}; all points: pns = {kAllPoints}. Duplicates are ignored. Items are not filled in:
// append them in pn-major, Fn-minor order (the Make* builders below fill in empty items for a
// group left without).
Result<Group> MakeGroup(const std::vector<uint16_t>& pns, const std::vector<uint16_t>& fns);
// Splits any set of points into as few DA groups as possible, each with the one Fn and the same
// request data per item (e.g. a Td_d); the result can be put in one frame. A pn that cannot be
// encoded (> 2040) or an Fn out of range gives a group that Encode rejects, naming it.
std::vector<Group> GroupsFor(const std::vector<uint16_t>& pns, uint16_t fn, const Bytes& data);

struct Frame {
  Control c;
  Address a;
  uint8_t afn = 0;
  Seq seq;
  std::vector<Group> groups;
  // AFN00 F3 (per-unit confirm/deny) has no items: its data is the confirmed AFN and a list of
  // {DA, DT, ERR}. Decoded into `confirm` (and encoded from it when set).
  // pn and fn: the first the DA/DT names (0 when none). Encode writes da1..dt2 as they are when
  // dt1 != 0 (a decoded unit), and otherwise the DA/DT of (pn, fn).
  struct UnitResult {
    uint16_t pn = 0;
    uint16_t fn = 0;
    uint8_t da1 = 0, da2 = 0, dt1 = 0, dt2 = 0;
    uint8_t err = 0;  // 0 = confirmed, 1 = error
  };
  struct PerUnitConfirm {
    uint8_t afn = 0;
    std::vector<UnitResult> units;
  };
  std::optional<PerUnitConfirm> confirm;
  Bytes padding;  // tolerated bytes counted in L after the last unit (non-canonical; re-encoded)
  std::optional<EventCounter> ec;
  std::optional<std::array<uint8_t, 16>> pw;
  std::optional<TimeTag> tp;
  std::vector<std::string> warnings;  // tolerated deviations, for logs and `frame decode`

  // The first item with this Fn (any pn), or nullptr.
  const Item* Find(uint16_t fn) const;
};

// ---- Framing ----

// Finding a frame in a byte stream (a TCP connection's buffer).
struct Scan {
  enum Kind { kFrame, kNeedMore, kSkip } kind = kNeedMore;
  size_t length = 0;   // kFrame: the frame's length from the start; kSkip: bytes to drop
  std::string reason;  // kSkip: why ("no 68H", "L1 != L2", "checksum", "too long", "no 16H")
};
// Looks at the start of `buf`: a whole frame (both 68H, equal L fields, protocol bits 01 or 10,
// length within `max_frame`, 16H at the end, right checksum), a prefix of one (kNeedMore), or
// bytes to drop to resynchronise on the next 68H (kSkip, never 0 bytes).
Scan ScanFrame(ByteSpan buf, size_t max_frame = kMaxFrame);

// Decodes one whole frame (exactly `frame`, as ScanFrame delimited it). Errors are
// InvalidArgument naming the offset and field: "offset 14: DT2 42 is not a valid Fn group".
// The data is split into items with ItemLength; item values are decoded by the functions below.
// An item of an Fn the codec does not know takes the rest of the data if it is the last item,
// and is an error otherwise. Linear in the frame's length; allocates at most a constant times it.
Result<Frame> Decode(ByteSpan frame);
// Encodes: L (twice, protocol 10b), C, A, AFN, SEQ (TpV from tp), groups or confirm, padding,
// EC (uplink, when ACD is set), PW (when AfnHasPw), Tp, CS, 16H. InvalidArgument when the frame
// cannot be encoded (pn > 2040, user data > kMaxUserData, EC without ACD, PW missing, DA/DT not
// matching pns/fns, an item's data not of its Fn's length...). Decode(Encode(f)) gives f back.
Result<Bytes> Encode(const Frame& f);

// ---- Appendix A data formats (format numbers as the Fn tables cite them: A.14 = 数据格式14) ----

// A.15 (mm hh DD MM YY) and friends; fields not in a format stay at their defaults.
struct MinuteTime {
  int year = 2000, month = 1, day = 1, hour = 0, minute = 0;
  auto operator<=>(const MinuteTime&) const = default;
};
// A.1 (ss mm hh DD WM YY): terminal clock, time sync.
struct ClockTime {
  int year = 2000, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int weekday = 0;  // 1..7 (Monday 1), 0 = not given
};
// A fixed-point measured value (not money, not billed energy): units × 10^-scale.
struct Fixed {
  int64_t units = 0;
  int scale = 0;
  std::string ToString() const;  // "-12.345"
  auto operator<=>(const Fixed&) const = default;
};

// Encoding values (all Encode* functions below): a missing value (nullopt) is written as EEH.
// Energy registers wrap modulo the format's range as a meter register does (A.14 at
// 1 000 000 kWh, A.11 at 1 000 000.00, A.13 at 10 000.0000); a negative register is written as
// missing. A Fixed value is rounded half away from zero to the format's decimals; one outside
// the format's range is written as missing. Times outside the format (a year before 2000 or
// after 2099) are written as missing.

// ---- Data units used by the master station (request builders and reply decoders) ----

// AFN0C F129..F136 (current indications), AFN0D F161..F168 (daily frozen), F177..F184 (monthly
// frozen): total + M rates. Active: A.14 (4 decimals); reactive: A.11 (2 decimals).
struct Indication {
  MinuteTime reading_time;                    // the terminal's reading time (抄表时间)
  int rates = 0;                              // M
  std::vector<std::optional<Energy>> values;  // M + 1: total, rate 1..M (尖峰平谷 for M = 4)
};
// AFN0C F33/F34 (and after Td_d in AFN0D F1/F2, after Td_m in F17/F18): one reading time and M,
// then four indications of M + 1 values: F33 forward active (A.14), forward reactive, Q1, Q4
// (A.11); F34 reverse active (A.14), reverse reactive, Q2, Q3 (A.11).
struct IndicationSet {
  MinuteTime reading_time;
  int rates = 0;
  std::array<std::vector<std::optional<Energy>>, 4> values;  // each M + 1
};
struct DailyIndication {  // AFN0D F161..F168
  Date day;               // Td_d: the day frozen (at 24:00 of it)
  Indication value;
};
struct MonthlyIndication {  // AFN0D F177..F184
  YearMonth month;          // Td_m
  Indication value;
};
// A curve (AFN0D F73..F110, F138, F145..F148): Td_c (start, density m, count n) + n values.
struct Curve {
  MinuteTime start;
  int density_code = 1;  // 1 = 15 min, 2 = 30, 3 = 60, 254 = 5, 255 = 1
  int interval_minutes = 15;
  // Energy curves in `energy`: F97..F100 (energy quantity, A.13), F101..F104 and F145..F148
  // (indications, A.11), F75/F76 (total-add group energy, A.3). Other curves: fixed-point values
  // in `fixed`: F73/F74 A.2 (kW), F81..F88 A.9 (kW, kvar), F89..F91 A.7 (V), F92..F95 A.25 (A),
  // F105..F108 A.5 (%), F138 A.2; F109/F110 (phase angles) give 3 values per point (A, B, C).
  std::vector<std::optional<Energy>> energy;
  std::vector<std::optional<Fixed>> fixed;
};
// True for the curve Fns whose values go in Curve::energy.
bool CurveIsEnergy(uint16_t fn);
// AFN0C F25: current power, power factor, voltage, current, apparent power.
struct RealTimePower {
  MinuteTime reading_time;
  std::array<std::optional<Fixed>, 4> p, q, pf;  // total, A, B, C (kW, kvar, %)
  std::array<std::optional<Fixed>, 3> u;         // V
  std::array<std::optional<Fixed>, 4> i;         // A, B, C, zero-sequence (A)
  std::array<std::optional<Fixed>, 4> s;         // kVA
};
// AFN09 F1: terminal version information.
struct TerminalVersion {
  std::string vendor, device_id, software_version, software_date, capacity, protocol_version,
      hardware_version, hardware_date;
};
// AFN04/0A F1: terminal uplink communication parameters.
struct UplinkParams {
  int rts_20ms = 0;
  int master_delay_minutes = 0;
  int timeout_seconds = 30;  // 12 bits
  int retries = 3;           // 2 bits
  bool confirm_class1 = false, confirm_class2 = false, confirm_events = true;
  int heartbeat_minutes = 1;
};
// AFN04/0A F10: one meter of the terminal's archive (电能表/交流采样装置配置).
struct MeterArchiveEntry {
  uint16_t index = 0;  // 序号
  uint16_t pn = 0;
  int baud_code = 3;  // 0..7: 300, 600, 1200, 2400, 4800, 7200, 9600, 19200
  int port = 2;
  int protocol = 30;          // 1 = DL/T 645-1997, 30 = DL/T 645-2007, 2 = 交流采样 ...
  std::string meter_address;  // 12 digits
  std::string password;       // 12 hex digits
  int rates = 4;
  int integer_digits = 6, decimal_digits = 2;
  std::string collector_address;  // 12 digits, "000000000000" when none
  int user_class = 0, sub_class = 0;
};
// AFN0E F1/F2 reply: event records.
struct EventRecord {
  int erc = 0;
  Bytes content;  // the record after ERC and Le
  // Decoded where known (ERC1, 3, 5, 12, 13, 14, 31...): the event time and a short meaning.
  std::optional<MinuteTime> time;
  std::optional<MinuteTime> end_time;  // ERC14 power restored
  std::optional<uint16_t> pn;
  std::string meaning;  // "remote trip", "power off", ...
};
struct EventBlock {
  uint8_t ec1 = 0, ec2 = 0, pm = 0, pn = 0;  // the records are pointers Pm..Pn-1 (mod 256)
  std::vector<EventRecord> records;
};
// Event records as a terminal writes them (content filled in, then decoded like a received one).
// ERC14: power off at `off`, restored at `on` (missing while the power is still off).
EventRecord PowerOffRecord(const MinuteTime& off, const std::optional<MinuteTime>& on);
// ERC5: remote trip at `at` on control rounds `rounds` (bit map), with the power at the trip
// and 2 minutes after (A.2, kW).
EventRecord RemoteTripRecord(const MinuteTime& at, uint8_t rounds,
                             const std::optional<Fixed>& power_kw,
                             const std::optional<Fixed>& power_after_kw);
// ERC12 (meter clock drift) / ERC13 (meter fault, `flags` = 异常标志): started (or restored)
// at `at` for measurement point `pn`.
EventRecord MeterEventRecord(int erc, const MinuteTime& at, uint16_t pn, bool started,
                             uint8_t flags = 0);
// AFN10 F1 transparent forwarding.
struct ForwardRequest {
  uint8_t port = 2;
  uint8_t comm_control = 0x6B;   // 2400 bps, 8E1
  uint8_t frame_timeout = 0x8A;  // D7 unit (1 = s), value
  uint8_t byte_timeout = 0x14;   // × 10 ms
  Bytes payload;                 // e.g. a DL/T 645 frame
};
struct ForwardReply {
  uint8_t port = 0;
  Bytes payload;  // empty when the meter did not answer
};
// AFN05 F1: remote trip of a control round.
struct TripParams {
  int limit_half_hours = 0;     // 0..15, 0 = until released
  int alarm_delay_minutes = 0;  // 0..15, 0 = trip at once
};
// The one data byte of AFN05 F1 (D7-D4 limit, D3-D0 delay); values are clamped to 0..15.
uint8_t EncodeTrip(const TripParams& v);
TripParams DecodeTrip(uint8_t b);

// Decoders take exactly one item's data (Item::data) and fail with InvalidArgument naming the
// offset in it and the field ("daily indication offset 9: value 0 (A.14) byte 8F is not BCD"),
// when it is short, long, or not of its format; a value with any EEH byte is missing (nullopt).
// `active`: A.14 values (F129, F131, F161, F163, F177, F179); otherwise A.11.
Result<Indication> DecodeIndication(ByteSpan data, bool active);  // F129.. / after Td
Bytes EncodeIndication(const Indication& v, bool active);
Result<DailyIndication> DecodeDailyIndication(ByteSpan data, bool active);
Bytes EncodeDailyIndication(const DailyIndication& v, bool active);
Result<MonthlyIndication> DecodeMonthlyIndication(ByteSpan data, bool active);
Bytes EncodeMonthlyIndication(const MonthlyIndication& v, bool active);
Result<Curve> DecodeCurve(uint16_t fn, ByteSpan data);
Bytes EncodeCurve(uint16_t fn, const Curve& v);
Result<RealTimePower> DecodeRealTimePower(ByteSpan data);
Bytes EncodeRealTimePower(const RealTimePower& v);
Result<ClockTime> DecodeClock(ByteSpan data);  // A.1
Bytes EncodeClock(const ClockTime& v);
Result<TerminalVersion> DecodeTerminalVersion(ByteSpan data);
Bytes EncodeTerminalVersion(const TerminalVersion& v);
Result<UplinkParams> DecodeUplinkParams(ByteSpan data);
Bytes EncodeUplinkParams(const UplinkParams& v);
// F10 data: count (2) + entries; for a query (AFN0A) request: count + indexes.
Result<std::vector<MeterArchiveEntry>> DecodeMeterArchive(ByteSpan data);
Bytes EncodeMeterArchive(const std::vector<MeterArchiveEntry>& v);
// The AFN0A F10 request: count + the 序号 asked for.
Bytes EncodeMeterArchiveQuery(const std::vector<uint16_t>& indexes);
Result<std::vector<uint16_t>> DecodeMeterArchiveQuery(ByteSpan data);
Result<EventBlock> DecodeEvents(ByteSpan data);
Bytes EncodeEvents(const EventBlock& v);
Result<ForwardRequest> DecodeForwardRequest(ByteSpan data);
Bytes EncodeForwardRequest(const ForwardRequest& v);
Result<ForwardReply> DecodeForwardReply(ByteSpan data);
Bytes EncodeForwardReply(const ForwardReply& v);
Bytes EncodeTd(Date day);          // A.20 DD MM YY
Bytes EncodeTdMonth(YearMonth m);  // A.21 MM YY
Bytes EncodeTdCurve(const MinuteTime& start, int density_code, int points);
// Decode the first 3 / 2 / 7 bytes of `data` (a request item, or the start of a reply item).
// A missing (EEH) time tag is an error.
Result<Date> DecodeTd(ByteSpan data);
Result<YearMonth> DecodeTdMonth(ByteSpan data);
struct CurveTag {
  MinuteTime start;
  int density_code = 1;
  int interval_minutes = 15;
  int points = 0;
};
Result<CurveTag> DecodeTdCurve(ByteSpan data);
// Minutes between curve points for a density code m (1 = 15, 2 = 30, 3 = 60, 254 = 5,
// 255 = 1); InvalidArgument for 0 (no freeze) and the reserved codes.
Result<int> CurveIntervalMinutes(int density_code);
// A.15 (mm hh DD MM YY) on its own, for other data units; missing = EEH.
Bytes EncodeMinuteTime(const std::optional<MinuteTime>& t);
Result<std::optional<MinuteTime>> DecodeMinuteTime(ByteSpan data);
Result<IndicationSet> DecodeIndicationSet(ByteSpan data);
Bytes EncodeIndicationSet(const IndicationSet& v);

// The length of one item's data at the start of `rest`, for splitting a frame's data into
// items: by AFN, Fn and direction (a request's F161 item is a 3-byte Td_d, a reply's is the
// Td_d plus the indication). NotFound for an Fn the codec does not know; the decoder then takes
// the rest of the data when this is the last item, and fails otherwise. InvalidArgument when
// `rest` is too short ("F161 (M = 4) needs 38 bytes, 12 left"; the caller adds the offset).
// AFN00 F3: the whole rest (the confirmed AFN and whole {DA DT ERR} units).
// Known: AFN00 F1-F3; 01 F1-F4; 02 F1-F3; 04 (down) and 0A (up) F1, F3, F10, 0A requests; 05
// F1, F2, F9-F12, F15-F20, F23-F29, F31-F39, F49-F53; 09 requests and F1 reply; 0C requests and
// F2, F25, F33, F34, F129-F136 replies; 0D requests with Td_d/Td_m/Td_c for the standard's
// groups, F1, F2, F9, F10, F17, F18, F161-F184 and the curves of Curve replies; 0E F1/F2; 10 F1.
Result<size_t> ItemLength(uint8_t afn, uint16_t fn, bool up, ByteSpan rest);

// ---- Frames the master station sends and answers ----

// Master requests (DIR 0, PRM 1; C 41 for AFN01, 4A for AFN 04/05/09/0A/10, 4B for 0C/0D/0E);
// `seq` is the PSEQ; FIR FIN, CON for AFN 01/04/05/0F/10; a Tp is added when `tp` is given. PW
// (16 × 00 unless given) where the AFN needs it. A group without items gets one empty item per
// (pn, Fn), as Decode gives them.
Frame MakeRequest(Address a, uint8_t afn, uint8_t seq, std::vector<Group> groups,
                  std::optional<TimeTag> tp = std::nullopt,
                  std::optional<std::array<uint8_t, 16>> pw = std::nullopt);
// The response frame to `request` (DIR flipped, PRM 0, C 88 for data or 80 for AFN00 from a
// terminal, 0B/00 from the master; same A and SEQ number, FIR FIN; Tp echoed), with `groups`.
Frame MakeResponse(const Frame& request, uint8_t afn, std::vector<Group> groups);
// AFN00 F1 (all confirmed) / F2 (all denied) answering `request`.
Frame MakeConfirm(const Frame& request);
Frame MakeDeny(const Frame& request);
// Terminal link frames (AFN02 F1 login, F2 logout, F3 heartbeat), C9, MSA 0, CON.
Frame MakeLink(TerminalKey k, uint16_t fn, uint8_t seq);

}  // namespace gridmis::acquisition::gdw1376
