// forked: a plan run by a child forked into the target's PID namespace
// (nsexec::RunInForked): proc mounts into another namespace, and every
// mount when the namespace names its PID namespace explicitly. Private to
// mount/.
#ifndef LINX_MOUNT_INTERNAL_FORKED_H_
#define LINX_MOUNT_INTERNAL_FORKED_H_

#include "absl/status/status.h"
#include "mount/internal/plan.h"
#include "nsexec/nsexec.h"

namespace linx::mount_internal {

// Runs a NewMountPlan, BindPlan, MovePlan, RemountPlan or (one) UmountPlan
// in a child of `in`'s PID namespace (and of its user namespace when `in`
// joins it); the same calls, undo and errors as on a worker, except
// that a recursive bind's per-mount flags need mount_setattr(2) there (5.12+;
// the submount walk reads mountinfo, which a forked child may not: ENOSYS).
absl::Status RunForked(const Plan& plan, const Namespace& in);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_FORKED_H_
