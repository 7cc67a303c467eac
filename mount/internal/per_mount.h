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

// Applies `bind.per_mount` to the bind just made at `bind.target` (and, with
// `bind.rec`, to every mount below it). See the comments in per_mount.cc for
// the kernel rules (locked flags, mount_setattr(2), the submount walk).
absl::Status ApplyPerMount(const Plan& plan, const BindPlan& bind);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_PER_MOUNT_H_
