#include "mount/internal/forked.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/syscalls.h"
#include "mount/internal/fd_api.h"
#include "mount/internal/per_mount.h"
#include "mount/internal/render.h"

namespace linx::mount_internal {
namespace {

// Everything the child needs, prepared before the fork: it may run only
// async-signal-safe code (no allocation, no locks).
struct ForkedArgs {
  const char* target = nullptr;
  bool create = false;
  enum class Main { kNone, kMount, kMoveMount, kUmount } main = Main::kNone;
  int umount_flags = 0;
  const char* source = nullptr;
  const char* fstype = nullptr;
  const char* data = nullptr;
  unsigned long flags = 0;
  int tree_fd = -1;
  bool makes_mount = false;  // the main call attaches a new mount
  unsigned long per_mount = 0;
  bool rec = false;
  unsigned long propagation = 0;
};

const char* CStr(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

// The per-mount follow-up of a bind (per_mount.cc has the kernel rules).
int PerMount(const ForkedArgs* a) {
  if (a->rec) {
    sys::MountAttr attr = SetOnlyAttr(a->per_mount);
    return sys::MountSetattr(AT_FDCWD, a->target, sys::kAtRecursive, &attr) == 0
               ? 0
               : errno;
  }
  struct statfs st;
  if (::statfs(a->target, &st) != 0) return errno;
  unsigned long flags =
      RemountBindFlags(a->per_mount, PerMountBitsOfSt(st.f_flags));
  return ::mount(nullptr, a->target, nullptr, flags, nullptr) == 0 ? 0 : errno;
}

StageErrno ForkedCalls(void* arg) {
  const ForkedArgs* a = static_cast<const ForkedArgs*>(arg);
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
  int err = 0;
  if (a->main == ForkedArgs::Main::kUmount) {
    return ::umount2(a->target, a->umount_flags) == 0
               ? StageErrno{Stage::kNone, 0}
               : StageErrno{Stage::kUmount, errno};
  }
  if (a->main == ForkedArgs::Main::kMount &&
      ::mount(a->source, a->target, a->fstype, a->flags, a->data) != 0) {
    err = errno;
  } else if (a->main == ForkedArgs::Main::kMoveMount &&
             sys::MoveMount(a->tree_fd, "", AT_FDCWD, a->target,
                            sys::kMoveMountFEmptyPath) != 0) {
    err = errno;
  }
  if (err != 0) {
    if (created) ::unlink(a->target);
    return {Stage::kMount, err};
  }
  if (a->per_mount != 0) err = PerMount(a);
  if (err == 0 && a->propagation != 0 &&
      ::mount(nullptr, a->target, nullptr, a->propagation, nullptr) != 0) {
    err = errno;
  }
  if (err != 0) {
    if (a->makes_mount) ::umount2(a->target, MNT_DETACH);
    if (created) ::unlink(a->target);
    return {Stage::kMount, err};
  }
  return {Stage::kNone, 0};
}

struct ArgsOf {
  ForkedArgs operator()(const NewMountPlan& p) const {
    ForkedArgs a;
    a.target = p.target.c_str();
    a.create = p.create;
    if (p.main_call) a.main = ForkedArgs::Main::kMount;
    a.source = CStr(p.source);
    a.fstype = CStr(p.fstype);
    a.data = CStr(p.data);
    a.flags = p.flags;
    a.makes_mount = p.main_call && (p.flags & (MS_REMOUNT | MS_MOVE)) == 0;
    a.propagation = p.propagation;
    return a;
  }
  ForkedArgs operator()(const BindPlan& p) const {
    ForkedArgs a;
    a.target = p.target.c_str();
    a.create = p.create;
    if (p.from_caller) {
      a.main = ForkedArgs::Main::kMoveMount;
      a.tree_fd = p.tree ? p.tree->get() : -1;
    } else {
      a.main = ForkedArgs::Main::kMount;
      a.source = p.source.c_str();
      a.data = CStr(p.data);
      a.flags = MS_BIND | (p.rec ? MS_REC : 0);
    }
    a.makes_mount = true;
    a.per_mount = p.per_mount;
    a.rec = p.rec;
    a.propagation = p.propagation;
    return a;
  }
  ForkedArgs operator()(const MovePlan& p) const {
    ForkedArgs a;
    a.target = p.target.c_str();
    a.main = ForkedArgs::Main::kMount;
    a.source = p.source.c_str();
    a.flags = MS_MOVE;
    return a;
  }
  ForkedArgs operator()(const RemountPlan& p) const {
    ForkedArgs a;
    a.target = p.target.c_str();
    if (p.main_call) a.main = ForkedArgs::Main::kMount;
    a.data = CStr(p.data);
    a.flags = p.flags;
    a.propagation = p.propagation;
    return a;
  }
  ForkedArgs operator()(const UmountPlan& p) const {
    ForkedArgs a;
    a.target = p.target.c_str();
    a.main = ForkedArgs::Main::kUmount;
    a.umount_flags = p.flags;
    return a;
  }
  ForkedArgs operator()(const PivotRootPlan& p) const { return {}; }
};

// OpenForkedFsContext's child: fsopen(2) here, in the target's PID
// namespace, then the context moved into the slot the parent reserved (the
// descriptor table is shared: nsexec.h).
struct FsopenArgs {
  const char* fstype = nullptr;
  int slot = -1;
};

StageErrno ForkedFsopen(void* arg) {
  const FsopenArgs* a = static_cast<const FsopenArgs*>(arg);
  int fd = sys::Fsopen(a->fstype, sys::kFsopenCloexec);
  if (fd < 0) return {Stage::kMount, errno};
  int err = ::dup3(fd, a->slot, O_CLOEXEC) < 0 ? errno : 0;
  ::close(fd);
  if (err != 0) return {Stage::kMount, err};
  return {Stage::kNone, 0};
}

}  // namespace

absl::Status OpenForkedFsContext(Plan& plan, const Namespace& in) {
  if (!TakesForkedFsContext(plan)) return absl::OkStatus();
  auto& p = std::get<NewMountPlan>(plan.call);
  // The slot: any descriptor, replaced by the child's dup3(2).
  UniqueFd slot(::open("/", O_PATH | O_CLOEXEC));
  if (!slot.valid()) {
    int err = errno;
    return CallError(plan, "open(\"/\", O_PATH)", Stage::kMount, err);
  }
  FsopenArgs args;
  args.fstype = p.fstype.c_str();
  args.slot = slot.get();
  absl::Status s = RunInForked(in, plan.operation, &ForkedFsopen, &args);
  if (!s.ok()) {
    std::optional<OpError> e = GetOpError(s);
    if (e.has_value() && e->stage == Stage::kMount) {
      std::string call =
          absl::StrCat("fsopen(", Quote(p.fstype), ", FSOPEN_CLOEXEC)");
      return CallError(plan, call, Stage::kMount, e->errno_value,
                       e->errno_value == ENOSYS
                           ? "a proc with a root into another PID namespace "
                             "needs fsopen(2), Linux 5.2+"
                           : "");
    }
    return PrefixStatus(s,
                        absl::StrCat(PrimaryCall(plan), plan.in_suffix, ": "));
  }
  p.fs_context = std::make_shared<UniqueFd>(slot.release());
  plan.where = Where::kWorker;
  return absl::OkStatus();
}

absl::Status RunForked(const Plan& plan, const Namespace& in) {
  ForkedArgs args = std::visit(ArgsOf{}, plan.call);
  if (args.target == nullptr) {
    return absl::InternalError("a forked plan must be a mount");
  }
  absl::Status s = RunInForked(in, plan.operation, &ForkedCalls, &args);
  if (s.ok()) return s;
  std::optional<OpError> e = GetOpError(s);
  if (e.has_value() && e->stage != Stage::kNone && e->errno_value != 0) {
    return CallError(plan, PrimaryCall(plan), e->stage, e->errno_value,
                     MainCallHint(plan, e->errno_value));
  }
  return PrefixStatus(s, absl::StrCat(PrimaryCall(plan), plan.in_suffix, ": "));
}

}  // namespace linx::mount_internal
