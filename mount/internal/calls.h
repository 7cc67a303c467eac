// calls: the syscalls of each plan, on the calling thread (already in the
// right namespace). A call that made a new mount and then fails a follow-up
// undoes it (umount2(MNT_DETACH)) and removes a placeholder it created.
// Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_CALLS_H_
#define LINX_MOUNT_INTERNAL_CALLS_H_

#include <string>

#include "absl/status/status.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// Detaches the mount at `target` (umount2(MNT_DETACH)) after `failure`,
// removes a placeholder this call `created`, and says so in the message.
absl::Status UndoAfter(const absl::Status& failure, const std::string& target,
                       bool created);

// The propagation call, mount(NULL, target, NULL, propagation, NULL), when
// `propagation` is not 0.
absl::Status ApplyPropagation(const Plan& plan, const std::string& target,
                              unsigned long propagation);

absl::Status ExecMount(const Plan& plan, const NewMountPlan& p);
absl::Status ExecBind(const Plan& plan, const BindPlan& p);
absl::Status ExecMove(const Plan& plan, const MovePlan& p);
absl::Status ExecRemount(const Plan& plan, const RemountPlan& p);
// One umount2(2) call; `p.recursive` is the executor's business.
absl::Status ExecUmount(const Plan& plan, const UmountPlan& p);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_CALLS_H_
