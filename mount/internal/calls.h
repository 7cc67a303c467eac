// calls: the syscalls of each plan, on the calling thread (already in the
// right namespace). A call that made a new mount and then fails a follow-up
// undoes it (umount2(MNT_DETACH)) and removes a placeholder it created.
// Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_CALLS_H_
#define LINX_MOUNT_INTERNAL_CALLS_H_

#include "absl/status/status.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

absl::Status ExecMount(const Plan& plan, const NewMountPlan& p);
absl::Status ExecBind(const Plan& plan, const BindPlan& p);
absl::Status ExecMove(const Plan& plan, const MovePlan& p);
absl::Status ExecRemount(const Plan& plan, const RemountPlan& p);
// One umount2(2) call; `p.recursive` is the executor's business.
absl::Status ExecUmount(const Plan& plan, const UmountPlan& p);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_CALLS_H_
