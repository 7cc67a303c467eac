#include "mount/internal/in_root_exec.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/flags.h"
#include "mount/in_root.h"
#include "mount/internal/calls.h"
#include "mount/internal/fd_api.h"
#include "mount/internal/per_mount.h"
#include "mount/internal/render.h"
#include "mount/internal/umount_walk.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace linx::mount_internal {
namespace {

// The root of a plan, open for the duration of the call.
struct Root {
  UniqueFd owned;
  int fd = -1;
  std::string label;  // for messages: "/run/c1/rootfs" or "fd 7"
  // The /proc/thread-self/fd/N paths handed to the kernel and the in-root
  // paths they stand for, so messages name what the caller named.
  mutable std::vector<std::pair<std::string, std::string>> names;
};

absl::StatusOr<Root> OpenTheRoot(const RootSpec& spec) {
  Root r;
  if (spec.fd >= 0) {
    r.fd = spec.fd;
    r.label = absl::StrCat("fd ", spec.fd);
    return r;
  }
  ASSIGN_OR_RETURN(r.owned, OpenRoot(spec.dir));
  r.fd = r.owned.get();
  r.label = spec.dir;
  return r;
}

// `"/dev/null" in root "/run/c1/rootfs"`: how a resolved path is named.
std::string InRootName(const Root& root, const InRootPath& p) {
  return absl::StrCat(Quote(p.path), " in root ", Quote(root.label));
}

absl::Status Resolve(const Plan& plan, const Root& root, absl::string_view path,
                     const InRootOptions& opts, InRootPath* out) {
  absl::StatusOr<InRootPath> r = ResolveInRoot(root.fd, path, opts);
  if (!r.ok()) {
    // The resolver's message names the path, the root and the component;
    // the operation is the verb's.
    std::optional<OpError> e = GetOpError(r.status());
    OpError op{plan.operation, e ? e->stage : Stage::kResolve,
               e ? e->errno_value : 0, e ? e->value : std::string(path)};
    return MakeOpError(
        op, absl::StrCat(plan.operation, ": ", r.status().message()));
  }
  *out = *std::move(r);
  return absl::OkStatus();
}

// /proc/thread-self/fd/N for a descriptor, /proc proven real; `in_root` is
// the in-root path it stands for in messages.
absl::StatusOr<std::string> FdPath(const Plan& plan, const Root& root, int fd,
                                   const std::string& in_root) {
  absl::StatusOr<std::string> p = ProcFdPath(fd);
  if (!p.ok()) {
    std::optional<OpError> e = GetOpError(p.status());
    return MakeOpError(
        {plan.operation, Stage::kResolve, e ? e->errno_value : EXDEV, ""},
        absl::StrCat(plan.operation, ": ", p.status().message()));
  }
  root.names.emplace_back(*p, in_root);
  return p;
}

// A failure's message with every /proc/thread-self/fd/N the kernel was
// given written as the in-root path it stands for, and the root named.
absl::Status NameInRoot(const absl::Status& s, const Root& root) {
  if (s.ok() || root.names.empty()) return s;
  std::string msg(s.message());
  bool replaced = false;
  for (const auto& [proc, name] : root.names) {
    for (const char* after : {"\"", "/"}) {
      std::string from = absl::StrCat("\"", proc, after);
      std::string to =
          absl::StrCat("\"", name == "/" && *after == '/' ? "" : name, after);
      size_t at = 0;
      while ((at = msg.find(from, at)) != std::string::npos) {
        msg.replace(at, from.size(), to);
        at += to.size();
        replaced = true;
      }
    }
  }
  if (!replaced) return s;
  return RewrapStatus(s, s.code(),
                      absl::StrCat("in root ", Quote(root.label), ": ", msg));
}

// The post-verb check: what was attached lies at or under the root.
absl::Status Inside(const Plan& plan, const Root& root, int fd,
                    const std::string& what) {
  absl::Status s = CheckInsideRoot(root.fd, fd);
  if (s.ok()) return s;
  std::optional<OpError> e = GetOpError(s);
  return MakeOpError(
      {plan.operation, Stage::kResolve, e ? e->errno_value : EXDEV, ""},
      absl::StrCat(plan.operation, ": ", what, " is not inside root ",
                   Quote(root.label), " after the call (", s.message(), ")"));
}

// Undo after a failure: detach what was attached (by its /proc path) and
// remove what the resolver created.
absl::Status Undo(absl::Status failure, const std::string& attached,
                  const Root& root, const InRootPath& target) {
  if (!attached.empty()) failure = UndoAfter(failure, attached, false);
  RemoveCreated(root.fd, target.created);
  return failure;
}

void Record(std::vector<UndoRecord>* undo, const Plan& plan, const Root& root,
            const InRootPath& at, std::string moved_from = "") {
  if (undo == nullptr) return;
  UndoRecord r;
  r.operation = plan.operation;
  r.root.dir = plan.root->dir;
  r.root.fd = plan.root->fd;
  r.mounted_at = at.path;
  r.mount_id = MountIdAt(root.fd, at.path);
  r.moved_from = std::move(moved_from);
  r.created = at.created;
  undo->push_back(std::move(r));
}

absl::Status NewMountInRoot(const Plan& plan, const NewMountPlan& p,
                            const Root& root, std::vector<UndoRecord>* undo) {
  const RootSpec& spec = *plan.root;
  InRootPath target;
  InRootOptions opts;
  if (p.main_call) {
    opts.mkdir = spec.mkdir;
    opts.create_file = spec.create;
  }
  RETURN_IF_ERROR(Resolve(plan, root, p.target, opts, &target));
  ASSIGN_OR_RETURN(std::string target_path,
                   FdPath(plan, root, target.fd.get(), target.path));
  Plan here = plan;
  NewMountPlan onto = p;
  onto.target = target_path;
  here.call = onto;
  const bool raw_flags = (p.flags & (MS_BIND | MS_MOVE | MS_REMOUNT)) != 0;
  if (!p.main_call || raw_flags) {
    // A propagation change of the mount at the target (the resolved fd is
    // that mount's root), or a raw MS_BIND/MS_MOVE/MS_REMOUNT: mount(2) on
    // the descriptor's /proc path.
    absl::Status s = ExecMount(here, onto);
    if (!s.ok()) RemoveCreated(root.fd, target.created);
    return s;
  }
  bool unsupported = false;
  absl::StatusOr<UniqueFd> mnt = NewDetachedMount(here, p, &unsupported);
  if (!mnt.ok()) return Undo(mnt.status(), "", root, target);
  std::string attached;
  int check_fd = target.fd.get();
  if (unsupported) {
    // Before 5.2: mount(2) onto the descriptor's /proc path. The new mount
    // cannot be named for a propagation call there, so none is made.
    if (p.propagation != 0) {
      return Undo(BadArgumentError(plan.operation, "flags",
                                   "a propagation word with a root needs "
                                   "fsmount(2) (Linux 5.2+)"),
                  "", root, target);
    }
    onto.propagation = 0;
    absl::Status s = ExecMount(here, onto);
    if (!s.ok()) return Undo(s, "", root, target);
    attached = target_path;
  } else {
    if (sys::MoveMount(mnt->get(), "", target.fd.get(), "",
                       sys::kMoveMountFEmptyPath | sys::kMoveMountTEmptyPath) !=
        0) {
      int err = errno;
      return Undo(CallError(here,
                            absl::StrCat("move_mount(", mnt->get(), ", \"\", ",
                                         InRootName(root, target),
                                         ", \"\", MOVE_MOUNT_F_EMPTY_PATH|"
                                         "MOVE_MOUNT_T_EMPTY_PATH)"),
                            Stage::kMount, err),
                  "", root, target);
    }
    ASSIGN_OR_RETURN(attached, FdPath(plan, root, mnt->get(), target.path));
    check_fd = mnt->get();
    absl::Status s = ApplyPropagation(here, attached, p.propagation);
    if (!s.ok()) return Undo(s, attached, root, target);
  }
  absl::Status s =
      Inside(plan, root, check_fd,
             absl::StrCat("the new mount at ", InRootName(root, target)));
  if (!s.ok()) return Undo(s, attached, root, target);
  Record(undo, plan, root, target);
  return absl::OkStatus();
}

// ---- Binds: a tree attached onto the target's descriptor ----------------

absl::Status BindInRoot(const Plan& plan, const BindPlan& p, const Root& root,
                        std::vector<UndoRecord>* undo) {
  const RootSpec& spec = *plan.root;
  std::shared_ptr<UniqueFd> tree = p.tree;
  // A path bound onto itself (linx apply's readonlyPaths) is resolved once:
  // the tree is cloned from, and attached onto, the same descriptor, so no
  // rename between two walks can make them differ.
  const bool onto_itself = spec.source_in_root && p.source == p.target &&
                           !spec.mkdir && !spec.create;
  InRootPath source;
  if (spec.source_in_root) {
    RETURN_IF_ERROR(Resolve(plan, root, p.source, {}, &source));
    unsigned flags = sys::kOpenTreeClone | O_CLOEXEC | sys::kAtEmptyPath |
                     (p.rec ? sys::kAtRecursive : 0);
    int fd = sys::OpenTree(source.fd.get(), "", flags);
    if (fd < 0) {
      int err = errno;
      return CallError(plan,
                       absl::StrCat("open_tree(", InRootName(root, source),
                                    ", \"\", OPEN_TREE_CLONE|AT_EMPTY_PATH",
                                    p.rec ? "|AT_RECURSIVE" : "", ")"),
                       Stage::kMount, err);
    }
    tree = std::make_shared<UniqueFd>(fd);
  }
  if (tree == nullptr || !tree->valid()) {
    return absl::InternalError("bind in a root without a source tree");
  }
  // The per-mount flags (and the idmapping) go on the detached tree, so the
  // bind appears with them; where mount_setattr is missing, after attach.
  bool unsupported = false;
  RETURN_IF_ERROR(SetTreeAttrs(plan, tree->get(), p.per_mount, p.rec,
                               &unsupported, p.idmap ? p.idmap->fd() : -1));
  if (unsupported && p.needs_fd_api()) {
    return CallError(plan, PrimaryCall(plan), Stage::kMount, ENOSYS,
                     "an idmapped bind needs mount_setattr(2) (5.12+)");
  }
  InRootPath target;
  if (onto_itself) {
    target = std::move(source);
  } else {
    InRootOptions opts;
    opts.mkdir = spec.mkdir;
    opts.create_file = spec.create;
    RETURN_IF_ERROR(Resolve(plan, root, p.target, opts, &target));
  }
  if (sys::MoveMount(tree->get(), "", target.fd.get(), "",
                     sys::kMoveMountFEmptyPath | sys::kMoveMountTEmptyPath |
                         (p.beneath ? sys::kMoveMountBeneath : 0)) != 0) {
    int err = errno;
    return Undo(CallError(plan,
                          absl::StrCat("move_mount(", tree->get(), ", \"\", ",
                                       InRootName(root, target),
                                       ", \"\", MOVE_MOUNT_F_EMPTY_PATH|"
                                       "MOVE_MOUNT_T_EMPTY_PATH)"),
                          Stage::kMount, err),
                "", root, target);
  }
  // From here on the new mount is reached through its own descriptor.
  ASSIGN_OR_RETURN(std::string attached,
                   FdPath(plan, root, tree->get(), target.path));
  BindPlan at = p;
  at.target = attached;
  absl::Status s = unsupported ? ApplyPerMount(plan, at) : absl::OkStatus();
  if (s.ok()) s = ApplyPropagation(plan, attached, p.propagation);
  if (s.ok()) {
    s = Inside(plan, root, tree->get(),
               absl::StrCat("the bind at ", InRootName(root, target)));
  }
  if (!s.ok()) return Undo(s, attached, root, target);
  Record(undo, plan, root, target);
  return absl::OkStatus();
}

// ---- Move, remount, umount ------------------------------------------------

absl::Status MoveInRoot(const Plan& plan, const MovePlan& p, const Root& root,
                        std::vector<UndoRecord>* undo) {
  InRootPath source, target;
  RETURN_IF_ERROR(Resolve(plan, root, p.source, {}, &source));
  RETURN_IF_ERROR(Resolve(plan, root, p.target, {}, &target));
  if (sys::MoveMount(source.fd.get(), "", target.fd.get(), "",
                     sys::kMoveMountFEmptyPath | sys::kMoveMountTEmptyPath) !=
      0) {
    int err = errno;
    if (err != ENOSYS) {
      return CallError(plan,
                       absl::StrCat("move_mount(", InRootName(root, source),
                                    ", \"\", ", InRootName(root, target),
                                    ", \"\", MOVE_MOUNT_F_EMPTY_PATH|"
                                    "MOVE_MOUNT_T_EMPTY_PATH)"),
                       Stage::kMount, err, MainCallHint(plan, err));
    }
    // Before 5.2: mount(2) with MS_MOVE on the two /proc paths.
    ASSIGN_OR_RETURN(std::string from,
                     FdPath(plan, root, source.fd.get(), source.path));
    ASSIGN_OR_RETURN(std::string to,
                     FdPath(plan, root, target.fd.get(), target.path));
    RETURN_IF_ERROR(ExecMove(plan, MovePlan{from, to}));
  }
  // The moved mount is what `source` refers to now.
  absl::Status s =
      Inside(plan, root, source.fd.get(),
             absl::StrCat("the mount moved to ", InRootName(root, target)));
  if (!s.ok()) {
    absl::StatusOr<std::string> at =
        FdPath(plan, root, source.fd.get(), target.path);
    return UndoAfter(s, at.ok() ? *at : "", false);
  }
  Record(undo, plan, root, target, source.path);
  return absl::OkStatus();
}

absl::Status RemountInRoot(const Plan& plan, const RemountPlan& p,
                           const Root& root) {
  InRootPath target;
  RETURN_IF_ERROR(Resolve(plan, root, p.target, {}, &target));
  RemountPlan onto = p;
  ASSIGN_OR_RETURN(onto.target,
                   FdPath(plan, root, target.fd.get(), target.path));
  Plan here = plan;
  here.call = onto;
  return ExecRemount(here, onto);
}

// The canonical path of the root in this thread's view, for mapping the
// mount points of mountinfo back into the root.
absl::StatusOr<std::string> RootPathHere(const Plan& plan, const Root& root) {
  ASSIGN_OR_RETURN(std::string proc, FdPath(plan, root, root.fd, "/"));
  char buf[PATH_MAX];
  ssize_t n = ::readlink(proc.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) {
    int err = errno;
    return CallError(plan, absl::StrCat("readlink(", Quote(proc), ")"),
                     Stage::kResolve, err);
  }
  return std::string(buf, static_cast<size_t>(n));
}

// A path for umount2(2) that holds no reference to the mount itself (an
// open descriptor of a mount keeps it busy): the resolved target's parent
// directory by descriptor, then its last component, which umount2 must not
// follow (UMOUNT_NOFOLLOW): /proc/thread-self/fd/<parent>/<name>.
struct UmountPath {
  InRootPath parent;
  std::string path;
};
absl::StatusOr<UmountPath> UmountPathOf(const Plan& plan, const Root& root,
                                        absl::string_view target) {
  std::string canonical;
  {
    InRootPath t;
    RETURN_IF_ERROR(Resolve(plan, root, target, {}, &t));
    canonical = t.path;
  }  // closed: the fd would keep the mount busy
  if (canonical == "/") {
    return BadArgumentError(plan.operation, "target",
                            absl::StrCat(Quote(target),
                                         " is the root itself; unmount it "
                                         "without a root"));
  }
  size_t slash = canonical.rfind('/');
  UmountPath u;
  RETURN_IF_ERROR(Resolve(plan, root,
                          slash == 0 ? "/" : canonical.substr(0, slash), {},
                          &u.parent));
  ASSIGN_OR_RETURN(std::string dir,
                   FdPath(plan, root, u.parent.fd.get(), u.parent.path));
  u.path = absl::StrCat(dir, "/", canonical.substr(slash + 1));
  return u;
}

absl::Status UmountInRoot(const Plan& plan, const UmountPlan& p,
                          const Root& root) {
  ASSIGN_OR_RETURN(UmountPath top, UmountPathOf(plan, root, p.target));
  UmountPlan onto = p;
  onto.target = top.path;
  onto.flags |= UMOUNT_NOFOLLOW;
  Plan here = plan;
  here.call = onto;
  if (!p.recursive) return ExecUmount(here, onto);
  ASSIGN_OR_RETURN(std::string root_path, RootPathHere(plan, root));
  // Each mount of the tree, named by mountinfo, is resolved in the root
  // again before its umount2: the walk never acts on a path outside it.
  return UmountTreeHere(here, onto, [&](const Plan& one) -> absl::Status {
    const UmountPlan& u = std::get<UmountPlan>(one.call);
    if (u.target == onto.target) return ExecUmount(one, u);
    absl::string_view rest = u.target;
    if (root_path != "/" && !absl::ConsumePrefix(&rest, root_path)) {
      return MakeOpError(
          {plan.operation, Stage::kResolve, EXDEV, u.target},
          absl::StrCat(plan.operation, ": ", Quote(u.target),
                       " is not inside root ", Quote(root.label)));
    }
    ASSIGN_OR_RETURN(UmountPath each_path,
                     UmountPathOf(plan, root, rest.empty() ? "/" : rest));
    UmountPlan each = u;
    each.target = each_path.path;
    each.flags |= UMOUNT_NOFOLLOW;
    Plan p_each = one;
    p_each.call = each;
    return ExecUmount(p_each, each);
  });
}

}  // namespace

uint64_t MountIdAt(int root_fd, const std::string& path) {
  constexpr unsigned kStatxMntIdUnique = 0x4000;  // 6.8+, not in glibc 2.36
  struct statx stx {};
  int err = 0;
  if (root_fd >= 0) {
    absl::StatusOr<InRootPath> at = ResolveInRoot(root_fd, path);
    if (!at.ok()) return 0;
    err = ::statx(at->fd.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
                  STATX_MNT_ID | kStatxMntIdUnique, &stx);
  } else {
    err = ::statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID | kStatxMntIdUnique,
                  &stx);
  }
  if (err != 0 || (stx.stx_mask & (STATX_MNT_ID | kStatxMntIdUnique)) == 0) {
    return 0;
  }
  return stx.stx_mnt_id;
}

absl::Status ExecInRoot(const Plan& plan, std::vector<UndoRecord>* undo) {
  ASSIGN_OR_RETURN(Root root, OpenTheRoot(*plan.root));
  absl::Status s = std::visit(
      [&](const auto& p) -> absl::Status {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, NewMountPlan>) {
          return NewMountInRoot(plan, p, root, undo);
        } else if constexpr (std::is_same_v<T, BindPlan>) {
          return BindInRoot(plan, p, root, undo);
        } else if constexpr (std::is_same_v<T, MovePlan>) {
          return MoveInRoot(plan, p, root, undo);
        } else if constexpr (std::is_same_v<T, RemountPlan>) {
          return RemountInRoot(plan, p, root);
        } else if constexpr (std::is_same_v<T, UmountPlan>) {
          return UmountInRoot(plan, p, root);
        } else {
          return BadArgumentError(plan.operation, "root",
                                  "pivot_root takes no root");
        }
      },
      plan.call);
  return NameInRoot(s, root);
}

}  // namespace linx::mount_internal
