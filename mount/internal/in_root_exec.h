// in_root_exec: a plan whose paths an untrusted image controls. Every such
// path is resolved inside the root once (mount/in_root.h), the verb acts on
// the descriptor, the result is checked to lie inside the root, and what
// failed midway is undone. Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_IN_ROOT_EXEC_H_
#define LINX_MOUNT_INTERNAL_IN_ROOT_EXEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mount/command.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// Runs `plan` (plan.root set) on the calling thread, which is already in
// the target namespace:
//   new mount: ResolveInRoot(target, mkdir/create) → fsopen/fsconfig/fsmount
//     → move_mount(mnt, "", target_fd, "", F|T_EMPTY_PATH) (5.2+; before:
//     mount(2) onto /proc/thread-self/fd/N) → propagation on the new mount;
//   bind: the source tree (open_tree of the caller's path, or of the source
//     resolved in the root, or a tree the caller cloned) → move_mount onto
//     the target fd (a source equal to the target: the same fd, resolved
//     once) → the per-mount flags and propagation on the attached tree;
//   move: move_mount(source_fd → target_fd);
//   remount, umount (and umount -R): on /proc/thread-self/fd/N of the
//     resolved target (each submount of a tree resolved in the root again);
// then CheckInsideRoot on what was attached. Any failure after something
// was attached detaches it and removes what the resolver created.
// Appends to `undo` (may be null) what a new mount, bind or move left.
absl::Status ExecInRoot(const Plan& plan, std::vector<UndoRecord>* undo);

// The ID of the mount at `path` now, as statx(2) reports it for the top
// mount there (the unique 64-bit ID on 6.8+, else the 32-bit one): `path`
// resolved inside `root_fd` (mount/in_root.h) when root_fd >= 0, else
// normally from the calling thread's root. 0 when the kernel reports no
// mount ID (before 5.8) or the path does not resolve. UndoRecord::mount_id.
uint64_t MountIdAt(int root_fd, const std::string& path);

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_IN_ROOT_EXEC_H_
