// per_mount: the follow-up a bind needs for its per-mount flags, and the
// flags in force on a mount. Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_PER_MOUNT_H_
#define LINX_MOUNT_INTERNAL_PER_MOUNT_H_

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// statvfs(3) f_flag bits of the mount holding `path` as MS_* per-mount bits
// (MS_RDONLY, MS_NOSUID, ..., MS_NOSYMFOLLOW); the errno of statvfs on
// failure.
std::variant<unsigned long, int> PerMountFlagsInForce(const std::string& path);

// ST_* mount flags (statvfs(3) f_flag, statfs(2) f_flags: the same bits) as
// MS_* per-mount bits. Pure: the forked child (forked.cc) calls it too.
unsigned long PerMountBitsOfSt(unsigned long st_flags);

// The MS_REMOUNT | MS_BIND flags that set `per_mount` on a mount whose
// per-mount flags in force are `in_force` without clearing any (so locked
// flags stay; atime in force is kept only when `per_mount` asks for none).
// Pure, for the same reason. per_mount.cc has the kernel rules.
unsigned long RemountBindFlags(unsigned long per_mount, unsigned long in_force);

// Applies `bind.per_mount` to the bind just made at `bind.target` (and, with
// `bind.rec`, to every mount below it). See the comments in per_mount.cc for
// the kernel rules (locked flags, mount_setattr(2), the submount walk).
absl::Status ApplyPerMount(const Plan& plan, const BindPlan& bind);

// A recursive remount of per-mount flags: the per-mount flags of the mount
// at `target` and of every mount below it become `per_mount` (atime kept
// when none is given): mount_setattr(AT_RECURSIVE) with attr_clr the
// per-mount flags not asked for (5.12+), else MS_REMOUNT|MS_BIND|per_mount
// on each mount of the tree, top first.
absl::Status RemountTree(const Plan& plan, const std::string& target,
                         unsigned long per_mount);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_PER_MOUNT_H_
