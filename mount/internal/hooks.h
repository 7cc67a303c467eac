// Test hooks for //mount:mount. Not part of the public API: visible only
// inside the mount package (its tests flip them to reach code paths the
// running kernel would otherwise skip).
#ifndef LINX_MOUNT_INTERNAL_HOOKS_H_
#define LINX_MOUNT_INTERNAL_HOOKS_H_

namespace linx::mount_internal {

// When true, Bind/BindFromHost with kRec and a per-mount flag walk the
// submounts (MS_REMOUNT|MS_BIND on each, as on kernels before 5.12) instead
// of calling mount_setattr(2). Thread-safe (an atomic); default false.
void SetForceSubmountWalk(bool force);
bool ForceSubmountWalk();

// Forces the classic mount(2) calls where the fd-based API
// (fsopen/fsmount, open_tree + mount_setattr + move_mount) would be used:
// the tested fallback for kernels before 5.2 / 5.12.
void SetForceClassicCalls(bool force);
bool ForceClassicCalls();

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_HOOKS_H_
