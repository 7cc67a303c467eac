// pivot_root: the call and its EINVAL diagnosis. Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_PIVOT_ROOT_H_
#define LINX_MOUNT_INTERNAL_PIVOT_ROOT_H_

#include "absl/status/status.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// chdir(new_root), pivot_root(".", put_old), chdir("/"). Runs on a worker
// that has unshared CLONE_FS: the chdir cannot move the caller.
absl::Status ExecPivotRoot(const Plan& plan, const PivotRootPlan& p);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_PIVOT_ROOT_H_
