// utf8: strict UTF-8 validation (RFC 3629), one definition for the JSON
// parser and quoter (base/json) and the mount table's JSON output
// (mountinfo/format). Header-only: format calls it per non-ASCII byte.
#ifndef LINX_BASE_UTF8_H_
#define LINX_BASE_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace linx {

// The length of the valid UTF-8 sequence at the start of `s` (1..4), or 0
// when it is not valid or `s` is empty (RFC 3629: no overlongs, no UTF-16
// surrogates, nothing above U+10FFFF).
inline size_t Utf8SequenceLength(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (n == 0) return 0;
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace linx

#endif  // LINX_BASE_UTF8_H_
