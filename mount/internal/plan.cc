#include "mount/internal/plan.h"

#include <limits.h>
#include <sys/mount.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "mount/flags.h"

namespace linx::mount_internal {
namespace {

constexpr size_t kMaxPathBytes = PATH_MAX - 1;

// Per-mount flags: what MS_REMOUNT|MS_BIND can change (mount(2), "Changing
// the mount flags of a bind mount" / "Remounting an existing mount").
constexpr unsigned long kAtimeBits =
    MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kPerMountBits =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW | kAtimeBits;
constexpr unsigned long kPropagationBits =
    MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;

absl::Status BadFlag(const char* op, absl::string_view value,
                     absl::string_view problem) {
  return MakeOpError({op, Stage::kBadFlag, 0, std::string(value)},
                     absl::StrCat(op, ": ", problem));
}

enum class PathKind {
  kOptional,  // may be empty (mount's source, data); need not be absolute
  kPath,      // required; absolute unless in the caller's namespace
};

absl::Status CheckString(const char* op, absl::string_view name,
                         absl::string_view value, PathKind kind,
                         const Namespace& in) {
  if (value.find('\0') != absl::string_view::npos) {
    return BadArgumentError(op, name,
                            absl::StrCat(Quote(value), " contains a NUL byte"));
  }
  if (value.size() > kMaxPathBytes) {
    return BadArgumentError(op, name,
                            absl::StrCat("is longer than ", kMaxPathBytes,
                                         " bytes (", value.size(), ")"));
  }
  if (kind == PathKind::kPath) {
    if (value.empty()) return BadArgumentError(op, name, "is empty");
    // setns(2) resets the worker's cwd to the namespace's root, so a
    // relative path there means nothing the caller could have meant.
    if (!in.is_self() && value[0] != '/') {
      return BadArgumentError(
          op, name,
          absl::StrCat(Quote(value), " must be absolute in ", in.Describe()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMountFlags(const char* op,
                             const std::vector<MountFlag>& flags) {
  for (MountFlag f : flags) {
    int i = static_cast<int>(f);
    if (i < 0 || i > static_cast<int>(MountFlag::kNosymfollow)) {
      return BadFlag(op, absl::StrCat("MountFlag(", i, ")"),
                     absl::StrCat("unknown mount flag value ", i));
    }
  }
  // mount_namespaces(7): one propagation type per call.
  std::vector<MountFlag> props;
  for (MountFlag f : flags) {
    if (IsPropagationFlag(f)) props.push_back(f);
  }
  if (std::set<MountFlag>(props.begin(), props.end()).size() > 1) {
    std::string words = JoinMountFlags(props);
    return BadFlag(op, words,
                   absl::StrCat("at most one propagation flag (got ", words,
                                "); mount_namespaces(7)"));
  }
  return absl::OkStatus();
}

absl::Status CheckOneAtime(const char* op, unsigned long bits) {
  unsigned long atime = bits & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  if (atime != 0 && (atime & (atime - 1)) != 0) {
    return BadFlag(
        op, RenderMountFlags(atime),
        absl::StrCat("contradictory atime flags ", RenderMountFlags(atime)));
  }
  return absl::OkStatus();
}

// The kernel rule every verb shares (mount_namespaces(7)): a propagation
// type cannot be combined with other changes in one mount(2) call, so it is
// split off into its own call mount(NULL, target, NULL, MS_<type>[|MS_REC|
// MS_SILENT], NULL), made after the main one. When nothing but propagation
// was asked, the main call is skipped (what mount(8) --make-* does).
struct Split {
  unsigned long main = 0;         // the bits left for the main call
  unsigned long propagation = 0;  // the propagation call's bits, or 0
  bool only_propagation = false;
};
Split SplitPropagation(unsigned long bits) {
  Split s;
  unsigned long prop = bits & kPropagationBits;
  s.main = bits & ~kPropagationBits;
  if (prop != 0) s.propagation = prop | (s.main & (MS_REC | MS_SILENT));
  s.only_propagation = prop != 0 && (s.main & ~(MS_REC | MS_SILENT)) == 0;
  return s;
}

// MOVE_MOUNT_BENEATH (6.5): flags are checked before fds, so an unknown
// flag answers EINVAL and a known one EBADF. Probed once.
bool HasMoveMountBeneath() {
  static const bool has = [] {
    int r = sys::MoveMount(-1, "", -1, "",
                           sys::kMoveMountBeneath | sys::kMoveMountFEmptyPath);
    return r == 0 || errno != EINVAL;
  }();
  return has;
}

absl::Status CheckBeneath(const char* op, bool beneath) {
  if (!beneath || HasMoveMountBeneath()) return absl::OkStatus();
  return BadArgumentError(op, "beneath",
                          "needs Linux 6.5 (MOVE_MOUNT_BENEATH); this kernel "
                          "does not have it");
}

// The root of a command, checked: "" or an absolute path in another
// namespace, no NUL, not too long. `mkdir` without a root means "/".
absl::StatusOr<std::optional<RootSpec>> RootOf(const char* op,
                                               const InRoot& root, bool mkdir,
                                               const Namespace& in) {
  if (!root.enabled() && !mkdir) return std::optional<RootSpec>();
  RootSpec spec;
  spec.fd = root.fd;
  spec.dir = root.fd >= 0 ? "" : root.dir.empty() ? "/" : root.dir;
  spec.mkdir = mkdir;
  if (root.fd < 0) {
    RETURN_IF_ERROR(CheckString(op, "root", spec.dir, PathKind::kPath, in));
  }
  return std::optional<RootSpec>(std::move(spec));
}

// The namespace a path is checked against: with a root, paths are relative
// to the root, so a relative one is as good as an absolute one.
const Namespace& PathsIn(const InRoot& root, bool mkdir, const Namespace& in) {
  static const Namespace* self = new Namespace(Namespace::Self());
  return root.enabled() || mkdir ? *self : in;
}

absl::StatusOr<Plan> PlanMount(const MountCommand& c, const Namespace& in) {
  const char* op = "mount";
  const MountOptions& o = c.options;
  RETURN_IF_ERROR(CheckString(op, "source", c.source, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckString(op, "target", c.target, PathKind::kPath,
                              PathsIn(o.root, o.mkdir, in)));
  RETURN_IF_ERROR(CheckString(op, "fstype", c.fstype, PathKind::kOptional, in));
  ASSIGN_OR_RETURN(std::optional<RootSpec> root,
                   RootOf(op, o.root, o.mkdir, in));
  // A new filesystem's data goes through fsconfig(2), one option at a
  // time, where the kernel has it: mount(2)'s one-page limit does not
  // apply there (calls.cc enforces it where mount(2) is used).
  if (o.data.find('\0') != std::string::npos) {
    return BadArgumentError(
        op, "data",
        absl::StrCat(Quote(o.data.substr(0, 64)), " contains a NUL byte"));
  }
  if (o.data.size() > kMaxMountDataBytes) {
    return BadArgumentError(op, "data",
                            absl::StrCat("is longer than ", kMaxMountDataBytes,
                                         " bytes (", o.data.size(), ")"));
  }
  RETURN_IF_ERROR(CheckMountFlags(op, o.flags));
  NewMountPlan p;
  p.source = c.source;
  p.target = c.target;
  p.fstype = c.fstype;
  p.data = o.data;
  p.create = o.create;
  Split s = SplitPropagation(MountFlagsToBits(o.flags));
  p.flags = s.main;
  p.propagation = s.propagation;
  p.main_call = !(s.only_propagation && c.source.empty() && c.fstype.empty() &&
                  o.data.empty());
  if (!p.main_call) p.flags = 0;
  p.beneath = o.beneath;
  if (o.beneath && !p.main_call) {
    return BadArgumentError(op, "beneath", "needs a new mount to slide under");
  }
  RETURN_IF_ERROR(CheckBeneath(op, o.beneath));
  Plan plan;
  plan.operation = op;
  if (root) {
    // The resolver creates the placeholder, inside the root.
    root->create = p.create;
    p.create = false;
  }
  plan.root = std::move(root);
  plan.call = std::move(p);
  return plan;
}

absl::StatusOr<Plan> PlanBind(const BindCommand& c, const Namespace& in) {
  const char* op = "bind";
  const BindOptions& o = c.options;
  // A source from the caller's namespace may be relative.
  RETURN_IF_ERROR(CheckString(op, "source", c.source, PathKind::kPath,
                              c.source_from_caller ? Namespace::Self() : in));
  RETURN_IF_ERROR(CheckString(op, "target", c.target, PathKind::kPath,
                              PathsIn(o.root, o.mkdir, in)));
  RETURN_IF_ERROR(CheckString(op, "data", o.data, PathKind::kOptional, in));
  ASSIGN_OR_RETURN(std::optional<RootSpec> root,
                   RootOf(op, o.root, o.mkdir, in));
  if (o.source_in_root && !o.root.enabled()) {
    return BadArgumentError(op, "source_in_root", "needs a root");
  }
  if (o.source_in_root && c.source_from_caller) {
    return BadArgumentError(
        op, "source_in_root",
        "contradicts a source from the caller's namespace (BindFromHost)");
  }
  if (c.source_tree != nullptr) {
    if (o.source_in_root) {
      return BadArgumentError(op, "source_in_root",
                              "contradicts a source tree the caller cloned");
    }
    if (!c.source_tree->valid()) {
      return BadArgumentError(op, "source_tree", "is not an open tree");
    }
  }
  RETURN_IF_ERROR(CheckMountFlags(op, o.flags));
  for (MountFlag f : o.flags) {
    switch (f) {
      case MountFlag::kSync:
      case MountFlag::kRemount:
      case MountFlag::kMandlock:
      case MountFlag::kDirsync:
      case MountFlag::kMove:
      case MountFlag::kLazytime:
        return BadFlag(op, MountFlagName(f),
                       absl::StrCat("flag \"", MountFlagName(f),
                                    "\" is not a per-mount flag and cannot "
                                    "apply to a bind mount"));
      default:
        break;
    }
  }
  unsigned long bits = MountFlagsToBits(o.flags);
  RETURN_IF_ERROR(CheckOneAtime(op, bits));
  BindPlan p;
  p.source = c.source;
  p.target = c.target;
  p.data = o.data;
  p.create = o.create;
  p.from_caller = c.source_from_caller || c.source_tree != nullptr;
  p.tree = c.source_tree;
  p.rec = (bits & MS_REC) != 0;
  // mount(2) ignores per-mount flags on MS_BIND: they need the follow-up.
  p.per_mount = bits & kPerMountBits;
  p.propagation = SplitPropagation(bits).propagation;
  p.idmap = o.idmap;
  p.beneath = o.beneath;
  RETURN_IF_ERROR(CheckBeneath(op, o.beneath));
  Plan plan;
  plan.operation = op;
  if (root) {
    root->create = p.create;
    root->source_in_root = o.source_in_root;
    p.create = false;
    // A source that is not resolved in the root is the caller's path: it
    // is cloned on the calling thread (open_tree), like BindFromHost, so
    // the image cannot redirect it either.
    if (!o.source_in_root) p.from_caller = true;
  }
  plan.root = std::move(root);
  plan.call = std::move(p);
  return plan;
}

absl::StatusOr<Plan> PlanMove(const MoveCommand& c, const Namespace& in) {
  const char* op = "move";
  const Namespace& paths_in = PathsIn(c.options.root, false, in);
  RETURN_IF_ERROR(
      CheckString(op, "source", c.source, PathKind::kPath, paths_in));
  RETURN_IF_ERROR(
      CheckString(op, "target", c.target, PathKind::kPath, paths_in));
  Plan plan;
  plan.operation = op;
  ASSIGN_OR_RETURN(plan.root, RootOf(op, c.options.root, false, in));
  if (plan.root) plan.root->source_in_root = true;
  plan.call = MovePlan{c.source, c.target};
  return plan;
}

absl::StatusOr<Plan> PlanRemount(const RemountCommand& c, const Namespace& in) {
  const char* op = "remount";
  const RemountOptions& o = c.options;
  RETURN_IF_ERROR(CheckString(op, "target", c.target, PathKind::kPath,
                              PathsIn(o.root, false, in)));
  RETURN_IF_ERROR(CheckString(op, "data", o.data, PathKind::kOptional, in));
  RETURN_IF_ERROR(CheckMountFlags(op, o.flags));
  for (MountFlag f : o.flags) {
    if (f == MountFlag::kMove) {
      return BadFlag(op, MountFlagName(f),
                     "flag \"move\" cannot be combined with a remount "
                     "(mount(2)); use Move(source, target) to move a mount");
    }
  }
  unsigned long bits = MountFlagsToBits(o.flags);
  RETURN_IF_ERROR(CheckOneAtime(op, bits));
  RemountPlan p;
  p.target = c.target;
  p.data = o.data;
  Split s = SplitPropagation(bits & ~MS_BIND);
  p.propagation = s.propagation;
  // `remount X --flags private`: nothing to remount, one propagation call.
  p.main_call = !(s.only_propagation && o.data.empty());
  p.flags = MS_REMOUNT | (bits & ~kPropagationBits);
  if (o.recursive) {
    unsigned long other = bits & ~(kPerMountBits | kPropagationBits | MS_BIND |
                                   MS_REC | MS_SILENT);
    if (other != 0) {
      return BadFlag(op, RenderMountFlags(other),
                     absl::StrCat("a recursive remount changes per-mount "
                                  "flags only, not ",
                                  RenderMountFlags(other)));
    }
    if (!o.data.empty()) {
      return BadArgumentError(op, "data",
                              "cannot be changed by a recursive remount");
    }
    p.recursive = true;
    p.per_mount = bits & kPerMountBits;
    if (p.propagation != 0) p.propagation |= MS_REC;
  }
  Plan plan;
  plan.operation = op;
  ASSIGN_OR_RETURN(plan.root, RootOf(op, o.root, false, in));
  plan.call = std::move(p);
  return plan;
}

absl::StatusOr<Plan> PlanUmount(const UmountCommand& c, const Namespace& in) {
  const char* op = "umount";
  const UmountOptions& o = c.options;
  RETURN_IF_ERROR(CheckString(op, "target", c.target, PathKind::kPath,
                              PathsIn(o.root, false, in)));
  for (UmountFlag f : o.flags) {
    int i = static_cast<int>(f);
    if (i < 0 || i > static_cast<int>(UmountFlag::kNoFollow)) {
      return BadFlag(op, absl::StrCat("UmountFlag(", i, ")"),
                     absl::StrCat("unknown umount flag value ", i));
    }
  }
  int bits = UmountFlagsToBits(o.flags);
  // umount2(2): MNT_EXPIRE cannot be specified with MNT_FORCE or MNT_DETACH.
  if ((bits & MNT_EXPIRE) != 0 && (bits & (MNT_FORCE | MNT_DETACH)) != 0) {
    return BadFlag(op, JoinUmountFlags(o.flags),
                   "expire cannot be combined with force or detach "
                   "(umount2(2))");
  }
  UmountPlan p;
  p.target = c.target;
  p.flags = bits;
  // MNT_DETACH already takes the whole tree in one umount2(2) call.
  p.recursive = o.recursive && (bits & MNT_DETACH) == 0;
  Plan plan;
  plan.operation = op;
  ASSIGN_OR_RETURN(plan.root, RootOf(op, o.root, false, in));
  plan.call = std::move(p);
  return plan;
}

absl::StatusOr<Plan> PlanPivotRoot(const PivotRootCommand& c,
                                   const Namespace& in) {
  const char* op = "pivot_root";
  RETURN_IF_ERROR(CheckString(op, "new_root", c.new_root, PathKind::kPath, in));
  // put_old may be relative: it is resolved against new_root (the worker's
  // cwd when pivot_root(2) runs).
  RETURN_IF_ERROR(CheckString(op, "put_old", c.put_old, PathKind::kPath,
                              Namespace::Self()));
  Plan plan;
  plan.operation = op;
  plan.call = PivotRootPlan{c.new_root, c.put_old};
  return plan;
}

// Where a plan runs (nsexec/nsexec.h has the threading model).
Where WhereOf(const Plan& plan, const Namespace& in) {
  if (in.is_self()) {
    // pivot_root(2) moves the root and cwd of the thread that calls it (and
    // of every process sharing the old root): the worker has unshared
    // CLONE_FS and chdir'ed into new_root, so the caller's cwd never moves.
    return std::holds_alternative<PivotRootPlan>(plan.call) ? Where::kWorker
                                                            : Where::kCaller;
  }
  // A proc mount shows the PID namespace of the process that mounts it
  // (proc(5)): it is made by a child forked into the target's PID
  // namespace. A namespace opened with an explicit pidns_path asks for that
  // PID namespace for every mount.
  const auto* m = std::get_if<NewMountPlan>(&plan.call);
  if (m != nullptr && m->main_call && m->fstype == "proc") {
    return Where::kForked;
  }
  // Joining a user namespace needs a single-threaded caller: a child forked
  // from the worker (MakePlan refuses the verbs that cannot go there).
  if (in.joins_userns()) return Where::kForked;
  const auto* r = std::get_if<RemountPlan>(&plan.call);
  if (in.has_pidns_path() && !std::holds_alternative<UmountPlan>(plan.call) &&
      !std::holds_alternative<PivotRootPlan>(plan.call) &&
      !(r != nullptr && r->recursive)) {
    return Where::kForked;
  }
  return Where::kWorker;
}

}  // namespace

bool TakesForkedFsContext(const Plan& plan) {
  const auto* p = std::get_if<NewMountPlan>(&plan.call);
  return p != nullptr && plan.root && plan.where == Where::kForked &&
         p->main_call && p->fstype == "proc" &&
         (p->flags & (MS_BIND | MS_MOVE | MS_REMOUNT)) == 0 && !p->beneath &&
         p->data.find('"') == std::string::npos;
}

const Namespace& InOf(const Command& command) {
  return std::visit(
      [](const auto& c) -> const Namespace& { return c.options.in; }, command);
}

absl::StatusOr<Plan> MakePlan(const Command& command, const Namespace& in) {
  absl::StatusOr<Plan> plan = std::visit(
      [&](const auto& c) -> absl::StatusOr<Plan> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, MountCommand>) return PlanMount(c, in);
        if constexpr (std::is_same_v<T, BindCommand>) return PlanBind(c, in);
        if constexpr (std::is_same_v<T, MoveCommand>) return PlanMove(c, in);
        if constexpr (std::is_same_v<T, RemountCommand>) {
          return PlanRemount(c, in);
        }
        if constexpr (std::is_same_v<T, UmountCommand>) {
          return PlanUmount(c, in);
        }
        if constexpr (std::is_same_v<T, PivotRootCommand>) {
          return PlanPivotRoot(c, in);
        }
      },
      command);
  if (!plan.ok()) return plan;
  plan->in_suffix = in.is_self() ? "" : absl::StrCat(" in ", in.Describe());
  plan->where = WhereOf(*plan, in);
  const auto* bind = std::get_if<BindPlan>(&plan->call);
  const auto* fresh = std::get_if<NewMountPlan>(&plan->call);
  if (plan->where == Where::kForked &&
      ((bind != nullptr && bind->needs_fd_api()) ||
       (fresh != nullptr && fresh->beneath))) {
    return BadArgumentError(
        plan->operation, bind != nullptr && bind->idmap ? "idmap" : "beneath",
        "cannot be combined with a mount made in the "
        "target's PID namespace yet");
  }
  if (in.joins_userns()) {
    const auto* u = std::get_if<UmountPlan>(&plan->call);
    const auto* rm = std::get_if<RemountPlan>(&plan->call);
    if (std::holds_alternative<PivotRootPlan>(plan->call) ||
        (u != nullptr && u->recursive) || (rm != nullptr && rm->recursive)) {
      return BadArgumentError(plan->operation, "in",
                              "with its user namespace takes mount, bind, "
                              "move, remount and umount (not pivot_root or a "
                              "recursive walk) yet");
    }
  }
  const auto* nm = std::get_if<NewMountPlan>(&plan->call);
  if (nm != nullptr && plan->where == Where::kForked &&
      nm->data.size() > kMaxPathBytes) {
    return BadArgumentError(plan->operation, "data",
                            absl::StrCat("is longer than ", kMaxPathBytes,
                                         " bytes, which mount(2) in a forked "
                                         "child cannot take"));
  }
  if (plan->root && plan->where == Where::kForked &&
      !TakesForkedFsContext(*plan)) {
    // The forked child may run only async-signal-safe code; resolving in a
    // root is not. A proc is the exception (forked.h: the child only opens
    // its fs context); other mounts made in a named PID namespace
    // (pidns_path) with a root are refused.
    return BadArgumentError(plan->operation, "root",
                            "cannot be combined with a mount made in the "
                            "target's PID namespace (a pidns_path) other "
                            "than a new proc yet");
  }
  return plan;
}

}  // namespace linx::mount_internal
