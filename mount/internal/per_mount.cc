#include "mount/internal/per_mount.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "mount/flags.h"
#include "mount/internal/fd_api.h"
#include "mount/internal/hooks.h"
#include "mount/internal/render.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000  // include/linux/statfs.h; glibc 2.36 lacks it
#endif

namespace linx::mount_internal {
namespace {

constexpr unsigned long kAtimeBits =
    MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

// mount(2), "Changing the mount flags of a bind mount": MS_REMOUNT|MS_BIND
// sets exactly the per-mount flags given. Flags already in force are added
// so none is cleared by accident — and so the call works where they are
// locked (mount_namespaces(7): a mount that came from a more privileged
// namespace keeps MNT_LOCK_{READONLY,NOSUID,NODEV,NOEXEC,ATIME}; trying to
// clear one fails with EPERM; util-linux#1705, runc#1229). Atime flags in
// force are kept only when the caller asked for none.
absl::Status RemountBindKeeping(const Plan& plan, const BindPlan& bind,
                                const std::string& path) {
  std::variant<unsigned long, int> got = PerMountFlagsInForce(path);
  if (const int* err = std::get_if<int>(&got)) {
    return CallError(plan, absl::StrCat("statvfs(", Quote(path), ")"),
                     Stage::kMount, *err);
  }
  const unsigned long in_force = std::get<unsigned long>(got);
  unsigned long flags = RemountBindFlags(bind.per_mount, in_force);
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) {
    int err = errno;
    std::string hint;
    if (err == EPERM) {
      hint = absl::StrCat(
          "a locked flag would change (mount_namespaces(7): flags of a "
          "mount from a more privileged namespace are locked); in force: ",
          RenderMountFlags(in_force));
    }
    return CallError(plan, MountCall("", path, "", flags, ""), Stage::kMount,
                     err, hint);
  }
  return absl::OkStatus();
}

// The mount points of the mount at `target` and of every mount below it,
// parents first, read from /proc/thread-self/mountinfo (the reading thread's
// view, so this works on a worker in another namespace).
absl::StatusOr<std::vector<std::string>> MountTree(const Plan& plan,
                                                   const std::string& target) {
  char real[PATH_MAX];
  if (::realpath(target.c_str(), real) == nullptr) {
    int err = errno;
    return CallError(plan, absl::StrCat("realpath(", Quote(target), ")"),
                     Stage::kMount, err);
  }
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
  std::vector<MountInfo> table = t.ToMountInfos();
  std::vector<std::string> out;
  const MountInfo* top = FindMountInTable(table, real);
  if (top == nullptr || top->target != real) return out;
  out.push_back(real);
  for (const MountInfo* m : DescendantsOf(table, top->id)) {
    out.push_back(m->target);
  }
  return out;
}

// mount_setattr(2) (5.12+) on the whole tree in one call. It only sets what
// is asked (attr_clr = 0 except the atime field), so locked flags stay as
// they are. Returns ENOSYS as `*unsupported` instead of an error.
absl::Status SetattrRecursive(const Plan& plan, const BindPlan& bind,
                              bool* unsupported) {
  sys::MountAttr attr = SetOnlyAttr(bind.per_mount);
  if (sys::MountSetattr(AT_FDCWD, bind.target.c_str(), sys::kAtRecursive,
                        &attr) == 0) {
    return absl::OkStatus();
  }
  int err = errno;
  if (err == ENOSYS) {
    *unsupported = true;
    return absl::OkStatus();
  }
  return CallError(
      plan,
      absl::StrCat("mount_setattr(AT_FDCWD, ", Quote(bind.target),
                   ", AT_RECURSIVE, {attr_set=", AttrSetNames(attr),
                   attr.attr_clr ? ", attr_clr=MOUNT_ATTR__ATIME" : "", "})"),
      Stage::kMount, err);
}

}  // namespace

std::variant<unsigned long, int> PerMountFlagsInForce(const std::string& path) {
  struct statvfs sv;
  if (::statvfs(path.c_str(), &sv) != 0) return errno;
  return PerMountBitsOfSt(sv.f_flag);
}

unsigned long PerMountBitsOfSt(unsigned long st_flags) {
  unsigned long out = 0;
  if (st_flags & ST_RDONLY) out |= MS_RDONLY;
  if (st_flags & ST_NOSUID) out |= MS_NOSUID;
  if (st_flags & ST_NODEV) out |= MS_NODEV;
  if (st_flags & ST_NOEXEC) out |= MS_NOEXEC;
  if (st_flags & ST_NOATIME) out |= MS_NOATIME;
  if (st_flags & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (st_flags & ST_RELATIME) out |= MS_RELATIME;
  if (st_flags & ST_NOSYMFOLLOW) out |= MS_NOSYMFOLLOW;
  return out;
}

unsigned long RemountBindFlags(unsigned long per_mount,
                               unsigned long in_force) {
  unsigned long keep = in_force;
  if ((per_mount & kAtimeBits) != 0) keep &= ~kAtimeBits;
  return MS_REMOUNT | MS_BIND | per_mount | keep;
}

absl::Status RemountTree(const Plan& plan, const std::string& target,
                         unsigned long per_mount) {
  if (!ForceSubmountWalk() && !MountSetattrMissing()) {
    // A remount states the whole set: the on/off bits not asked are
    // cleared, and nodiratime goes when another atime mode is asked.
    constexpr unsigned long kOnOff =
        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW;
    sys::MountAttr attr = SetOnlyAttr(per_mount);
    attr.attr_clr |= SetOnlyAttr(kOnOff & ~per_mount).attr_set;
    if (!(per_mount & MS_NODIRATIME) && (per_mount & kAtimeBits)) {
      attr.attr_clr |= sys::kMountAttrNodiratime;
    }
    if (sys::MountSetattr(AT_FDCWD, target.c_str(), sys::kAtRecursive, &attr) ==
        0) {
      return absl::OkStatus();
    }
    int err = errno;
    if (err != ENOSYS) {
      return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                       absl::StrCat("mount_setattr(AT_FDCWD, ", Quote(target),
                                    ", AT_RECURSIVE, {attr_set=",
                                    RenderMountFlags(per_mount), "})"));
    }
    NoteMountSetattrMissing();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> tree, MountTree(plan, target));
  for (const std::string& path : tree) {
    unsigned long flags = MS_REMOUNT | MS_BIND | per_mount;
    if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) {
      int err = errno;
      return CallError(plan, MountCall("", path, "", flags, ""), Stage::kMount,
                       err);
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyPerMount(const Plan& plan, const BindPlan& bind) {
  if (bind.per_mount == 0) return absl::OkStatus();
  if (!bind.rec) return RemountBindKeeping(plan, bind, bind.target);
  if (!ForceSubmountWalk() && !MountSetattrMissing()) {
    bool unsupported = false;
    RETURN_IF_ERROR(SetattrRecursive(plan, bind, &unsupported));
    if (!unsupported) return absl::OkStatus();
    NoteMountSetattrMissing();  // probed once: a kernel before 5.12
  }
  // Before 5.12: the same remount on every mount of the tree, top first.
  ASSIGN_OR_RETURN(std::vector<std::string> tree, MountTree(plan, bind.target));
  for (const std::string& path : tree) {
    RETURN_IF_ERROR(RemountBindKeeping(plan, bind, path));
  }
  return absl::OkStatus();
}

}  // namespace linx::mount_internal
