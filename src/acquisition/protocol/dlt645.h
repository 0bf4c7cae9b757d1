// DL/T 645-2007 multi-function meter protocol (with the DL/T 645-1997 read): frames, the data
// identifiers the master station uses, and their values. Pure, like gdw1376.h; the same rules
// for untrusted input (bounds-checked, errors name the offset and field, EEH/missing = nullopt).
// Used on its own (a meter on a serial port or TCP) and inside Q/GDW 1376.1 AFN10 forwarding.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/status.h"

namespace gridmis::acquisition::dlt645 {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline constexpr size_t kMaxData = 255;

// Control codes (D4-D0).
enum Func : uint8_t {
  kBroadcastTime = 0x08,
  kRead = 0x11,
  kReadFollow = 0x12,
  kReadAddress = 0x13,
  kWrite = 0x14,
  kWriteAddress = 0x15,
  kFreeze = 0x16,
  kChangeBaud = 0x17,
  kChangePassword = 0x18,
  kClearDemand = 0x19,
  kClearMeter = 0x1A,
  kClearEvents = 0x1B,
  kControl = 0x1C,  // trip / permit close / alarm / keep power
  kRead1997 = 0x01,
};

struct Frame {
  std::string address = "000000000000";  // 12 digits, most significant first (A5..A0);
                                         // "999999999999" broadcast, "AAAAAAAAAAAA" wildcard
  bool up = false;                       // D7: meter → master
  bool abnormal = false;                 // D6: error reply (one ERR byte)
  bool follow = false;                   // D5: more frames follow
  uint8_t func = 0;                      // D4-D0
  Bytes data;                            // without the +33H
  int leading_fe = 0;                    // wake-up bytes seen (decode) / to send (encode)
  uint8_t ControlByte() const;
};

// A meter address as Frame::address holds it: 12 hex digits (BCD digits, or AAH wildcard
// bytes), most significant first. InvalidArgument naming the bad character otherwise.
Status CheckAddress(const std::string& address);

// Like gdw1376::ScanFrame: FE bytes and garbage before 68H are skipped (kSkip), a prefix is
// kNeedMore, a whole frame (68 A 68 C L data CS 16, CS right) is kFrame with its length
// including leading FE bytes.
struct Scan {
  enum Kind { kFrame, kNeedMore, kSkip } kind = kNeedMore;
  size_t length = 0;
  std::string reason;
};
// More than kMaxLeadingFe FE bytes in a row are skipped down to 4 (kSkip).
inline constexpr int kMaxLeadingFe = 16;
Scan ScanFrame(ByteSpan buf);
// Exactly one frame (as ScanFrame delimited it); leading FE allowed. InvalidArgument naming the
// offset and field: "offset 15: checksum 9E, computed 9F".
Result<Frame> Decode(ByteSpan frame);
// leading_fe × FE, then the frame. Preconditions (our own frames): CheckAddress(f.address) is OK
// and f.data.size() <= kMaxData; EncodeChecked says so as a Status instead (for typed-in input).
Bytes Encode(const Frame& f);
Result<Bytes> EncodeChecked(const Frame& f);

// The ERR byte of an abnormal reply, in words: "no requested data", "password error / not
// authorised", ... joined by ", ".
std::string ErrorText(uint8_t err);

// ---- Requests ----
Frame MakeRead(const std::string& address, uint32_t di);
// Broadcast time sync (no reply): ss mm hh DD MM YY.
Frame MakeBroadcastTime(int year, int month, int day, int hour, int minute, int second);
Frame MakeReadAddress();
// DL/T 645-1997 read (C = 01, 2-byte DI such as 0x9010).
Frame MakeRead1997(const std::string& address, uint16_t di);
enum class ControlAction : uint8_t {
  kTrip = 0x1A,
  kPermitClose = 0x1B,
  kDirectClose = 0x1C,  // later amendments: close at once
  kAlarm = 0x2A,
  kAlarmOff = 0x2B,
  kKeepPower = 0x3A,
  kKeepPowerOff = 0x3B,
};
// Plain-text control (test meters, simulators): PA P0..P2, C0..C3, N1, N2, N3..N8 (valid until,
// ss mm hh DD MM YY).
struct ControlParams {
  uint8_t password_level = 0x02;
  uint32_t password = 0;  // 3 bytes
  uint32_t operator_code = 0;
  ControlAction action = ControlAction::kTrip;
  int valid_year = 2099, valid_month = 12, valid_day = 31, valid_hour = 23, valid_minute = 59,
      valid_second = 59;
};
Frame MakeControl(const std::string& address, const ControlParams& p);
Result<ControlParams> DecodeControl(const Frame& request);

// ---- Replies ----
// A normal reply to a read: the DI and its value bytes; an abnormal one: the ERR byte.
// A read-address reply (93H) comes back as DI 04000401 with the 6 address bytes; a 1997 reply
// (81H) with its 2-byte DI; a read-follow-up reply (92H) without its trailing SEQ byte.
struct ReadReply {
  uint32_t di = 0;
  Bytes value;
};
// FailedPrecondition "meter error reply: no requested data" for an abnormal reply;
// InvalidArgument for a frame that is not a read reply or is too short.
Result<ReadReply> DecodeReadReply(const Frame& reply);
// The reply a meter sends to `request` (for simulators): normal with `value` bytes, or abnormal.
Frame MakeReadReply(const Frame& request, const Bytes& value);
Frame MakeErrorReply(const Frame& request, uint8_t err);
Frame MakeControlReply(const Frame& request);  // 9C, L = 0

// ---- Data identifiers (DI3 DI2 DI1 DI0 as a number: 0x00010000) ----
// How the bytes of one value read (wire order is low byte first throughout).
enum class DiFormat : uint8_t {
  kNumber,       // BCD with `decimals`; is_signed: D7 of the high byte is the sign
  kEnergy,       // kNumber of 4 bytes, 2 decimals, kWh/kvarh/kVAh (DecodeEnergies)
  kDemand,       // XX.XXXX (3) + occurrence YYMMDDhhmm (5)
  kDateWeek,     // YYMMDDWW (wire WW DD MM YY), WW 0 = Sunday
  kTime,         // hhmmss (wire ss mm hh)
  kMinuteTime,   // YYMMDDhhmm (wire mm hh DD MM YY)
  kDigits,       // NNNNNNNNNNNN: 6 bytes as 12 digits (address, meter number)
  kSwitchEvent,  // trip/close record: YYMMDDhhmmss, operator C0..C3, energies (DecodeSwitchEvent)
};
struct DiInfo {
  uint32_t di = 0;
  const char* name = "";  // "forward active energy, total" (static storage)
  const char* unit = "";  // "kWh", "V", ...
  int bytes = 0;          // of one value
  int decimals = 0;
  bool is_signed = false;
  int count = 1;  // values in a block (0001FF00: total + rates → 0 = as many as sent)
  DiFormat format = DiFormat::kNumber;
};
// The DIs of docs/protocols.md §3.3 and their families: energies 00xxxxxx (types 00..0A, total,
// rates 1..63, FF block; current and last 1..12 settlement days), max demand 01xxxxxx (same
// pattern), instantaneous values 02xxxxxx (voltage, current, power, PF, angle, frequency,
// temperature, battery), date/time/address/meter number 0400xxxx, daily freeze 0506xxxx (time,
// energies, demand; last 1..62), trip/close events 1D/1E (count, last 1..10 records), and the
// DL/T 645-1997 DIs 9010/9020/901F/9110/B61x/B62x/B630/B650/C010/C011/C032.
// NotFound for a DI this codec does not know. Thread-safe.
Result<DiInfo> LookupDi(uint32_t di);
// Energies (XXXXXX.XX): each value of the reply, nullopt where the bytes are EEH/FFH.
// InvalidArgument for a DI that is not an energy, a length that is not a whole number of values,
// or a byte that is not BCD.
Result<std::vector<std::optional<Energy>>> DecodeEnergies(uint32_t di, ByteSpan value);
// 4 bytes each (plain, before +33H); nullopt → EE EE EE EE. Unsigned registers: a value is
// rounded to 0.01 kWh and wraps at 1,000,000 kWh (as a meter register rolls over); negative
// values are written with the sign bit (combined energies), magnitude below 800,000 kWh.
Bytes EncodeEnergies(const std::vector<std::optional<Energy>>& v);
// Any known DI as text values ("220.1", "-5.123", "2024-03-15", "10:30:00", "2024-03-15 00:00",
// "000000000001"), one per value of a block, nullopt where the bytes are EEH/FFH; a demand reads
// "1.2345 at 2024-03-15 10:30", an event record as DecodeSwitchEvent's Text(). For `frame decode`.
Result<std::vector<std::optional<std::string>>> DecodeValueText(uint32_t di, ByteSpan value);
// The inverse for the simple formats (number, energy, date, time, minute time, digits): the text
// of each value (nullopt → EEH), for simulators and tests. InvalidArgument naming the value for
// text that does not fit the format, or for a demand or event DI.
Result<Bytes> EncodeValueText(uint32_t di, const std::vector<std::optional<std::string>>& values);

// A trip (1D00010n) or close (1E00010n) event record: occurrence time YYMMDDhhmmss, operator
// code C0..C3, then forward active, reverse active and quadrant I..IV reactive total energies
// at the time (XXXXXX.XX each, 34 bytes in all). A shorter record (some meters stop after the
// operator code) leaves the energies missing.
struct SwitchEvent {
  std::optional<std::string> time;  // "2024-03-15 10:30:00"
  uint32_t operator_code = 0;
  std::optional<Energy> forward_active, reverse_active;
  std::array<std::optional<Energy>, 4> reactive;  // quadrants I..IV
  std::string Text() const;
};
Result<SwitchEvent> DecodeSwitchEvent(ByteSpan value);

}  // namespace gridmis::acquisition::dlt645
