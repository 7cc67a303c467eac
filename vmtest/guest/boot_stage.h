// Scenario 2 of issue 5, which has to run as the machine boots: pivot_root
// from the initramfs (rootfs) is refused, and the documented way out
// (switch_root: MS_MOVE a new root over "/" and chroot) works, after which
// pivot_root works too. Implemented in scenario_boot.cc, driven by
// guest_main.cc.
#ifndef LINX_VMTEST_GUEST_BOOT_STAGE_H_
#define LINX_VMTEST_GUEST_BOOT_STAGE_H_

#include <string>

#include "absl/status/status.h"

namespace linx::vmtest {

inline constexpr char kBootScenarioName[] = "pivot_root_from_rootfs";

// In a forked child with its own mount namespace: pivot_root(2) while "/" is
// still rootfs must fail with EINVAL. Returns OK when it does.
absl::Status PivotRootOnRootfsIsRefused(std::string* note);

// In PID 1 itself: mounts a tmpfs at `new_root`, copies the files the rest of
// the run needs (/init, /bin/busybox, /modules), MS_MOVEs /proc, /sys and
// /dev into it, then mount(new_root, "/", MS_MOVE) and chroot(".") -- what
// switch_root(8) does, minus deleting rootfs's files (nothing big is left).
absl::Status SwitchRoot(const std::string& new_root);

// In a forked child with its own mount namespace, after SwitchRoot: "/" is
// now a real mount, so pivot_root(".", ".") + umount2(".", MNT_DETACH)
// works, and the files are still there afterwards.
absl::Status PivotRootAfterSwitchRootWorks(std::string* note);

}  // namespace linx::vmtest

#endif  // LINX_VMTEST_GUEST_BOOT_STAGE_H_
