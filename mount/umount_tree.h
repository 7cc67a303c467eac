// UmountTree: unmount a mount and everything mounted below it, deepest
// first (what `umount -R` does), retrying while the table changes
// underneath.
//
//   // A container rootfs with proc, sys, dev and binds under it:
//   RETURN_IF_ERROR(linx::UmountTree("/run/c1/rootfs"));
//
// The tree is read from the kernel (/proc/thread-self/mountinfo, in the
// namespace the call runs in), rooted at the topmost mount whose mount
// point is `target` (symlinks in `target` resolved by realpath(3)). Mounts
// that the root covers (stacked below it on the same mount point) stay, as
// with umount(8) -R. Each mount is unmounted with linx::Umount(<its mount
// point>, opts) (same flags; the `in` namespace is entered once for the
// whole tree), children before parents and, among siblings, the most
// recent first, so an over-mount that hides an older sibling goes before
// it. With UmountFlag::kDetach the kernel already detaches the whole tree
// in one umount2(MNT_DETACH) call, which is what UmountTree then does.
//
// Tables that change underneath: a mount that is already gone or no longer
// reachable at its mount point (Umount fails with EINVAL or ENOENT), or
// that fails with EBUSY because something was mounted below it after the
// table was read, is skipped for this pass; after each pass the table is read
// again and the remaining subtree (mounts that appeared meanwhile included) is
// unmounted, up to kUmountTreeMaxPasses passes.
//
// Errors: `target` not a mount point (or missing, or a bad argument) →
// exactly what Umount(target, opts) reports (EINVAL "not a mount point",
// ENOENT, bad_argument...); any other Umount failure (EBUSY, EPERM, ...) on
// a mount of the tree stops the walk and is returned as is (operation
// "umount", stage kUmount, its errno, message prefixed with
// `umount -R <target>: `); mounts unmounted before the failure stay
// unmounted. Still mounted after the last pass → the last per-mount error
// if there was one, else kUnavailable with errno EAGAIN. Namespace errors
// (open_ns, setns, ...) as for every verb.
//
// Capabilities, kernel and thread-safety as for Umount (mount/mount.h).
#ifndef LINX_MOUNT_UMOUNT_TREE_H_
#define LINX_MOUNT_UMOUNT_TREE_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mount/mount.h"

namespace linx {

inline constexpr int kUmountTreeMaxPasses = 8;

absl::Status UmountTree(absl::string_view target,
                        const UmountOptions& opts = {});

// Test hook: called (in the namespace the tree is unmounted in) in each
// pass with the pass number (1-based), after the table was read and before
// the pass's first umount.
// Pass nullptr to remove. Not thread-safe; tests only.
void SetUmountTreePassHookForTesting(std::function<void(int pass)> hook);

}  // namespace linx

#endif  // LINX_MOUNT_UMOUNT_TREE_H_
