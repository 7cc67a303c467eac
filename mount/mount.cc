#include "mount/mount.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/internal/hooks.h"
#include "mount/umount_tree.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 256
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

namespace linx {
namespace {

constexpr size_t kMaxPathBytes = PATH_MAX - 1;

enum class Verb {
  kMount,
  kBind,
  kBindFromHost,
  kMove,
  kRemount,
  kUmount,
  kPivotRoot
};

const char* Operation(Verb v) {
  switch (v) {
    case Verb::kMount:
      return "mount";
    case Verb::kBind:
    case Verb::kBindFromHost:
      return "bind";
    case Verb::kMove:
      return "move";
    case Verb::kRemount:
      return "remount";
    case Verb::kUmount:
      return "umount";
    case Verb::kPivotRoot:
      return "pivot_root";
  }
  return "unknown";
}

// Per-mount flags: what MS_REMOUNT|MS_BIND can change (mount(2), "Changing
// the mount flags of a bind mount" / "Remounting an existing mount").
constexpr unsigned long kAtimeBits =
    MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kPerMountBits =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | kAtimeBits;
constexpr unsigned long kPropagationBits =
    MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;

// A verb whose arguments have been checked; everything a worker (or a
// forked child) needs, prepared before the trip.
struct Prepared {
  Verb verb = Verb::kMount;
  std::string source, target, fstype, data;  // "" → NULL
  unsigned long flags = 0;                   // the main mount(2) call's flags
  bool main_call = true;          // kMount: false when only propagation
  unsigned long per_mount = 0;    // kBind: flags for the follow-up remount
  unsigned long propagation = 0;  // MS_<type>[|MS_REC|MS_SILENT], own call
  bool rec = false;
  int umount_flags = 0;
  bool create = false;
  bool forked = false;             // a proc mount through RunInForked
  std::shared_ptr<UniqueFd> tree;  // kBindFromHost: the open_tree(2) clone
  std::string in_suffix;           // "" or " in mount namespace of pid N"
};

const char* CStr(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

std::string Q(absl::string_view s) {
  return absl::StrCat("\"", absl::CEscape(s), "\"");
}
std::string QN(absl::string_view s) { return s.empty() ? "NULL" : Q(s); }

std::string MountCall(absl::string_view source, absl::string_view target,
                      absl::string_view fstype, unsigned long flags,
                      absl::string_view data) {
  return absl::StrCat("mount(", QN(source), ", ", Q(target), ", ", QN(fstype),
                      ", ", RenderMountFlags(flags), ", ", QN(data), ")");
}

std::string OpenTreeCall(const Prepared& p) {
  return absl::StrCat("open_tree(AT_FDCWD, ", Q(p.source),
                      ", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC",
                      p.rec ? "|AT_RECURSIVE" : "", ")");
}

std::string MoveMountCall(const Prepared& p) {
  return absl::StrCat("move_mount(", p.tree ? p.tree->get() : -1,
                      ", \"\", AT_FDCWD, ", Q(p.target),
                      ", MOVE_MOUNT_F_EMPTY_PATH)");
}

// The call a verb is "about": what the message names when a failure happens
// before (setns, create) or around (the forked path) the syscalls.
std::string PrimaryCall(const Prepared& p) {
  switch (p.verb) {
    case Verb::kMount:
      if (!p.main_call) {
        return MountCall("", p.target, "", p.propagation, "");
      }
      return MountCall(p.source, p.target, p.fstype, p.flags, p.data);
    case Verb::kBind:
      return MountCall(p.source, p.target, "", p.flags, p.data);
    case Verb::kBindFromHost:
      return MoveMountCall(p);
    case Verb::kMove:
      return MountCall(p.source, p.target, "", MS_MOVE, "");
    case Verb::kRemount:
      return MountCall("", p.target, "", p.flags, p.data);
    case Verb::kUmount:
      return absl::StrCat("umount2(", Q(p.target), ", ",
                          RenderUmountFlags(p.umount_flags), ")");
    case Verb::kPivotRoot:
      return absl::StrCat("pivot_root(", Q(p.source), ", ", Q(p.target), ")");
  }
  return "";
}

absl::Status CallError(const Prepared& p, absl::string_view call, Stage stage,
                       int err, absl::string_view hint = "") {
  std::string msg = absl::StrCat(call, p.in_suffix, ": ", StageName(stage),
                                 ": ", ErrnoDescription(err));
  if (!hint.empty()) absl::StrAppend(&msg, ": ", hint);
  return MakeOpError({Operation(p.verb), stage, err, ""}, msg);
}

// The same status with `suffix` appended to its message (payload kept).
absl::Status SuffixStatus(const absl::Status& s, absl::string_view suffix) {
  absl::Status out(s.code(), absl::StrCat(s.message(), suffix));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// ---- Argument checks ------------------------------------------------------

absl::Status BadArgument(Verb verb, absl::string_view name,
                         absl::string_view problem) {
  return MakeOpError(
      {Operation(verb), Stage::kBadArgument, 0, std::string(name)},
      absl::StrCat(Operation(verb), ": ", name, " ", problem));
}

absl::Status BadFlag(Verb verb, absl::string_view value,
                     absl::string_view problem) {
  return MakeOpError({Operation(verb), Stage::kBadFlag, 0, std::string(value)},
                     absl::StrCat(Operation(verb), ": ", problem));
}

enum class PathKind {
  kOptional,  // may be empty (mount's source); need not be absolute
  kPath,      // required; absolute unless in the caller's namespace
};

absl::Status CheckString(Verb verb, absl::string_view name,
                         absl::string_view value, PathKind kind,
                         const Namespace& in) {
  if (value.find('\0') != absl::string_view::npos) {
    return BadArgument(verb, name,
                       absl::StrCat(Q(value), " contains a NUL byte"));
  }
  if (value.size() > kMaxPathBytes) {
    return BadArgument(verb, name,
                       absl::StrCat("is longer than ", kMaxPathBytes,
                                    " bytes (", value.size(), ")"));
  }
  if (kind == PathKind::kPath) {
    if (value.empty()) return BadArgument(verb, name, "is empty");
    // setns(2) resets the worker's cwd to the namespace's root, so a
    // relative path there means nothing the caller could have meant.
    if (!in.is_self() && value[0] != '/') {
      return BadArgument(
          verb, name,
          absl::StrCat(Q(value), " must be absolute in ", in.Describe()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMountFlags(Verb verb, const std::vector<MountFlag>& flags) {
  for (MountFlag f : flags) {
    int i = static_cast<int>(f);
    if (i < 0 || i > static_cast<int>(MountFlag::kLazytime)) {
      return BadFlag(verb, absl::StrCat("MountFlag(", i, ")"),
                     absl::StrCat("unknown mount flag value ", i));
    }
  }
  return absl::OkStatus();
}

// mount_namespaces(7): one propagation type per call.
absl::Status CheckOnePropagation(Verb verb,
                                 const std::vector<MountFlag>& flags) {
  std::vector<MountFlag> props;
  for (MountFlag f : flags) {
    if (IsPropagationFlag(f)) props.push_back(f);
  }
  std::set<MountFlag> distinct(props.begin(), props.end());
  if (distinct.size() > 1) {
    std::string words = JoinMountFlags(props);
    return BadFlag(verb, words,
                   absl::StrCat("at most one propagation flag (got ", words,
                                "); mount_namespaces(7)"));
  }
  return absl::OkStatus();
}

absl::Status CheckOneAtime(Verb verb, unsigned long bits) {
  unsigned long atime = bits & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  if (atime != 0 && (atime & (atime - 1)) != 0) {
    return BadFlag(
        verb, RenderMountFlags(atime),
        absl::StrCat("contradictory atime flags ", RenderMountFlags(atime)));
  }
  return absl::OkStatus();
}

std::string InSuffix(const Namespace& in) {
  return in.is_self() ? "" : absl::StrCat(" in ", in.Describe());
}

absl::StatusOr<Prepared> PrepareMount(absl::string_view source,
                                      absl::string_view target,
                                      absl::string_view fstype,
                                      const MountOptions& o,
                                      const Namespace& in) {
  Verb v = Verb::kMount;
  RETURN_IF_ERROR(CheckString(v, "source", source, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckString(v, "target", target, PathKind::kPath, in));
  RETURN_IF_ERROR(CheckString(v, "fstype", fstype, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckString(v, "data", o.data, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckMountFlags(v, o.flags));
  RETURN_IF_ERROR(CheckOnePropagation(v, o.flags));
  Prepared p;
  p.verb = v;
  p.source = std::string(source);
  p.target = std::string(target);
  p.fstype = std::string(fstype);
  p.data = o.data;
  p.create = o.create;
  p.in_suffix = InSuffix(in);
  unsigned long bits = MountFlagsToBits(o.flags);
  unsigned long prop = bits & kPropagationBits;
  unsigned long rest = bits & ~kPropagationBits;
  if (prop == 0) {
    p.flags = bits;
  } else if ((rest & ~(MS_REC | MS_SILENT)) == 0 && source.empty() &&
             fstype.empty() && o.data.empty()) {
    // Only a propagation change: one call, as mount(8) --make-* does.
    p.main_call = false;
    p.propagation = bits;
  } else {
    // A mount and a propagation change: two calls (mount_namespaces(7)).
    p.flags = rest;
    p.propagation = prop | (rest & (MS_REC | MS_SILENT));
  }
  p.forked = fstype == "proc" && !in.is_self();
  return p;
}

absl::StatusOr<Prepared> PrepareBind(Verb v, absl::string_view source,
                                     absl::string_view target,
                                     const BindOptions& o,
                                     const Namespace& in) {
  // BindFromHost's source lives in the caller's namespace: relative is fine.
  RETURN_IF_ERROR(
      CheckString(v, "source", source, PathKind::kPath,
                  v == Verb::kBindFromHost ? Namespace::Self() : in));
  RETURN_IF_ERROR(CheckString(v, "target", target, PathKind::kPath, in));
  RETURN_IF_ERROR(CheckString(v, "data", o.data, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckMountFlags(v, o.flags));
  RETURN_IF_ERROR(CheckOnePropagation(v, o.flags));
  for (MountFlag f : o.flags) {
    switch (f) {
      case MountFlag::kSync:
      case MountFlag::kRemount:
      case MountFlag::kMandlock:
      case MountFlag::kDirsync:
      case MountFlag::kMove:
      case MountFlag::kLazytime:
        return BadFlag(v, MountFlagName(f),
                       absl::StrCat("flag \"", MountFlagName(f),
                                    "\" is not a per-mount flag and cannot "
                                    "apply to a bind mount"));
      default:
        break;
    }
  }
  unsigned long bits = MountFlagsToBits(o.flags);
  RETURN_IF_ERROR(CheckOneAtime(v, bits));
  Prepared p;
  p.verb = v;
  p.source = std::string(source);
  p.target = std::string(target);
  p.data = o.data;
  p.create = o.create;
  p.in_suffix = InSuffix(in);
  p.rec = (bits & MS_REC) != 0;
  p.flags = MS_BIND | (p.rec ? MS_REC : 0);
  p.per_mount = bits & kPerMountBits;
  if ((bits & kPropagationBits) != 0) {
    p.propagation = (bits & kPropagationBits) | (p.rec ? MS_REC : 0);
  }
  return p;
}

absl::StatusOr<Prepared> PrepareMove(absl::string_view source,
                                     absl::string_view target,
                                     const Namespace& in) {
  Verb v = Verb::kMove;
  RETURN_IF_ERROR(CheckString(v, "source", source, PathKind::kPath, in));
  RETURN_IF_ERROR(CheckString(v, "target", target, PathKind::kPath, in));
  Prepared p;
  p.verb = v;
  p.source = std::string(source);
  p.target = std::string(target);
  p.flags = MS_MOVE;
  p.in_suffix = InSuffix(in);
  return p;
}

absl::StatusOr<Prepared> PrepareRemount(absl::string_view target,
                                        const RemountOptions& o,
                                        const Namespace& in) {
  Verb v = Verb::kRemount;
  RETURN_IF_ERROR(CheckString(v, "target", target, PathKind::kPath, in));
  RETURN_IF_ERROR(CheckString(v, "data", o.data, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckMountFlags(v, o.flags));
  for (MountFlag f : o.flags) {
    if (IsPropagationFlag(f) || f == MountFlag::kMove) {
      return BadFlag(
          v, MountFlagName(f),
          absl::StrCat("flag \"", MountFlagName(f),
                       "\" cannot be combined with a remount "
                       "(mount(2)); change propagation with Mount(\"\", "
                       "target, \"\", {flags: {",
                       MountFlagName(f), "}})"));
    }
  }
  unsigned long bits = MountFlagsToBits(o.flags);
  RETURN_IF_ERROR(CheckOneAtime(v, bits));
  Prepared p;
  p.verb = v;
  p.target = std::string(target);
  p.data = o.data;
  p.flags = MS_REMOUNT | bits;
  p.in_suffix = InSuffix(in);
  return p;
}

absl::StatusOr<Prepared> PrepareUmount(absl::string_view target,
                                       const UmountOptions& o,
                                       const Namespace& in) {
  Verb v = Verb::kUmount;
  RETURN_IF_ERROR(CheckString(v, "target", target, PathKind::kPath, in));
  for (UmountFlag f : o.flags) {
    int i = static_cast<int>(f);
    if (i < 0 || i > static_cast<int>(UmountFlag::kNoFollow)) {
      return BadFlag(v, absl::StrCat("UmountFlag(", i, ")"),
                     absl::StrCat("unknown umount flag value ", i));
    }
  }
  int bits = UmountFlagsToBits(o.flags);
  // umount2(2): MNT_EXPIRE cannot be specified with MNT_FORCE or MNT_DETACH.
  if ((bits & MNT_EXPIRE) != 0 && (bits & (MNT_FORCE | MNT_DETACH)) != 0) {
    return BadFlag(v, JoinUmountFlags(o.flags),
                   "expire cannot be combined with force or detach "
                   "(umount2(2))");
  }
  Prepared p;
  p.verb = v;
  p.target = std::string(target);
  p.umount_flags = bits;
  p.in_suffix = InSuffix(in);
  return p;
}

// For kPivotRoot, `source` is new_root and `target` is put_old.
absl::StatusOr<Prepared> PreparePivotRoot(absl::string_view new_root,
                                          absl::string_view put_old,
                                          const Namespace& in) {
  Verb v = Verb::kPivotRoot;
  RETURN_IF_ERROR(CheckString(v, "new_root", new_root, PathKind::kPath, in));
  // put_old may be relative: it is resolved against new_root (the worker's
  // cwd when pivot_root(2) runs).
  RETURN_IF_ERROR(
      CheckString(v, "put_old", put_old, PathKind::kPath, Namespace::Self()));
  Prepared p;
  p.verb = v;
  p.source = std::string(new_root);
  p.target = std::string(put_old);
  p.in_suffix = InSuffix(in);
  return p;
}

// ---- Execution (on whatever thread is already in the right namespace) ----

// `create`: returns whether a file was created (so a failure can remove it).
absl::StatusOr<bool> CreatePlaceholder(const Prepared& p) {
  if (!p.create) return false;
  int fd = RetryOnEintr([&] {
    return ::open(p.target.c_str(),
                  O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  });
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return false;  // any existing target is fine
    return CallError(p, PrimaryCall(p), Stage::kCreate, err,
                     absl::StrCat("creating the placeholder ", Q(p.target)));
  }
  ::close(fd);
  return true;
}

void RemovePlaceholder(const Prepared& p, bool created) {
  if (created) ::unlink(p.target.c_str());
}

// statvfs(3) f_flag bits → the MS_* per-mount bits in force; the errno of
// statvfs on failure.
std::variant<unsigned long, int> PerMountFlagsInForce(const std::string& path) {
  struct statvfs sv;
  if (::statvfs(path.c_str(), &sv) != 0) return errno;
  unsigned long in_force = 0;
  if (sv.f_flag & ST_RDONLY) in_force |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) in_force |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) in_force |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) in_force |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) in_force |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) in_force |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) in_force |= MS_RELATIME;
  if (sv.f_flag & ST_NOSYMFOLLOW) in_force |= MS_NOSYMFOLLOW;
  return in_force;
}

// mount(2), "Changing the mount flags of a bind mount": MS_REMOUNT|MS_BIND
// sets exactly the per-mount flags given. Flags already in force are added
// so none is cleared by accident — and so the call works where they are
// locked (mount_namespaces(7): a mount that came from a more privileged
// namespace keeps MNT_LOCK_{READONLY,NOSUID,NODEV,NOEXEC,ATIME}; trying to
// clear one fails with EPERM; util-linux#1705, runc#1229). Atime flags in
// force are kept only when the caller asked for none.
absl::Status RemountBindKeeping(const Prepared& p, const std::string& path) {
  std::variant<unsigned long, int> got = PerMountFlagsInForce(path);
  if (const int* err = std::get_if<int>(&got)) {
    return CallError(p, absl::StrCat("statvfs(", Q(path), ")"), Stage::kMount,
                     *err);
  }
  const unsigned long in_force = std::get<unsigned long>(got);
  unsigned long keep = in_force;
  if ((p.per_mount & kAtimeBits) != 0) keep &= ~kAtimeBits;
  unsigned long flags = MS_REMOUNT | MS_BIND | p.per_mount | keep;
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) {
    int err = errno;
    std::string hint;
    if (err == EPERM) {
      hint = absl::StrCat(
          "a locked flag would change (mount_namespaces(7): flags of a "
          "mount from a more privileged namespace are locked); in force: ",
          RenderMountFlags(in_force));
    }
    return CallError(p, MountCall("", path, "", flags, ""), Stage::kMount, err,
                     hint);
  }
  return absl::OkStatus();
}

std::atomic<bool> g_no_mount_setattr{false};

// The mount points of the mount at `path` and of every mount below it, in
// mount order, read from /proc/thread-self/mountinfo (the reading thread's
// view, so this works on a worker in another namespace).
absl::StatusOr<std::vector<std::string>> MountTree(const Prepared& p) {
  char real[PATH_MAX];
  if (::realpath(p.target.c_str(), real) == nullptr) {
    int err = errno;
    return CallError(p, absl::StrCat("realpath(", Q(p.target), ")"),
                     Stage::kMount, err);
  }
  ASSIGN_OR_RETURN(MountTable table, ReadMountInfo());
  int32_t top = -1;
  for (const MountEntry& e : table) {
    if (e.target == real) top = e.id;  // the last one is the topmost
  }
  std::vector<std::string> out;
  if (top < 0) return out;
  std::set<int32_t> ids = {top};
  out.push_back(real);
  bool grew = true;
  while (grew) {
    grew = false;
    for (const MountEntry& e : table) {
      if (ids.count(e.id) == 0 && ids.count(e.parent_id) != 0) {
        ids.insert(e.id);
        out.push_back(std::string(e.target));
        grew = true;
      }
    }
  }
  return out;
}

// The per-mount flags of a bind, applied after the bind itself.
absl::Status ApplyPerMount(const Prepared& p) {
  if (p.per_mount == 0) return absl::OkStatus();
  if (!p.rec) return RemountBindKeeping(p, p.target);
  if (!mount_internal::ForceSubmountWalk() && !g_no_mount_setattr.load()) {
    // mount_setattr(2) (5.12+): sets attributes on the whole tree in one
    // call; it only sets what is asked (attr_clr = 0 except the atime
    // field), so locked flags stay as they are.
    sys::MountAttr attr;
    std::vector<std::string> names;
    auto add = [&](unsigned long ms, uint64_t a, const char* name) {
      if (p.per_mount & ms) {
        attr.attr_set |= a;
        names.push_back(name);
      }
    };
    add(MS_RDONLY, sys::kMountAttrRdonly, "MOUNT_ATTR_RDONLY");
    add(MS_NOSUID, sys::kMountAttrNosuid, "MOUNT_ATTR_NOSUID");
    add(MS_NODEV, sys::kMountAttrNodev, "MOUNT_ATTR_NODEV");
    add(MS_NOEXEC, sys::kMountAttrNoexec, "MOUNT_ATTR_NOEXEC");
    add(MS_NODIRATIME, sys::kMountAttrNodiratime, "MOUNT_ATTR_NODIRATIME");
    add(MS_NOATIME, sys::kMountAttrNoatime, "MOUNT_ATTR_NOATIME");
    add(MS_STRICTATIME, sys::kMountAttrStrictatime, "MOUNT_ATTR_STRICTATIME");
    if (p.per_mount & MS_RELATIME) names.push_back("MOUNT_ATTR_RELATIME");
    if (p.per_mount & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
      // mount_setattr(2): an atime change must clear the whole atime field.
      attr.attr_clr = sys::kMountAttrAtimeMask;
    }
    if (sys::MountSetattr(AT_FDCWD, p.target.c_str(), sys::kAtRecursive,
                          &attr) == 0) {
      return absl::OkStatus();
    }
    int err = errno;
    if (err != ENOSYS) {
      std::string set;
      for (const std::string& n : names) {
        absl::StrAppend(&set, set.empty() ? "" : "|", n);
      }
      return CallError(
          p,
          absl::StrCat("mount_setattr(AT_FDCWD, ", Q(p.target),
                       ", AT_RECURSIVE, {attr_set=", set,
                       attr.attr_clr ? ", attr_clr=MOUNT_ATTR__ATIME" : "",
                       "})"),
          Stage::kMount, err);
    }
    g_no_mount_setattr.store(true);  // probed once: a kernel before 5.12
  }
  // Before 5.12: the same remount on every mount of the tree, top first.
  ASSIGN_OR_RETURN(std::vector<std::string> tree, MountTree(p));
  for (const std::string& path : tree) {
    RETURN_IF_ERROR(RemountBindKeeping(p, path));
  }
  return absl::OkStatus();
}

// Undo a mount this call made, so a failed verb leaves nothing behind.
absl::Status UndoAfter(const Prepared& p, const absl::Status& failure,
                       bool created) {
  absl::Status s = failure;
  if (::umount2(p.target.c_str(), MNT_DETACH) != 0) {
    int err = errno;
    s = SuffixStatus(
        s, absl::StrCat("; undoing it failed too: umount2(", Q(p.target),
                        ", MNT_DETACH): ", ErrnoDescription(err)));
  } else {
    s = SuffixStatus(s, "; the new mount was undone");
  }
  RemovePlaceholder(p, created);
  return s;
}

absl::Status ApplyPropagation(const Prepared& p) {
  if (p.propagation == 0) return absl::OkStatus();
  if (::mount(nullptr, p.target.c_str(), nullptr, p.propagation, nullptr) !=
      0) {
    int err = errno;
    return CallError(p, MountCall("", p.target, "", p.propagation, ""),
                     Stage::kMount, err);
  }
  return absl::OkStatus();
}

std::string MountHint(const Prepared& p, int err) {
  if (p.verb == Verb::kMove && err == EINVAL) {
    return "source is not a mount point, or target is under source, or the "
           "parent mount of source is shared (mount(2), MS_MOVE)";
  }
  if (p.verb == Verb::kMount && err == ENODEV && !p.fstype.empty()) {
    return absl::StrCat("filesystem type ", Q(p.fstype),
                        " is not configured in the kernel");
  }
  return "";
}

absl::Status ExecMount(const Prepared& p) {
  ASSIGN_OR_RETURN(bool created, CreatePlaceholder(p));
  if (p.main_call) {
    if (::mount(CStr(p.source), p.target.c_str(), CStr(p.fstype), p.flags,
                CStr(p.data)) != 0) {
      int err = errno;
      RemovePlaceholder(p, created);
      return CallError(p, PrimaryCall(p), Stage::kMount, err,
                       MountHint(p, err));
    }
  }
  absl::Status s = ApplyPropagation(p);
  if (!s.ok()) {
    // A remount or a move made no new mount: nothing to undo.
    if (p.main_call && (p.flags & (MS_REMOUNT | MS_MOVE)) == 0) {
      return UndoAfter(p, s, created);
    }
    RemovePlaceholder(p, created);
  }
  return s;
}

absl::Status ExecBind(const Prepared& p) {
  ASSIGN_OR_RETURN(bool created, CreatePlaceholder(p));
  if (p.verb == Verb::kBindFromHost) {
    // move_mount(2): attaches the detached tree made by open_tree(2) in the
    // caller's namespace at target, in this thread's namespace.
    if (sys::MoveMount(p.tree->get(), "", AT_FDCWD, p.target.c_str(),
                       sys::kMoveMountFEmptyPath) != 0) {
      int err = errno;
      RemovePlaceholder(p, created);
      return CallError(p, MoveMountCall(p), Stage::kMount, err);
    }
  } else if (::mount(p.source.c_str(), p.target.c_str(), nullptr, p.flags,
                     CStr(p.data)) != 0) {
    int err = errno;
    RemovePlaceholder(p, created);
    return CallError(p, PrimaryCall(p), Stage::kMount, err);
  }
  absl::Status s = ApplyPerMount(p);
  if (s.ok()) s = ApplyPropagation(p);
  if (!s.ok()) return UndoAfter(p, s, created);
  return absl::OkStatus();
}

absl::Status ExecMove(const Prepared& p) {
  if (::mount(p.source.c_str(), p.target.c_str(), nullptr, MS_MOVE, nullptr) !=
      0) {
    int err = errno;
    return CallError(p, PrimaryCall(p), Stage::kMount, err, MountHint(p, err));
  }
  return absl::OkStatus();
}

absl::Status ExecRemount(const Prepared& p) {
  if (::mount(nullptr, p.target.c_str(), nullptr, p.flags, CStr(p.data)) != 0) {
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
    return CallError(p, PrimaryCall(p), Stage::kMount, err, hint);
  }
  return absl::OkStatus();
}

absl::Status ExecUmount(const Prepared& p) {
  if (::umount2(p.target.c_str(), p.umount_flags) != 0) {
    int err = errno;
    std::string hint;
    // umount2(2) and umount(8): the errno alone misleads here.
    if (err == EINVAL) {
      hint = (p.umount_flags & (MNT_EXPIRE | UMOUNT_NOFOLLOW)) != 0
                 ? "not a mount point, or bad flags"
                 : "not a mount point";
    } else if (err == EBUSY) {
      hint = "target is busy";
    } else if (err == EAGAIN && (p.umount_flags & MNT_EXPIRE) != 0) {
      hint = "marked as expired; call again to unmount";
    }
    return CallError(p, PrimaryCall(p), Stage::kUmount, err, hint);
  }
  return absl::OkStatus();
}

// Whether `path` is the root of a mount: statx(2) STATX_ATTR_MOUNT_ROOT
// (5.8+); nullopt when the kernel does not say.
std::optional<bool> IsMountRoot(const char* path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) != 0) {
    return std::nullopt;
  }
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
    return std::nullopt;
  }
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

bool IsUnder(absl::string_view path, absl::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (absl::StartsWith(path, dir) &&
                         path.size() > dir.size() && path[dir.size()] == '/');
}

// The entry of the mount whose subtree holds `path` (longest mount point
// prefix; the last of equal ones is the topmost).
const MountEntry* Containing(const MountTable& table, absl::string_view path) {
  const MountEntry* best = nullptr;
  for (const MountEntry& e : table) {
    if (IsUnder(path, e.target) &&
        (best == nullptr || e.target.size() >= best->target.size())) {
      best = &e;
    }
  }
  return best;
}

const MountEntry* ById(const MountTable& table, int32_t id) {
  for (const MountEntry& e : table) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

// pivot_root(2) said EINVAL: find which precondition failed. Runs on the
// pivot worker, whose cwd is new_root. The order follows the kernel's checks
// (fs/namespace.c, SYSCALL_DEFINE2(pivot_root)).
std::string DiagnosePivotRoot(const Prepared& p) {
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return "";
  absl::StatusOr<MountTable> table = ReadMountInfo();
  char put_old_real[PATH_MAX];
  bool have_put_old = ::realpath(p.target.c_str(), put_old_real) != nullptr;
  if (table.ok()) {
    const MountEntry* root = Containing(*table, "/");
    const MountEntry* put_old_mnt =
        have_put_old ? Containing(*table, put_old_real) : nullptr;
    const MountEntry* new_mnt = Containing(*table, cwd);
    const MountEntry* new_parent =
        new_mnt != nullptr ? ById(*table, new_mnt->parent_id) : nullptr;
    const MountEntry* root_parent =
        root != nullptr ? ById(*table, root->parent_id) : nullptr;
    if (put_old_mnt != nullptr && put_old_mnt->shared) {
      return absl::StrCat("the mount holding put_old (", put_old_mnt->target,
                          ") is shared; make it private first");
    }
    if (new_parent != nullptr && new_parent != new_mnt && new_parent->shared) {
      return absl::StrCat("the parent mount of new_root (", new_parent->target,
                          ") is shared; make it private first");
    }
    if (root_parent != nullptr && root_parent != root && root_parent->shared) {
      return "the parent mount of the current root is shared";
    }
  }
  if (IsMountRoot("/") == std::optional<bool>(false)) {
    return "the current root is not a mount point (after chroot(2)?)";
  }
  if (table.ok()) {
    const MountEntry* root = Containing(*table, "/");
    if (root != nullptr && root->parent_id == root->id) {
      return "the current root is the namespace's first mount (rootfs); "
             "pivot_root cannot move it (switch_root(8) uses MS_MOVE and "
             "chroot instead)";
    }
  }
  if (IsMountRoot(".") == std::optional<bool>(false)) {
    return "new_root is not a mount point (bind-mount it onto itself first)";
  }
  if (have_put_old && !IsUnder(put_old_real, cwd)) {
    return "put_old is not at or under new_root";
  }
  if (absl::string_view(cwd) == "/") {
    return "new_root is the current root (its mount may be locked: one "
           "inherited from a more privileged mount namespace cannot be "
           "pivoted away)";
  }
  return "new_root may be a locked mount, or not under the current root "
         "(pivot_root(2))";
}

// Runs on a worker that has unshared CLONE_FS: the chdir cannot move the
// caller. pivot_root(".", put_old) after chdir(new_root) is the nsjail /
// runc idiom; put_old, if relative, is thus relative to new_root.
absl::Status ExecPivotRoot(const Prepared& p) {
  if (::chdir(p.source.c_str()) != 0) {
    int err = errno;
    return CallError(p, PrimaryCall(p), Stage::kChdir, err,
                     absl::StrCat("chdir(", Q(p.source), ")"));
  }
  if (sys::PivotRoot(".", p.target.c_str()) != 0) {
    int err = errno;
    std::string hint;
    if (err == EINVAL) {
      hint = DiagnosePivotRoot(p);
    } else if (err == EBUSY) {
      hint = "new_root or put_old is the current root mount";
    } else if (err == ENOTDIR) {
      hint = "new_root or put_old is not a directory";
    }
    return CallError(p, PrimaryCall(p), Stage::kPivotRoot, err, hint);
  }
  // pivot_root(2) moved this thread's root and cwd to new_root; be explicit.
  if (::chdir("/") != 0) {
    int err = errno;
    return CallError(p, PrimaryCall(p), Stage::kChdir, err, "chdir(\"/\")");
  }
  return absl::OkStatus();
}

absl::Status Exec(const Prepared& p) {
  switch (p.verb) {
    case Verb::kMount:
      return ExecMount(p);
    case Verb::kBind:
    case Verb::kBindFromHost:
      return ExecBind(p);
    case Verb::kMove:
      return ExecMove(p);
    case Verb::kRemount:
      return ExecRemount(p);
    case Verb::kUmount:
      return ExecUmount(p);
    case Verb::kPivotRoot:
      return ExecPivotRoot(p);
  }
  return absl::InternalError("unknown verb");
}

// ---- The proc path --------------------------------------------------------

struct ForkedMountArgs {
  const char* source;
  const char* target;
  const char* fstype;
  const char* data;
  unsigned long flags;
  unsigned long propagation;
  bool main_call;
  bool create;
};

// Runs in a child forked by RunInForked: raw syscalls only (async-signal
// safe; no allocation, no locks), every string prepared beforehand.
StageErrno ForkedMount(void* arg) {
  const ForkedMountArgs* a = static_cast<const ForkedMountArgs*>(arg);
  bool created = false;
  if (a->create) {
    int fd = ::open(a->target,
                    O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      created = true;
      ::close(fd);
    } else if (errno != EEXIST) {
      return {Stage::kCreate, errno};
    }
  }
  if (a->main_call &&
      ::mount(a->source, a->target, a->fstype, a->flags, a->data) != 0) {
    int err = errno;
    if (created) ::unlink(a->target);
    return {Stage::kMount, err};
  }
  if (a->propagation != 0 &&
      ::mount(nullptr, a->target, nullptr, a->propagation, nullptr) != 0) {
    int err = errno;
    if (a->main_call) ::umount2(a->target, MNT_DETACH);
    if (created) ::unlink(a->target);
    return {Stage::kMount, err};
  }
  return {Stage::kNone, 0};
}

absl::Status RunForked(const Prepared& p, const Namespace& in) {
  ForkedMountArgs args{CStr(p.source), p.target.c_str(), CStr(p.fstype),
                       CStr(p.data),   p.flags,          p.propagation,
                       p.main_call,    p.create};
  absl::Status s = RunInForked(in, Operation(p.verb), &ForkedMount, &args);
  if (s.ok()) return s;
  std::optional<OpError> e = GetOpError(s);
  if (e.has_value() && e->stage != Stage::kNone && e->errno_value != 0) {
    return CallError(p, PrimaryCall(p), e->stage, e->errno_value,
                     MountHint(p, e->errno_value));
  }
  return PrefixStatus(s, absl::StrCat(PrimaryCall(p), p.in_suffix, ": "));
}

// ---- Dispatch -------------------------------------------------------------

absl::Status OpenTree(Prepared& p) {
  if (p.verb != Verb::kBindFromHost) return absl::OkStatus();
  // open_tree(2), 5.2+: a detached clone of the source, made in the
  // caller's namespace where the path means what the caller meant.
  unsigned flags =
      sys::kOpenTreeClone | OPEN_TREE_CLOEXEC | (p.rec ? sys::kAtRecursive : 0);
  int fd = sys::OpenTree(AT_FDCWD, p.source.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    Prepared self = p;
    self.in_suffix = "";
    return CallError(self, OpenTreeCall(p), Stage::kMount, err);
  }
  p.tree = std::make_shared<UniqueFd>(fd);
  return absl::OkStatus();
}

absl::Status Run(Prepared p, const Namespace& in) {
  RETURN_IF_ERROR(OpenTree(p));
  if (p.forked) return RunForked(p, in);
  if (in.is_self() && p.verb != Verb::kPivotRoot) return Exec(p);
  bool ran = false;
  absl::Status s = RunIn(in, Operation(p.verb), [&]() -> absl::Status {
    ran = true;
    return Exec(p);
  });
  if (!s.ok() && !ran) {
    s = PrefixStatus(s, absl::StrCat(PrimaryCall(p), p.in_suffix, ": "));
  }
  return s;
}

}  // namespace

const char* Version() { return LINX_VERSION; }

std::optional<MountError> GetMountError(const absl::Status& status) {
  return GetOpError(status);
}

absl::Status Mount(absl::string_view source, absl::string_view target,
                   absl::string_view fstype, const MountOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p,
                   PrepareMount(source, target, fstype, opts, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status Bind(absl::string_view source, absl::string_view target,
                  const BindOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p,
                   PrepareBind(Verb::kBind, source, target, opts, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status BindFromHost(absl::string_view source, absl::string_view target,
                          const BindOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p, PrepareBind(Verb::kBindFromHost, source, target,
                                           opts, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status Move(absl::string_view source, absl::string_view target,
                  const MoveOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p, PrepareMove(source, target, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status Remount(absl::string_view target, const RemountOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p, PrepareRemount(target, opts, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status Umount(absl::string_view target, const UmountOptions& opts) {
  if (opts.recursive) {
    UmountOptions one = opts;
    one.recursive = false;
    return UmountTree(target, one);
  }
  ASSIGN_OR_RETURN(Prepared p, PrepareUmount(target, opts, opts.in));
  return Run(std::move(p), opts.in);
}

absl::Status PivotRoot(absl::string_view new_root, absl::string_view put_old,
                       const PivotRootOptions& opts) {
  ASSIGN_OR_RETURN(Prepared p, PreparePivotRoot(new_root, put_old, opts.in));
  return Run(std::move(p), opts.in);
}

absl::StatusOr<std::vector<MountInfo>> List() {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
  return t.ToMountInfos();
}

absl::StatusOr<std::vector<MountInfo>> List(pid_t pid) {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfoOfPid(pid));
  return t.ToMountInfos();
}

absl::StatusOr<std::vector<MountInfo>> List(absl::string_view path) {
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfoFile(path));
  return t.ToMountInfos();
}

// ---- Batch ----------------------------------------------------------------

struct Batch::Step {
  Verb verb = Verb::kMount;
  std::string a, b, c;  // the verb's string arguments, in order
  MountOptions mount;
  BindOptions bind;
  MoveOptions move;
  RemountOptions remount;
  UmountOptions umount;
  PivotRootOptions pivot;

  const Namespace& in() const {
    switch (verb) {
      case Verb::kMount:
        return mount.in;
      case Verb::kBind:
      case Verb::kBindFromHost:
        return bind.in;
      case Verb::kMove:
        return move.in;
      case Verb::kRemount:
        return remount.in;
      case Verb::kUmount:
        return umount.in;
      case Verb::kPivotRoot:
        return pivot.in;
    }
    return mount.in;
  }

  absl::StatusOr<Prepared> Prepare(const Namespace& ns) const {
    switch (verb) {
      case Verb::kMount:
        return PrepareMount(a, b, c, mount, ns);
      case Verb::kBind:
      case Verb::kBindFromHost:
        return PrepareBind(verb, a, b, bind, ns);
      case Verb::kMove:
        return PrepareMove(a, b, ns);
      case Verb::kRemount:
        return PrepareRemount(a, remount, ns);
      case Verb::kUmount:
        return PrepareUmount(a, umount, ns);
      case Verb::kPivotRoot:
        return PreparePivotRoot(a, b, ns);
    }
    return absl::InternalError("unknown verb");
  }
};

namespace {
Batch::Step MakeStep(Verb verb, std::string a, std::string b, std::string c) {
  Batch::Step s;
  s.verb = verb;
  s.a = std::move(a);
  s.b = std::move(b);
  s.c = std::move(c);
  return s;
}
}  // namespace

Batch::Batch() = default;
Batch::~Batch() = default;
Batch::Batch(const Batch&) = default;
Batch& Batch::operator=(const Batch&) = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

size_t Batch::size() const { return steps_.size(); }

Batch& Batch::Mount(absl::string_view source, absl::string_view target,
                    absl::string_view fstype, const MountOptions& opts) {
  Step s = MakeStep(Verb::kMount, std::string(source), std::string(target),
                    std::string(fstype));
  s.mount = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::Bind(absl::string_view source, absl::string_view target,
                   const BindOptions& opts) {
  Step s = MakeStep(Verb::kBind, std::string(source), std::string(target), "");
  s.bind = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::BindFromHost(absl::string_view source, absl::string_view target,
                           const BindOptions& opts) {
  Step s = MakeStep(Verb::kBindFromHost, std::string(source),
                    std::string(target), "");
  s.bind = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::Move(absl::string_view source, absl::string_view target,
                   const MoveOptions& opts) {
  Step s = MakeStep(Verb::kMove, std::string(source), std::string(target), "");
  s.move = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::Remount(absl::string_view target, const RemountOptions& opts) {
  Step s = MakeStep(Verb::kRemount, std::string(target), "", "");
  s.remount = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::Umount(absl::string_view target, const UmountOptions& opts) {
  Step s = MakeStep(Verb::kUmount, std::string(target), "", "");
  s.umount = opts;
  steps_.push_back(std::move(s));
  return *this;
}

Batch& Batch::PivotRoot(absl::string_view new_root, absl::string_view put_old,
                        const PivotRootOptions& opts) {
  Step s = MakeStep(Verb::kPivotRoot, std::string(new_root),
                    std::string(put_old), "");
  s.pivot = opts;
  steps_.push_back(std::move(s));
  return *this;
}

absl::Status Batch::Run(const Namespace& in) const {
  const size_t n = steps_.size();
  auto step_prefix = [n](size_t i) {
    return absl::StrCat("step ", i + 1, " of ", n, ": ");
  };
  // Everything is checked before the first trip.
  std::vector<Prepared> prepared;
  prepared.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const Step& s = steps_[i];
    if (!s.in().is_self()) {
      return PrefixStatus(
          BadArgument(s.verb, "in",
                      "of a batch step must be Namespace::Self(); the "
                      "batch's namespace is the argument of Run()"),
          step_prefix(i));
    }
    absl::StatusOr<Prepared> p = s.Prepare(in);
    if (!p.ok()) return PrefixStatus(p.status(), step_prefix(i));
    prepared.push_back(*std::move(p));
  }
  for (size_t i = 0; i < n; ++i) {
    absl::Status s = OpenTree(prepared[i]);
    if (!s.ok()) return PrefixStatus(s, step_prefix(i));
  }
  // Trips: runs of ordinary steps share one worker; a forked proc mount is
  // its own trip.
  size_t i = 0;
  while (i < n) {
    if (prepared[i].forked) {
      absl::Status s = RunForked(prepared[i], in);
      if (!s.ok()) return PrefixStatus(s, step_prefix(i));
      ++i;
      continue;
    }
    size_t end = i;
    while (end < n && !prepared[end].forked) ++end;
    size_t failed = i;
    bool ran = false;
    absl::Status s = RunIn(in, "batch", [&]() -> absl::Status {
      ran = true;
      for (size_t k = i; k < end; ++k) {
        failed = k;
        RETURN_IF_ERROR(Exec(prepared[k]));
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      if (!ran) {
        s = PrefixStatus(s, absl::StrCat(PrimaryCall(prepared[i]),
                                         prepared[i].in_suffix, ": "));
      }
      return PrefixStatus(s, step_prefix(failed));
    }
    i = end;
  }
  return absl::OkStatus();
}

}  // namespace linx
