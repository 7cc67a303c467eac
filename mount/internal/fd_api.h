// fd_api: the kernel's fd-based mount API (5.2+/5.12+), the main path for
// new filesystems and binds, with the classic calls as the fallback:
//   new mount: fsopen → fsconfig per option → FSCONFIG_CMD_CREATE →
//     fsmount(attributes) → move_mount: nothing is visible until it is
//     complete and carries every flag, and the kernel's own message log
//     comes back with a refusal;
//   bind: open_tree(OPEN_TREE_CLONE) → mount_setattr on the detached tree
//     → move_mount: the bind appears already read-only.
// Each syscall family is probed once per process (ENOSYS) and the
// classic calls take over with identical results. Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_FD_API_H_
#define LINX_MOUNT_INTERNAL_FD_API_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/internal/plan.h"

namespace linx::mount_internal {

// Whether a new mount takes the fsopen path: a main call without MS_BIND,
// MS_MOVE or MS_REMOUNT, no double quote in the data (the classic call
// hands quoted values to the filesystem as one string), fsopen(2) not
// known missing, and no test hook forcing the classic calls.
bool UseFsopen(const NewMountPlan& p);

// A detached, fully configured mount for `p` (source, superblock flags,
// every data option, the per-mount attributes). Where fsopen(2) is missing
// (ENOSYS, remembered for the process) sets *unsupported and returns an
// invalid fd. Errors name `plan`'s call, the failing step and the kernel's
// messages (OpError::kernel_message).
absl::StatusOr<UniqueFd> NewDetachedMount(const Plan& plan,
                                          const NewMountPlan& p,
                                          bool* unsupported);

// mount(2) data as fsconfig(2) options, split as the kernel's monolithic
// parser does: at commas outside double quotes; "key=value" → a string,
// "key" → a flag (nullopt); empty options dropped.
std::vector<std::pair<std::string, std::optional<std::string>>> SplitData(
    absl::string_view data);

// mount_setattr(tree, "", AT_EMPTY_PATH[|AT_RECURSIVE]) setting the
// per-mount MS_* bits `per_mount` (only setting: locked flags stay). Where
// mount_setattr(2) is missing (ENOSYS, remembered) sets *unsupported.
// With `userns_fd` >= 0 also MOUNT_ATTR_IDMAP with that user namespace.
absl::Status SetTreeAttrs(const Plan& plan, int tree, unsigned long per_mount,
                          bool rec, bool* unsupported, int userns_fd = -1);

// The mount_setattr(2) change that sets the per-mount MS_* bits
// `per_mount` and nothing else: their MOUNT_ATTR_* bits in attr_set, and
// the whole atime field in attr_clr when an atime mode (noatime, relatime,
// strictatime) is asked, as the kernel requires. Pure and allocation-free:
// the forked child (forked.cc) calls it too.
sys::MountAttr SetOnlyAttr(unsigned long per_mount);

// attr_set of `attr` as MOUNT_ATTR_* names for messages ("0" when none);
// an atime field cleared with no atime mode set reads MOUNT_ATTR_RELATIME
// (whose value is 0).
std::string AttrSetNames(const sys::MountAttr& attr);

// Whether mount_setattr(2) has returned ENOSYS in this process (a kernel
// before 5.12), and noting that it has: one probe serves every caller
// (binds here, recursive per-mount flags and remounts in per_mount.cc).
bool MountSetattrMissing();
void NoteMountSetattrMissing();

// Whether binds take the open_tree + mount_setattr + move_mount path.
bool UseOpenTreeBinds();

}  // namespace linx::mount_internal

#endif  // LINX_MOUNT_INTERNAL_FD_API_H_
