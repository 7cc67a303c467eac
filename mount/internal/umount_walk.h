// umount_walk: a whole tree unmounted deepest first (UmountTree, umount -R).
// Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_UMOUNT_WALK_H_
#define LINX_MOUNT_INTERNAL_UMOUNT_WALK_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// Unmounts the mount at `p.target` and everything below it, on the calling
// thread (already in the right namespace), each mount by `umount_one` with a
// plan for that mount alone. mount/umount_tree.h has the order, the retries
// and the errors.
absl::Status UmountTreeHere(
    const Plan& plan, const UmountPlan& p,
    absl::FunctionRef<absl::Status(const Plan&)> umount_one);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_UMOUNT_WALK_H_
