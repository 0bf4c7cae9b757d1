// libFuzzer target for the frame JSON: FrameToJson never throws and always serialises, whatever
// the bytes (1376.1, 645 with forwarded frames inside, garbage); ParseHex and Hex on the input.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>

#include "acquisition/protocol/frame_json.h"

namespace p = gridmis::acquisition::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  p::ByteSpan in(data, size);
  try {
    nlohmann::json j = p::FrameToJson(in);
    std::string s = j.dump();
    if (!j.contains("protocol")) std::abort();
    // The hex of the frame parses back to the frame.
    auto back = p::ParseHex(p::Hex(in));
    if (!back.ok() || *back != p::Bytes(in.begin(), in.end())) std::abort();
    (void)p::ParseHex(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "frame_json_fuzz: exception %s\n", e.what());
    std::abort();
  }
  return 0;
}
