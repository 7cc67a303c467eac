// Test hook for //mount:in_root. Not part of the public API: visible only
// inside the mount package, so its tests can run the component walk (and
// ProcFdPath's check without openat2) on a kernel that has openat2(2).
#ifndef LINX_MOUNT_INTERNAL_IN_ROOT_HOOKS_H_
#define LINX_MOUNT_INTERNAL_IN_ROOT_HOOKS_H_

namespace linx::mount_internal {

// When true, in_root.cc behaves as on a kernel without openat2(2) (before
// 5.6): ResolveInRoot always walks components, ProcFdPath checks
// thread-self/fd by st_dev and fstatfs. Thread-safe (an atomic); default
// false.
void SetForceNoOpenat2(bool force);
bool ForceNoOpenat2();

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_IN_ROOT_HOOKS_H_
