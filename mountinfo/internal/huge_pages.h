// Private to //mountinfo: a transparent-huge-page hint for big buffers.
#ifndef LINX_MOUNTINFO_INTERNAL_HUGE_PAGES_H_
#define LINX_MOUNTINFO_INTERNAL_HUGE_PAGES_H_

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace linx::mountinfo_internal {

// A saved 100k-entry table is ~60 MB: asking for transparent huge pages
// before a buffer is first touched turns ~15 000 page faults into ~30
// (madvise(2) MADV_HUGEPAGE on the 2 MiB-aligned part of [data, data +
// capacity); a hint only, errors are ignored, a no-op under 4 MiB).
inline void AdviseHugePages(const void* data, size_t capacity) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (capacity < 2 * kHuge) return;
  uintptr_t b = reinterpret_cast<uintptr_t>(data);
  uintptr_t e = b + capacity;
  uintptr_t ab = (b + kHuge - 1) & ~(kHuge - 1);
  uintptr_t ae = e & ~(kHuge - 1);
  if (ae > ab) ::madvise(reinterpret_cast<void*>(ab), ae - ab, MADV_HUGEPAGE);
}

}  // namespace linx::mountinfo_internal

#endif  // LINX_MOUNTINFO_INTERNAL_HUGE_PAGES_H_
