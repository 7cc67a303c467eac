// The one executor: every Command of every front end runs through Execute or
// ExecuteBatch (mount/command.h has the pipeline).
#include <fcntl.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mount/command.h"
#include "mount/flags.h"
#include "mount/in_root.h"
#include "mount/internal/calls.h"
#include "mount/internal/forked.h"
#include "mount/internal/in_root_exec.h"
#include "mount/internal/pivot_root.h"
#include "mount/internal/plan.h"
#include "mount/internal/render.h"
#include "mount/internal/umount_walk.h"

#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

namespace linx {
namespace {

using mount_internal::BindPlan;
using mount_internal::MovePlan;
using mount_internal::NewMountPlan;
using mount_internal::Plan;
using mount_internal::Where;

// A plain-path record (no root) of a new mount, bind or move.
void Record(std::vector<UndoRecord>* undo, const Plan& plan,
            const std::string& at, const std::string& from = "") {
  if (undo == nullptr) return;
  UndoRecord r;
  r.operation = plan.operation;
  r.mounted_at = at;
  r.mount_id = mount_internal::MountIdAt(-1, at);
  r.moved_from = from;
  undo->push_back(std::move(r));
}

// The record of a plan a forked child ran (it cannot write the journal):
// the path in the target namespace, and the mount's ID read there by a
// worker (0 if that trip fails: Undo then goes by path alone).
void RecordForked(const Plan& plan, const Namespace& in,
                  std::vector<UndoRecord>* undo) {
  if (undo == nullptr) return;
  std::string at, from;
  if (const auto* p = std::get_if<NewMountPlan>(&plan.call)) {
    if (!p->main_call || (p->flags & (MS_REMOUNT | MS_MOVE)) != 0) return;
    at = p->target;
  } else if (const auto* b = std::get_if<BindPlan>(&plan.call)) {
    at = b->target;
  } else if (const auto* m = std::get_if<MovePlan>(&plan.call)) {
    at = m->target;
    from = m->source;
  } else {
    return;
  }
  UndoRecord r;
  r.operation = plan.operation;
  r.mounted_at = at;
  r.moved_from = from;
  (void)RunIn(in, "undo", [&]() -> absl::Status {
    r.mount_id = mount_internal::MountIdAt(-1, at);
    return absl::OkStatus();
  });
  undo->push_back(std::move(r));
}

// Runs a plan on the calling thread, which is already where it must run.
absl::Status ExecHere(const Plan& plan,
                      std::vector<UndoRecord>* undo = nullptr) {
  using namespace mount_internal;  // NOLINT: the Exec* family
  if (plan.root) return ExecInRoot(plan, undo);
  return std::visit(
      [&](const auto& p) -> absl::Status {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, NewMountPlan>) {
          RETURN_IF_ERROR(ExecMount(plan, p));
          if (p.main_call && (p.flags & (MS_REMOUNT | MS_MOVE)) == 0) {
            Record(undo, plan, p.target);
          }
          return absl::OkStatus();
        } else if constexpr (std::is_same_v<T, BindPlan>) {
          RETURN_IF_ERROR(ExecBind(plan, p));
          Record(undo, plan, p.target);
          return absl::OkStatus();
        } else if constexpr (std::is_same_v<T, MovePlan>) {
          RETURN_IF_ERROR(ExecMove(plan, p));
          Record(undo, plan, p.target, p.source);
          return absl::OkStatus();
        } else if constexpr (std::is_same_v<T, RemountPlan>) {
          return ExecRemount(plan, p);
        } else if constexpr (std::is_same_v<T, UmountPlan>) {
          if (!p.recursive) return ExecUmount(plan, p);
          return UmountTreeHere(plan, p, [](const Plan& one) {
            return ExecUmount(one, std::get<UmountPlan>(one.call));
          });
        } else {
          return ExecPivotRoot(plan, p);
        }
      },
      plan.call);
}

// A bind whose source is a path of the caller's namespace: after setns the
// caller's paths are invisible, so the source is cloned here, on the
// calling thread: open_tree(2) (5.2+) makes a detached copy that the worker
// attaches with move_mount(2).
absl::Status OpenSourceTree(Plan& plan) {
  auto* bind = std::get_if<BindPlan>(&plan.call);
  if (bind == nullptr || !bind->from_caller) return absl::OkStatus();
  if (bind->tree != nullptr) return absl::OkStatus();  // cloned already
  unsigned flags = sys::kOpenTreeClone | OPEN_TREE_CLOEXEC |
                   (bind->rec ? sys::kAtRecursive : 0);
  int fd = sys::OpenTree(AT_FDCWD, bind->source.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    Plan here = plan;
    here.in_suffix = "";
    return mount_internal::CallError(
        here,
        absl::StrCat("open_tree(AT_FDCWD, ", Quote(bind->source),
                     ", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC",
                     bind->rec ? "|AT_RECURSIVE" : "", ")"),
        Stage::kMount, err);
  }
  bind->tree = std::make_shared<UniqueFd>(fd);
  return absl::OkStatus();
}

// A failure before the plan ran (open_ns, unshare, setns, thread) names the
// call it was about.
absl::Status NameTheCall(const absl::Status& s, const Plan& plan) {
  return PrefixStatus(
      s, absl::StrCat(mount_internal::PrimaryCall(plan), plan.in_suffix, ": "));
}

absl::Status Run(Plan plan, const Namespace& in,
                 std::vector<UndoRecord>* undo) {
  RETURN_IF_ERROR(OpenSourceTree(plan));
  RETURN_IF_ERROR(mount_internal::OpenForkedFsContext(plan, in));
  switch (plan.where) {
    case Where::kCaller:
      return ExecHere(plan, undo);
    case Where::kForked:
      RETURN_IF_ERROR(mount_internal::RunForked(plan, in));
      RecordForked(plan, in, undo);
      return absl::OkStatus();
    case Where::kWorker:
      break;
  }
  bool ran = false;
  absl::Status s = RunIn(in, plan.operation, [&]() -> absl::Status {
    ran = true;
    return ExecHere(plan, undo);
  });
  if (!s.ok() && !ran) s = NameTheCall(s, plan);
  return s;
}

// The legacy magic number callers may still put in the upper 16 bits;
// mount(2): "discarded" when present (fs/namespace.c).
constexpr unsigned long kMgcMask = 0xffff0000UL;
constexpr unsigned long kMgcVal = 0xC0ED0000UL;

std::vector<MountFlag> Without(const std::vector<MountFlag>& flags,
                               MountFlag drop) {
  std::vector<MountFlag> out;
  for (MountFlag f : flags) {
    if (f != drop) out.push_back(f);
  }
  return out;
}

bool Has(const std::vector<MountFlag>& flags, MountFlag f) {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

}  // namespace

const char* OperationOf(const Command& command) {
  struct Name {
    const char* operator()(const MountCommand&) const { return "mount"; }
    const char* operator()(const BindCommand&) const { return "bind"; }
    const char* operator()(const MoveCommand&) const { return "move"; }
    const char* operator()(const RemountCommand&) const { return "remount"; }
    const char* operator()(const UmountCommand&) const { return "umount"; }
    const char* operator()(const PivotRootCommand&) const {
      return "pivot_root";
    }
  };
  return std::visit(Name{}, command);
}

absl::Status Execute(const Command& command) {
  return Execute(command, nullptr);
}

absl::Status Execute(const Command& command, std::vector<UndoRecord>* undo) {
  const Namespace& in = mount_internal::InOf(command);
  ASSIGN_OR_RETURN(Plan plan, mount_internal::MakePlan(command, in));
  return Run(std::move(plan), in, undo);
}

absl::StatusOr<std::vector<std::string>> PlanCalls(const Command& command) {
  ASSIGN_OR_RETURN(Plan plan, mount_internal::MakePlan(
                                  command, mount_internal::InOf(command)));
  // With a root, show the paths the image named joined to the root.
  if (plan.root && !plan.root->dir.empty()) {
    auto join = [&](std::string* path) {
      if (plan.root->dir == "/") return;
      *path = absl::StrCat(plan.root->dir, (*path)[0] == '/' ? "" : "/", *path);
    };
    std::visit(
        [&](auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, mount_internal::PivotRootPlan>) {
            return;
          } else {
            join(&p.target);
            if constexpr (std::is_same_v<T, mount_internal::MovePlan>) {
              join(&p.source);
            } else if constexpr (std::is_same_v<T, BindPlan>) {
              if (plan.root->source_in_root) join(&p.source);
            }
          }
        },
        plan.call);
  }
  return mount_internal::DescribeCalls(plan);
}

absl::Status Undo(absl::Span<const UndoRecord> records, const Namespace& in) {
  auto undo_here = [&]() -> absl::Status {
    absl::Status first;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      const UndoRecord& r = *it;
      absl::Status s;
      absl::StatusOr<UniqueFd> root_fd;
      int fd = r.root.fd;
      if (r.root.enabled() && fd < 0) {
        root_fd = OpenRoot(r.root.dir);
        fd = root_fd.ok() ? root_fd->get() : -1;
        if (!root_fd.ok()) s = root_fd.status();
      }
      const bool mounted = !r.mounted_at.empty();
      uint64_t now = 0;
      if (mounted && r.mount_id != 0 && (fd >= 0 || !r.root.enabled())) {
        now = mount_internal::MountIdAt(fd, r.mounted_at);
      }
      if (mounted && r.mount_id != 0 && now != r.mount_id) {
        // Not ours any more: a mount stacked on it since (or gone).
        if (s.ok()) {
          s = MakeOpError(
              {r.operation, Stage::kResolve, ESTALE, r.mounted_at},
              absl::StrCat("undo ", r.operation, ": the mount at ",
                           Quote(r.mounted_at),
                           " is not the one it made "
                           "(mount ID ",
                           r.mount_id, ", now ",
                           now == 0 ? std::string("none") : absl::StrCat(now),
                           "): left alone"));
        }
      } else if (!s.ok()) {
        // The root could not be opened: nothing to do for this record.
      } else if (!r.moved_from.empty()) {
        MoveCommand back{r.mounted_at, r.moved_from, {}};
        back.options.root = r.root;
        s = Execute(back);
      } else if (!r.mounted_at.empty()) {
        UmountCommand off{r.mounted_at, {}};
        off.options.flags = {UmountFlag::kDetach};
        off.options.root = r.root;
        s = Execute(off);
      }
      if (!r.created.empty() && r.root.enabled() && fd >= 0) {
        RemoveCreated(fd, r.created);
      }
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  };
  if (in.is_self()) return undo_here();
  return RunIn(in, "undo", undo_here);
}

absl::Status ExecuteBatch(absl::Span<const Command> steps,
                          const Namespace& in) {
  const size_t n = steps.size();
  auto step_prefix = [n](size_t i) {
    return absl::StrCat("step ", i + 1, " of ", n, ": ");
  };
  // Everything is checked, and every caller-side source opened, before the
  // first trip.
  std::vector<Plan> plans;
  plans.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!mount_internal::InOf(steps[i]).is_self()) {
      return PrefixStatus(
          BadArgumentError(OperationOf(steps[i]), "in",
                           "of a batch step must be Namespace::Self(); the "
                           "batch's namespace is the argument of Run()"),
          step_prefix(i));
    }
    absl::StatusOr<Plan> plan = mount_internal::MakePlan(steps[i], in);
    if (!plan.ok()) return PrefixStatus(plan.status(), step_prefix(i));
    plans.push_back(*std::move(plan));
  }
  for (size_t i = 0; i < n; ++i) {
    absl::Status s = OpenSourceTree(plans[i]);
    if (s.ok()) s = mount_internal::OpenForkedFsContext(plans[i], in);
    if (!s.ok()) return PrefixStatus(s, step_prefix(i));
  }
  // Trips: a run of steps that may share a thread shares one worker (or,
  // in the caller's namespace, the worker pivot_root needs); a forked step
  // is its own trip.
  size_t i = 0;
  while (i < n) {
    if (plans[i].where == Where::kForked) {
      absl::Status s = mount_internal::RunForked(plans[i], in);
      if (!s.ok()) return PrefixStatus(s, step_prefix(i));
      ++i;
      continue;
    }
    size_t end = i;
    while (end < n && plans[end].where != Where::kForked) ++end;
    size_t failed = i;
    bool ran = false;
    absl::Status s = RunIn(in, "batch", [&]() -> absl::Status {
      ran = true;
      for (size_t k = i; k < end; ++k) {
        failed = k;
        RETURN_IF_ERROR(ExecHere(plans[k]));
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      if (!ran) s = NameTheCall(s, plans[i]);
      return PrefixStatus(s, step_prefix(failed));
    }
    i = end;
  }
  return absl::OkStatus();
}

absl::StatusOr<Command> CommandFromMountCall(absl::string_view source,
                                             absl::string_view target,
                                             absl::string_view fstype,
                                             unsigned long bits,
                                             absl::string_view data,
                                             bool create, const Namespace& in) {
  if ((bits & kMgcMask) == kMgcVal) bits &= ~kMgcMask;
  ASSIGN_OR_RETURN(std::vector<MountFlag> flags, MountFlagsFromBits(bits));
  // The kernel's order (path_mount in fs/namespace.c): remount, then bind,
  // then propagation, then move, else a new mount.
  if (Has(flags, MountFlag::kRemount)) {
    if (create) {
      return BadArgumentError("remount", "create_target",
                              "applies to new mounts and binds");
    }
    RemountCommand c;
    c.target = std::string(target);
    c.options.flags = Without(flags, MountFlag::kRemount);
    c.options.data = std::string(data);
    c.options.in = in;
    return Command(std::move(c));
  }
  if (Has(flags, MountFlag::kBind)) {
    BindCommand c;
    c.source = std::string(source);
    c.target = std::string(target);
    c.options.flags = Without(flags, MountFlag::kBind);
    c.options.data = std::string(data);
    c.options.create = create;
    c.options.in = in;
    return Command(std::move(c));
  }
  if (Has(flags, MountFlag::kMove)) {
    for (MountFlag f : flags) {
      if (f != MountFlag::kMove && f != MountFlag::kSilent &&
          f != MountFlag::kRec) {
        return MakeOpError({"move", Stage::kBadFlag, 0, MountFlagBitName(f)},
                           absl::StrCat("move: MS_MOVE takes no other flags, "
                                        "got ",
                                        RenderMountFlags(bits)));
      }
    }
    if (create) {
      return BadArgumentError("move", "create_target",
                              "applies to new mounts and binds");
    }
    MoveCommand c;
    c.source = std::string(source);
    c.target = std::string(target);
    c.options.in = in;
    return Command(std::move(c));
  }
  // A new mount, or a propagation change (the plan makes it its own call).
  MountCommand c;
  c.source = std::string(source);
  c.target = std::string(target);
  c.fstype = std::string(fstype);
  c.options.flags = std::move(flags);
  c.options.data = std::string(data);
  c.options.create = create;
  c.options.in = in;
  return Command(std::move(c));
}

}  // namespace linx
