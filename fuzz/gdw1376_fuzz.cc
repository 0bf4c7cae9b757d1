// libFuzzer target for the Q/GDW 1376.1 codec: ScanFrame over the input as a stream, Decode of
// the input and of every frame found, Encode of what decoded (and the round trip: Encode ∘ Decode
// is the identity on encoder output), and every Appendix A data decoder on each item's data and
// on the raw input, each with its own round trip. Any crash, sanitizer report or broken round
// trip aborts.
#include <cstdio>
#include <cstdlib>

#include "acquisition/protocol/gdw1376.h"

namespace {

namespace g = gridmis::acquisition::gdw1376;
using g::Bytes;
using g::ByteSpan;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "gdw1376_fuzz: %s\n", what);
  std::abort();
}

// decode → encode → decode → encode: the two encodings agree.
template <typename DecodeFn, typename EncodeFn>
void RoundTrip(const char* what, ByteSpan data, DecodeFn decode, EncodeFn encode) {
  auto v = decode(data);
  if (!v.ok()) {
    if (v.status().message().empty()) Fail(what);
    return;
  }
  Bytes once = encode(*v);
  auto again = decode(once);
  if (!again.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, again.status().message().c_str());
    Fail("data round trip: the encoder's output does not decode");
  }
  if (encode(*again) != once) Fail("data round trip: encode(decode(encode(x))) != encode(x)");
}

void DataDecoders(uint16_t fn, ByteSpan data) {
  for (bool active : {true, false}) {
    RoundTrip(
        "indication", data, [&](ByteSpan d) { return g::DecodeIndication(d, active); },
        [&](const g::Indication& v) { return g::EncodeIndication(v, active); });
    RoundTrip(
        "daily indication", data, [&](ByteSpan d) { return g::DecodeDailyIndication(d, active); },
        [&](const g::DailyIndication& v) { return g::EncodeDailyIndication(v, active); });
    RoundTrip(
        "monthly indication", data,
        [&](ByteSpan d) { return g::DecodeMonthlyIndication(d, active); },
        [&](const g::MonthlyIndication& v) { return g::EncodeMonthlyIndication(v, active); });
  }
  RoundTrip(
      "curve", data, [&](ByteSpan d) { return g::DecodeCurve(fn, d); },
      [&](const g::Curve& v) { return g::EncodeCurve(fn, v); });
  RoundTrip("real-time power", data, g::DecodeRealTimePower, g::EncodeRealTimePower);
  RoundTrip("clock", data, g::DecodeClock, g::EncodeClock);
  RoundTrip("terminal version", data, g::DecodeTerminalVersion, g::EncodeTerminalVersion);
  RoundTrip("uplink params", data, g::DecodeUplinkParams, g::EncodeUplinkParams);
  RoundTrip("meter archive", data, g::DecodeMeterArchive, g::EncodeMeterArchive);
  RoundTrip("events", data, g::DecodeEvents, g::EncodeEvents);
  RoundTrip("forward request", data, g::DecodeForwardRequest, g::EncodeForwardRequest);
  RoundTrip("forward reply", data, g::DecodeForwardReply, g::EncodeForwardReply);
  RoundTrip("Td_d", data, g::DecodeTd, g::EncodeTd);
  for (uint8_t afn : {0x00, 0x02, 0x04, 0x05, 0x09, 0x0A, 0x0C, 0x0D, 0x0E, 0x10}) {
    for (bool up : {false, true}) {
      auto n = g::ItemLength(afn, fn, up, data);
      if (n.ok() && *n > data.size()) Fail("ItemLength beyond the data");
    }
  }
}

void FrameChecks(ByteSpan frame) {
  auto f = g::Decode(frame);
  if (!f.ok()) {
    if (f.status().message().empty()) Fail("an error without a message");
    return;
  }
  for (const auto& group : f->groups) {
    for (const auto& item : group.items) DataDecoders(item.fn, item.data);
  }
  auto enc = g::Encode(*f);
  if (!enc.ok()) return;  // not every decodable frame is canonical
  auto back = g::Decode(*enc);
  if (!back.ok()) {
    std::fprintf(stderr, "%s\n", back.status().message().c_str());
    Fail("frame round trip: Encode's output does not decode");
  }
  auto enc2 = g::Encode(*back);
  if (!enc2.ok() || *enc2 != *enc) Fail("frame round trip: Encode(Decode(Encode(f))) != Encode(f)");
  if (g::ScanFrame(*enc).kind != g::Scan::kFrame) Fail("ScanFrame refuses Encode's output");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  // The input as a TCP stream: frames and garbage.
  size_t pos = 0;
  while (pos < size) {
    auto s = g::ScanFrame(in.subspan(pos));
    if (s.kind == g::Scan::kNeedMore) break;
    if (s.length == 0 || s.length > size - pos) Fail("ScanFrame length out of the buffer");
    if (s.kind == g::Scan::kFrame) FrameChecks(in.subspan(pos, s.length));
    pos += s.length;
  }
  FrameChecks(in);
  // The data decoders on the raw input (Fn from the first byte for the curves).
  if (size > 0) DataDecoders(static_cast<uint16_t>(73 + data[0] % 38), in.subspan(1));
  return 0;
}
