// Scenario 7: every error stage nsexec can meet on a real kernel, with the
// stage and errno it reports (base/op_error.h).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/op_error.h"
#include "nsexec/nsexec.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

absl::Status ExpectStage(const absl::Status& s, Stage stage, int err,
                         absl::string_view what) {
  std::optional<OpError> e = GetOpError(s);
  if (s.ok() || !e.has_value() || e->stage != stage || e->errno_value != err) {
    return Failure(absl::StrCat(
        what, ": want stage ", StageName(stage), " ", ErrnoName(err), ", got ",
        s.ok() ? "OK" : std::string(s.message()),
        e ? absl::StrCat(" (stage ", StageName(e->stage), " ",
                         ErrnoName(e->errno_value), ")")
          : std::string(" (no OpError payload)")));
  }
  Note(absl::StrCat(what, ": ", StageName(stage), " ", ErrnoName(err)));
  return absl::OkStatus();
}

absl::Status Noop() { return absl::OkStatus(); }

StageErrno ForkedNoop(void*) { return {}; }

LINX_VM_SCENARIO(error_stages, 7,
                 "missing pid, non-namespace file, exited target, pid "
                 "namespace without init") {
  // 1. A pid that does not exist (above pid_max).
  VM_RETURN_IF_ERROR(ExpectStage(Namespace::Pid(4194304 + 7).status(),
                                 Stage::kOpenNs, ENOENT, "missing pid"),
                     "");
  // 2a. A regular file that is no namespace: setns(2) itself refuses.
  VM_RETURN_IF_ERROR(WriteFile("/scratch/not_a_ns", "x"), "write");
  auto path_ns = Namespace::Path("/scratch/not_a_ns");
  if (!path_ns.ok()) {
    VM_RETURN_IF_ERROR(ExpectStage(path_ns.status(), Stage::kOpenNs, EINVAL,
                                   "non-namespace file"),
                       "");
  } else {
    VM_RETURN_IF_ERROR(ExpectStage(RunIn(*path_ns, "noop", &Noop),
                                   Stage::kSetns, EINVAL, "non-namespace file"),
                       "");
  }
  // 2b. A namespace file of the wrong type.
  VM_RETURN_IF_ERROR(ExpectStage(Namespace::Path("/proc/self/ns/net").status(),
                                 Stage::kOpenNs, EINVAL, "net namespace file"),
                     "");
  // 3. A target that exits after we opened it, then one already reaped.
  pid_t kid = ::fork();
  VM_SYS(kid);
  if (kid == 0) {
    ::pause();
    ::_exit(0);
  }
  auto held = Namespace::Pid(kid);
  if (!held.ok()) return held.status();
  VM_SYS(::kill(kid, SIGKILL));
  VM_SYS(::waitpid(kid, nullptr, 0));
  absl::Status exited = RunIn(*held, "noop", &Noop);
  std::optional<OpError> e = GetOpError(exited);
  VM_EXPECT(!exited.ok() && e && e->stage == Stage::kSetns &&
                (e->errno_value == ESRCH || e->errno_value == EINVAL),
            "exited target: ", exited.message());
  Note(absl::StrCat("exited target: setns ", ErrnoName(e->errno_value)));
  VM_RETURN_IF_ERROR(ExpectStage(Namespace::Pid(kid).status(), Stage::kOpenNs,
                                 ENOENT, "reaped pid"),
                     "");
  // 4. A PID namespace whose init has exited: fork(2) into it fails ENOMEM
  // (pid_namespaces(7)). nsexec always joins a live process's active PID
  // namespace, so show the kernel rule directly with pid_for_children.
  auto orphan = Child::Start(0, [](const Channel&) -> absl::Status {
    VM_SYS(::unshare(CLONE_NEWPID));
    pid_t init = ::fork();
    VM_SYS(init);
    if (init == 0) ::_exit(0);
    VM_SYS(::waitpid(init, nullptr, 0));
    VM_EXPECT_ERRNO(::fork(), ENOMEM);
    return absl::OkStatus();
  });
  if (!orphan.ok()) return orphan.status();
  VM_RETURN_IF_ERROR((*orphan)->Wait(), "pid namespace without init");
  Note("pid ns without init: fork ENOMEM");
  // And the proc path works against a live target (control).
  auto live = Child::Start(
      CLONE_NEWPID | CLONE_NEWNS,
      [](const Channel& ch) -> absl::Status { return ch.Expect("bye"); });
  if (!live.ok()) return live.status();
  auto lns = Namespace::Pid((*live)->pid());
  if (!lns.ok()) return lns.status();
  VM_RETURN_IF_ERROR(RunInForked(*lns, "noop", &ForkedNoop, nullptr),
                     "RunInForked into a live target");
  VM_RETURN_IF_ERROR((*live)->channel().Send("bye"), "send");
  return (*live)->Wait();
}

}  // namespace
}  // namespace linx::vmtest
