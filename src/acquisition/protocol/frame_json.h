// Any captured frame (Q/GDW 1376.1 or DL/T 645) as JSON, for `gridmis frame decode`, the
// communication log of the console and the REST API; and hex text in and out.
//
// FrameToJson never throws and never fails: a frame that does not decode comes back as
// {"protocol": ..., "hex": ..., "error": "offset 12: ..."}; an item of a good frame that does not
// decode carries its own "error" beside its raw "hex". Strings taken from the frame (vendor codes,
// version texts) keep valid UTF-8 and get "\xNN" for control characters and invalid bytes, so
// the result always serialises (json::dump never throws on it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace gridmis::acquisition::protocol {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

enum class FrameKind { kGdw1376, kDlt645, kUnknown };
// By shape: 68 L L 68 with equal L fields → 1376.1; [FE..] 68 A(6) 68 → 645; else unknown.
FrameKind DetectFrame(ByteSpan frame);

// The whole decoded frame. Top-level keys:
//   protocol ("Q/GDW 1376.1" | "DL/T 645-2007" | "unknown"), length, hex, and either error or
//   1376.1: control {byte, dir, prm, fcb|acd, fcv, func, func_name}, address {terminal, area,
//     a2, msa, group}, afn, afn_name, seq {byte, tpv, fir, fin, con, seq}, groups [{da, dt, pns,
//     fns, all_points, items [{pn, fn, name, length, hex, data | error}]}], confirm, padding,
//     aux {ec, pw, tp}, warnings;
//   645: leading_fe, address, control {byte, dir, abnormal, follow, func, func_name}, l, data
//     (hex, without +33H) and what the function means: di, di_name, unit, values, err, ...
// `depth` limits recursion into forwarded frames (AFN10 carrying a 645 frame).
nlohmann::json FrameToJson(ByteSpan frame, int depth = 2);

// "68 32 00 ..." (uppercase, one space between bytes).
std::string Hex(ByteSpan bytes);
// Hex digits in pairs; spaces, tabs, colons and line ends between bytes are ignored. The error
// names the character position (1-based): "hex: character 7 'G' is not a hex digit".
Result<Bytes> ParseHex(std::string_view text);

}  // namespace gridmis::acquisition::protocol
