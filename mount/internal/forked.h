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

// A proc mount with a root (InRoot) into another PID namespace: resolving
// in the root is not async-signal-safe, so the forked child does only
// fsopen("proc") — which fixes the PID namespace the proc shows — and
// leaves the context in a descriptor slot of the shared table; the plan
// then runs on a worker like any mount with a root (resolution, fsconfig,
// fsmount, move_mount onto the resolved target, the inside-root check),
// with the kernel's messages. Sets NewMountPlan::fs_context and moves the
// plan from Where::kForked to Where::kWorker; other plans are left alone.
// Errors: fsopen's (ENOSYS before Linux 5.2: this combination needs it),
// and RunInForked's stages.
absl::Status OpenForkedFsContext(Plan& plan, const Namespace& in);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_FORKED_H_
