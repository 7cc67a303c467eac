// What the line grammar (mountinfo/parse_lines.cc) lends the rest of the
// package. Private to mountinfo/.
#ifndef LINX_MOUNTINFO_INTERNAL_PARSE_LINES_H_
#define LINX_MOUNTINFO_INTERNAL_PARSE_LINES_H_

#include <cstddef>

namespace linx::mountinfo_internal {

// Decodes `\NNN` in place; returns the new length. Only `\` + exactly three
// octal digits with a value in 1..255 is an escape (see mountinfo.h).
size_t DecodeInPlace(char* s, size_t n);

}  // namespace linx::mountinfo_internal

#endif  // LINX_MOUNTINFO_INTERNAL_PARSE_LINES_H_
