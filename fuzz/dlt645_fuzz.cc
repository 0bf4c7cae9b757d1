// libFuzzer target for the DL/T 645 codec: ScanFrame over the input as a stream, Decode (and
// Encode(Decode(x)) == x: the frame codec loses nothing), the read-reply and control decoders,
// and every value decoder for the DIs of the table on the reply's value and on the raw input,
// with the text round trip (EncodeValueText ∘ DecodeValueText is idempotent).
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "acquisition/protocol/dlt645.h"

namespace {

namespace d = gridmis::acquisition::dlt645;
using d::Bytes;
using d::ByteSpan;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "dlt645_fuzz: %s\n", what);
  std::abort();
}

constexpr uint32_t kDis[] = {
    0x00000000, 0x00010000, 0x00010100, 0x0001FF00, 0x00020000, 0x0003FF01, 0x01010000, 0x0101FF00,
    0x02010100, 0x0201FF00, 0x02020100, 0x0202FF00, 0x02030000, 0x0203FF00, 0x02060000, 0x02800002,
    0x02800007, 0x0280000A, 0x04000101, 0x04000102, 0x04000401, 0x05060001, 0x05060101, 0x05060901,
    0x1D000001, 0x1D000101, 0x1E000102, 0x9010,     0x901F,     0xB611,     0xC010,     0xC011,
};

void Values(uint32_t di, ByteSpan value) {
  auto text = d::DecodeValueText(di, value);
  (void)d::DecodeEnergies(di, value);
  (void)d::DecodeSwitchEvent(value);
  if (!text.ok()) return;
  auto enc = d::EncodeValueText(di, *text);
  if (!enc.ok()) {
    // Demand and event records have no text encoding; every other decoded text re-encodes.
    auto info = d::LookupDi(di);
    if (info.ok() && value.size() + 4 <= d::kMaxData && info->format != d::DiFormat::kDemand &&
        info->format != d::DiFormat::kSwitchEvent) {
      std::fprintf(stderr, "%s\n", enc.status().message().c_str());
      Fail("a decoded value text does not encode");
    }
    return;
  }
  auto text2 = d::DecodeValueText(di, *enc);
  if (!text2.ok()) {
    std::fprintf(stderr, "%s\n", text2.status().message().c_str());
    Fail("EncodeValueText's output does not decode");
  }
  auto enc2 = d::EncodeValueText(di, *text2);
  if (!enc2.ok() || *enc2 != *enc) Fail("value text round trip is not idempotent");
  auto energies = d::DecodeEnergies(di, value);
  if (energies.ok()) {
    Bytes e = d::EncodeEnergies(*energies);
    auto back = d::DecodeEnergies(di, e);
    if (!back.ok()) Fail("EncodeEnergies' output does not decode");
  }
}

void FrameChecks(ByteSpan frame) {
  auto f = d::Decode(frame);
  if (!f.ok()) return;
  Bytes again = d::Encode(*f);
  if (again.size() != frame.size() || !std::equal(again.begin(), again.end(), frame.begin())) {
    Fail("Encode(Decode(x)) != x");
  }
  auto reply = d::DecodeReadReply(*f);
  if (reply.ok()) Values(reply->di, reply->value);
  auto control = d::DecodeControl(*f);
  if (control.ok()) {
    auto back = d::DecodeControl(d::MakeControl(f->address, *control));
    if (!back.ok()) Fail("MakeControl's output does not decode");
  }
  (void)d::ErrorText(f->data.empty() ? 0 : f->data[0]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  size_t pos = 0;
  while (pos < size) {
    auto s = d::ScanFrame(in.subspan(pos));
    if (s.kind == d::Scan::kNeedMore) break;
    if (s.length == 0 || s.length > size - pos) Fail("ScanFrame length out of the buffer");
    if (s.kind == d::Scan::kFrame) {
      if (!d::Decode(in.subspan(pos, s.length)).ok()) Fail("ScanFrame's frame does not decode");
      FrameChecks(in.subspan(pos, s.length));
    }
    pos += s.length;
  }
  FrameChecks(in);
  if (size > 0) Values(kDis[data[0] % (sizeof kDis / sizeof kDis[0])], in.subspan(1));
  return 0;
}
