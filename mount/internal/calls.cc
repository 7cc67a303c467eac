#include "mount/internal/calls.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/flags.h"
#include "mount/internal/fd_api.h"
#include "mount/internal/per_mount.h"
#include "mount/internal/render.h"

namespace linx::mount_internal {
namespace {

const char* CStr(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

// `create`: open(target, O_RDONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0644).
// Returns whether a file was created, so a failure can remove it; any
// existing target is fine.
absl::StatusOr<bool> CreatePlaceholder(const Plan& plan, bool create,
                                       const std::string& target) {
  if (!create) return false;
  int fd = RetryOnEintr([&] {
    return ::open(target.c_str(),
                  O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  });
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return false;
    return CallError(plan, PrimaryCall(plan), Stage::kCreate, err,
                     absl::StrCat("creating the placeholder ", Quote(target)));
  }
  ::close(fd);
  return true;
}

void RemovePlaceholder(const std::string& target, bool created) {
  if (created) ::unlink(target.c_str());
}

}  // namespace

// Undo a mount this call made, so a failed verb leaves nothing behind.
absl::Status UndoAfter(const absl::Status& failure, const std::string& target,
                       bool created) {
  absl::Status s;
  if (::umount2(target.c_str(), MNT_DETACH) != 0) {
    int err = errno;
    s = SuffixStatus(failure, absl::StrCat("; undoing it failed too: umount2(",
                                           Quote(target), ", MNT_DETACH): ",
                                           ErrnoDescription(err)));
  } else {
    s = SuffixStatus(failure, "; the new mount was undone");
  }
  RemovePlaceholder(target, created);
  return s;
}

absl::Status ApplyPropagation(const Plan& plan, const std::string& target,
                              unsigned long propagation) {
  if (propagation == 0) return absl::OkStatus();
  if (::mount(nullptr, target.c_str(), nullptr, propagation, nullptr) != 0) {
    int err = errno;
    return CallError(plan, MountCall("", target, "", propagation, ""),
                     Stage::kMount, err);
  }
  return absl::OkStatus();
}

// fsopen → fsconfig → fsmount → move_mount: the new mount appears complete,
// with every flag. Returns false in *done where the kernel lacks fsopen(2).
absl::Status MountByFsopen(const Plan& plan, const NewMountPlan& p,
                           bool* done) {
  bool unsupported = false;
  ASSIGN_OR_RETURN(UniqueFd mnt, NewDetachedMount(plan, p, &unsupported));
  if (unsupported) return absl::OkStatus();
  // MOVE_MOUNT_T_SYMLINKS: the target is followed as mount(2) follows it.
  if (sys::MoveMount(mnt.get(), "", AT_FDCWD, p.target.c_str(),
                     sys::kMoveMountFEmptyPath | sys::kMoveMountTSymlinks |
                         (p.beneath ? sys::kMoveMountBeneath : 0)) != 0) {
    int err = errno;
    // The target's problems, as mount(2) would report them.
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     MainCallHint(plan, err));
  }
  *done = true;
  return absl::OkStatus();
}

absl::Status ExecMount(const Plan& plan, const NewMountPlan& p) {
  if (p.data.size() > kMaxClassicDataBytes && !UseFsopen(p)) {
    // mount(2) copies one page and would cut the rest silently.
    return BadArgumentError(
        plan.operation, "data",
        absl::StrCat("is longer than ", kMaxClassicDataBytes,
                     " bytes, which mount(2) cannot take (fsopen(2), 5.2+, "
                     "is not available here)"));
  }
  ASSIGN_OR_RETURN(bool created, CreatePlaceholder(plan, p.create, p.target));
  bool done = false;
  if (UseFsopen(p)) {
    absl::Status s = MountByFsopen(plan, p, &done);
    if (!s.ok()) {
      RemovePlaceholder(p.target, created);
      return s;
    }
  }
  if (p.beneath && !done) {
    RemovePlaceholder(p.target, created);
    return CallError(plan, PrimaryCall(plan), Stage::kMount, ENOSYS,
                     "beneath needs fsmount(2) and move_mount(2)");
  }
  if (p.main_call && !done &&
      ::mount(CStr(p.source), p.target.c_str(), CStr(p.fstype), p.flags,
              CStr(p.data)) != 0) {
    int err = errno;
    RemovePlaceholder(p.target, created);
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     MainCallHint(plan, err));
  }
  absl::Status s = ApplyPropagation(plan, p.target, p.propagation);
  if (!s.ok()) {
    // A remount or a move made no new mount: nothing to undo.
    if (p.main_call && (p.flags & (MS_REMOUNT | MS_MOVE)) == 0) {
      return UndoAfter(s, p.target, created);
    }
    RemovePlaceholder(p.target, created);
  }
  return s;
}

// open_tree(OPEN_TREE_CLONE) → mount_setattr on the detached tree →
// move_mount: the bind appears with its per-mount flags already set (no
// moment where a read-only bind is writable). Returns false in *done where
// the kernel lacks open_tree(2) or mount_setattr(2) (nothing attached then).
absl::Status BindByOpenTree(const Plan& plan, const BindPlan& p, bool* done) {
  std::shared_ptr<UniqueFd> tree = p.tree;
  if (!p.from_caller) {
    unsigned flags =
        sys::kOpenTreeClone | O_CLOEXEC | (p.rec ? sys::kAtRecursive : 0);
    int fd = sys::OpenTree(AT_FDCWD, p.source.c_str(), flags);
    if (fd < 0) {
      int err = errno;
      if (err == ENOSYS) return absl::OkStatus();
      return CallError(plan, PrimaryCall(plan), Stage::kMount, err);
    }
    tree = std::make_shared<UniqueFd>(fd);
  }
  bool unsupported = false;
  RETURN_IF_ERROR(SetTreeAttrs(plan, tree->get(), p.per_mount, p.rec,
                               &unsupported, p.idmap ? p.idmap->fd() : -1));
  if (unsupported) return absl::OkStatus();
  if (sys::MoveMount(tree->get(), "", AT_FDCWD, p.target.c_str(),
                     sys::kMoveMountFEmptyPath | sys::kMoveMountTSymlinks |
                         (p.beneath ? sys::kMoveMountBeneath : 0)) != 0) {
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err);
  }
  *done = true;
  return absl::OkStatus();
}

absl::Status ExecBind(const Plan& plan, const BindPlan& p) {
  ASSIGN_OR_RETURN(bool created, CreatePlaceholder(plan, p.create, p.target));
  if (UseOpenTreeBinds()) {
    bool done = false;
    absl::Status s = BindByOpenTree(plan, p, &done);
    if (!s.ok()) {
      RemovePlaceholder(p.target, created);
      return s;
    }
    if (done) {
      s = ApplyPropagation(plan, p.target, p.propagation);
      if (!s.ok()) return UndoAfter(s, p.target, created);
      return absl::OkStatus();
    }
  }
  if (p.needs_fd_api()) {
    RemovePlaceholder(p.target, created);
    return CallError(plan, PrimaryCall(plan), Stage::kMount, ENOSYS,
                     p.idmap ? "an idmapped bind needs open_tree(2) and "
                               "mount_setattr(2) (5.12+)"
                             : "beneath needs open_tree(2) and move_mount(2)");
  }
  if (p.from_caller) {
    // move_mount(2): attaches the detached tree made by open_tree(2) in the
    // caller's namespace at target, in this thread's namespace.
    if (sys::MoveMount(p.tree->get(), "", AT_FDCWD, p.target.c_str(),
                       sys::kMoveMountFEmptyPath) != 0) {
      int err = errno;
      RemovePlaceholder(p.target, created);
      return CallError(plan, PrimaryCall(plan), Stage::kMount, err);
    }
  } else if (::mount(p.source.c_str(), p.target.c_str(), nullptr,
                     MS_BIND | (p.rec ? MS_REC : 0), CStr(p.data)) != 0) {
    int err = errno;
    RemovePlaceholder(p.target, created);
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err);
  }
  absl::Status s = ApplyPerMount(plan, p);
  if (s.ok()) s = ApplyPropagation(plan, p.target, p.propagation);
  if (!s.ok()) return UndoAfter(s, p.target, created);
  return absl::OkStatus();
}

absl::Status ExecMove(const Plan& plan, const MovePlan& p) {
  if (::mount(p.source.c_str(), p.target.c_str(), nullptr, MS_MOVE, nullptr) !=
      0) {
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err,
                     MainCallHint(plan, err));
  }
  return absl::OkStatus();
}

absl::Status ExecRemount(const Plan& plan, const RemountPlan& p) {
  if (p.recursive) {
    if (p.main_call) RETURN_IF_ERROR(RemountTree(plan, p.target, p.per_mount));
    return ApplyPropagation(plan, p.target, p.propagation);
  }
  if (p.main_call &&
      ::mount(nullptr, p.target.c_str(), nullptr, p.flags, CStr(p.data)) != 0) {
    int err = errno;
    std::string hint;
    if (err == EPERM) {
      std::variant<unsigned long, int> got = PerMountFlagsInForce(p.target);
      if (const unsigned long* in_force = std::get_if<unsigned long>(&got)) {
        unsigned long cleared = *in_force & ~p.flags &
                                (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        if (cleared != 0) {
          hint = absl::StrCat(
              "this would clear ", RenderMountFlags(cleared),
              ", which the mount has in force; flags of a mount from a more "
              "privileged mount namespace are locked and cannot be cleared "
              "(mount_namespaces(7)): ask for them too");
        }
      }
    }
    return CallError(plan, PrimaryCall(plan), Stage::kMount, err, hint);
  }
  // A remount makes no new mount: a failed propagation call undoes nothing.
  return ApplyPropagation(plan, p.target, p.propagation);
}

absl::Status ExecUmount(const Plan& plan, const UmountPlan& p) {
  if (::umount2(p.target.c_str(), p.flags) != 0) {
    int err = errno;
    std::string hint;
    // umount2(2) and umount(8): the errno alone misleads here.
    if (err == EINVAL) {
      hint = (p.flags & (MNT_EXPIRE | UMOUNT_NOFOLLOW)) != 0
                 ? "not a mount point, or bad flags"
                 : "not a mount point";
    } else if (err == EBUSY) {
      hint = "target is busy";
    } else if (err == EAGAIN && (p.flags & MNT_EXPIRE) != 0) {
      hint = "marked as expired; call again to unmount";
    }
    return CallError(plan, PrimaryCall(plan), Stage::kUmount, err, hint);
  }
  return absl::OkStatus();
}

}  // namespace linx::mount_internal
