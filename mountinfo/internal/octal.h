// Octal escapes (\ooo) as the kernel's seq_file printers write them, for a
// caller-chosen set of bytes. Private to //mountinfo.
#ifndef LINX_MOUNTINFO_INTERNAL_OCTAL_H_
#define LINX_MOUNTINFO_INTERNAL_OCTAL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linx::internal {

// `s` with every byte b for which escape(b) is true written as a backslash
// and three octal digits.
template <typename Pred>
std::string OctalEscape(absl::string_view s, Pred escape) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (escape(u)) {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + ((u >> 6) & 7)));
      out.push_back(static_cast<char>('0' + ((u >> 3) & 7)));
      out.push_back(static_cast<char>('0' + (u & 7)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace linx::internal

#endif  // LINX_MOUNTINFO_INTERNAL_OCTAL_H_
