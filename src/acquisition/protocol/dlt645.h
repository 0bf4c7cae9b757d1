// DL/T 645-2007 multi-function meter protocol (with the DL/T 645-1997 read): frames, the data
// identifiers the master station uses, and their values. Pure, like gdw1376.h; the same rules
// for untrusted input (bounds-checked, errors name the offset and field, EEH/missing = nullopt).
// Used on its own (a meter on a serial port or TCP) and inside Q/GDW 1376.1 AFN10 forwarding.
#pragma once

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
  bool up = false;        // D7: meter → master
  bool abnormal = false;  // D6: error reply (one ERR byte)
  bool follow = false;    // D5: more frames follow
  uint8_t func = 0;       // D4-D0
  Bytes data;             // without the +33H
  int leading_fe = 0;     // wake-up bytes seen (decode) / to send (encode)
  uint8_t ControlByte() const;
};

// Like gdw1376::ScanFrame: FE bytes and garbage before 68H are skipped (kSkip), a prefix is
// kNeedMore, a whole frame (68 A 68 C L data CS 16, CS right) is kFrame with its length
// including leading FE bytes.
struct Scan {
  enum Kind { kFrame, kNeedMore, kSkip } kind = kNeedMore;
  size_t length = 0;
  std::string reason;
};
Scan ScanFrame(ByteSpan buf);
Result<Frame> Decode(ByteSpan frame);  // leading FE allowed
Bytes Encode(const Frame& f);          // leading_fe × FE, then the frame

// The ERR byte of an abnormal reply, in words: "no requested data", "password error / not
// authorised", ... joined by ", ".
std::string ErrorText(uint8_t err);

// ---- Requests ----
Frame MakeRead(const std::string& address, uint32_t di);
// Broadcast time sync (no reply): ss mm hh DD MM YY.
Frame MakeBroadcastTime(int year, int month, int day, int hour, int minute, int second);
Frame MakeReadAddress();
enum class ControlAction : uint8_t {
  kTrip = 0x1A,
  kPermitClose = 0x1B,
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
struct ReadReply {
  uint32_t di = 0;
  Bytes value;
};
Result<ReadReply> DecodeReadReply(const Frame& reply);  // FailedPrecondition with ErrorText
// The reply a meter sends to `request` (for simulators): normal with `value` bytes, or abnormal.
Frame MakeReadReply(const Frame& request, const Bytes& value);
Frame MakeErrorReply(const Frame& request, uint8_t err);
Frame MakeControlReply(const Frame& request);  // 9C, L = 0

// ---- Data identifiers (DI3 DI2 DI1 DI0 as a number: 0x00010000) ----
struct DiInfo {
  uint32_t di = 0;
  const char* name = "";  // "forward active total energy"
  const char* unit = "";  // "kWh", "V", ...
  int bytes = 0;          // of one value
  int decimals = 0;
  bool is_signed = false;
  int count = 1;          // values in a block (0001FF00: total + rates → 0 = as many as sent)
};
// NotFound for a DI this codec does not know.
Result<DiInfo> LookupDi(uint32_t di);
// Energies (XXXXXX.XX): each value of the reply, nullopt where the bytes are EEH/FFH.
Result<std::vector<std::optional<Energy>>> DecodeEnergies(uint32_t di, ByteSpan value);
Bytes EncodeEnergies(const std::vector<std::optional<Energy>>& v);  // 4 bytes each
// Any known DI as text values ("220.1", "2024-03-15", "2024-03-15 00:00"), for `frame decode`.
Result<std::vector<std::optional<std::string>>> DecodeValueText(uint32_t di, ByteSpan value);

}  // namespace gridmis::acquisition::dlt645
