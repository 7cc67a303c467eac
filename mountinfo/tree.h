// tree: the mount table drawn as a tree (`linx list --tree`, like findmnt's
// default output), and the propagation column. One entry as JSON (`linx find
// --json`, `linx watch --json`) is AppendMountJson in mountinfo/format.h.
//
//   ASSIGN_OR_RETURN(std::vector<linx::MountInfo> t, linx::ListMounts());
//   std::string out;
//   linx::AppendMountTree(t, &out);
//
//   TARGET            SOURCE  FSTYPE  PROPAGATION  OPTIONS
//   /                 /dev/sda1 ext4  shared:1     rw,relatime
//   ├─/proc           proc    proc    private      rw,nosuid,nodev,noexec
//   │ └─/proc/sys/fs/binfmt_misc ...
//   └─/tmp            tmpfs   tmpfs   private      rw
//
// Pure functions: no I/O, thread-safe; they only append to `out`.
#ifndef LINX_MOUNTINFO_TREE_H_
#define LINX_MOUNTINFO_TREE_H_

#include <string>

#include "absl/types/span.h"
#include "mountinfo/mountinfo.h"

namespace linx {

// Appends a header line and one line per entry, indented under its parent
// with box-drawing branches (UTF-8 "├─", "└─", "│ "). Roots are the entries
// whose parent is not in the table (or is themselves), in table order;
// children follow their parent in table order. An entry caught in a parent
// cycle (only possible in a hand-made table) is printed as a root once.
// Columns TARGET SOURCE FSTYPE PROPAGATION OPTIONS (vfs options) are padded
// to the widest value (at most kMaxPaddedColumn, mountinfo/format.h); bytes
// that would break the layout (blanks, control bytes, backslash, '#') are
// shown as the kernel's octal escapes (`\040`). Indentation stops growing
// below kMaxTreeIndent levels (deeper entries are drawn at that depth), so a
// hostile parent chain a million mounts deep costs output linear in its
// length, not quadratic.
inline constexpr size_t kMaxTreeIndent = 32;
void AppendMountTree(absl::Span<const MountInfo> table, std::string* out);

}  // namespace linx

#endif  // LINX_MOUNTINFO_TREE_H_
