#include "nsexec/nsexec.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/signals.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "nsexec/internal/handle.h"
#include "nsexec/internal/pid_open_mode.h"
#include "nsexec/internal/worker_setup.h"

namespace linx {

namespace nsexec_internal {
namespace {

std::atomic<int> g_pid_open_mode{static_cast<int>(PidOpenMode::kAuto)};

void* ProbeThread(void* arg) {
  int* fd_and_err = static_cast<int*>(arg);
  // Re-joining our own mount namespace changes nothing but this thread's
  // root and cwd, and this thread is thrown away.
  if (::unshare(CLONE_FS) != 0 || ::setns(fd_and_err[0], CLONE_NEWNS) != 0) {
    fd_and_err[1] = errno;
  }
  return nullptr;
}

// 1 supported, 0 not, -1 could not tell (no thread could be made).
int ProbePidfdSetns() {
  UniqueFd self(sys::PidfdOpen(::getpid(), 0));
  if (!self.valid()) return 0;  // ENOSYS before 5.3
  int fd_and_err[2] = {self.get(), 0};
  pthread_t t;
  if (::pthread_create(&t, nullptr, &ProbeThread, fd_and_err) != 0) {
    return -1;
  }
  ::pthread_join(t, nullptr);
  // Before 5.8 setns(2) rejects a pidfd as "not a namespace file" with
  // EINVAL, ahead of any permission check; EPERM means it was understood.
  return fd_and_err[1] != EINVAL && fd_and_err[1] != EBADF ? 1 : 0;
}

}  // namespace

void SetPidOpenModeForTesting(PidOpenMode mode) {
  g_pid_open_mode.store(static_cast<int>(mode));
}

PidOpenMode CurrentPidOpenMode() {
  return static_cast<PidOpenMode>(
      g_pid_open_mode.load(std::memory_order_relaxed));
}

bool PidfdSetnsSupported() {
  // A probe that could not make its thread (a transient EAGAIN) answers
  // "no" this once and is tried again on the next call, rather than
  // pinning the process to the /proc fallback for good.
  static std::atomic<int> cached{-1};
  int v = cached.load(std::memory_order_acquire);
  if (v < 0) {
    v = ProbePidfdSetns();
    if (v < 0) return false;
    cached.store(v, std::memory_order_release);
  }
  return v == 1;
}

// "<stage>: <ERRNO> (<description>)", the message every stage error has.
absl::Status StageError(absl::string_view operation, Stage stage, int err) {
  return MakeOpError(
      {std::string(operation), stage, err, ""},
      absl::StrCat(StageName(stage), ": ", ErrnoDescription(err)));
}

// Async signals are blocked on workers: a handler run there would run in
// the target's mount namespace, with its root and cwd, and open the wrong
// files. Synchronous faults stay deliverable (blocking them kills anyway).
static void BlockAsyncSignals() {
  sigset_t set = AsyncSignals();
  ::pthread_sigmask(SIG_SETMASK, &set, nullptr);
}

// Steps 1-2 of the threading model, on the worker.
StageErrno EnterMountNamespace(const Namespace::Handle* h) {
  BlockAsyncSignals();
  // setns(2): "a process may not reassociate with a new mount namespace if
  // it is multithreaded" unless it has its own fs_struct (root, cwd):
  // EINVAL otherwise. libmount skips this step (iovisor/bcc#2187).
  if (::unshare(CLONE_FS) != 0) return {Stage::kUnshare, errno};
  // setns(CLONE_NEWNS) also sets this thread's root and cwd to the target
  // namespace's root.
  if (h != nullptr && ::setns(h->mnt.get(), CLONE_NEWNS) != 0) {
    return {Stage::kSetns, errno};
  }
  return {};
}

}  // namespace nsexec_internal

namespace {

using nsexec_internal::EnterMountNamespace;
using nsexec_internal::PidOpenMode;
using nsexec_internal::StageError;

absl::Status SpawnAndJoin(void* (*main)(void*), void* arg,
                          absl::string_view operation) {
  pthread_t t;
  // pthread_create and pthread_join return their error; errno is not set.
  int err = ::pthread_create(&t, nullptr, main, arg);
  if (err != 0) return StageError(operation, Stage::kThread, err);
  err = ::pthread_join(t, nullptr);
  if (err != 0) return StageError(operation, Stage::kThread, err);
  return absl::OkStatus();
}

struct RunInWorker {
  const Namespace::Handle* ns;
  absl::string_view operation;
  absl::FunctionRef<absl::Status()> fn;
  absl::Status result;
};

void* RunInMain(void* arg) {
  auto* w = static_cast<RunInWorker*>(arg);
  StageErrno e = EnterMountNamespace(w->ns);
  if (!e.ok()) {
    w->result = StageError(w->operation, e.stage, e.errno_value);
    return nullptr;
  }
  w->result = w->fn();
  return nullptr;
}

struct ForkedWorker {
  const Namespace::Handle* ns;
  int userns_fd;  // >= 0: the child joins this user namespace first
  absl::string_view operation;
  ForkedFn fn;
  void* arg;
  absl::Status result;
};

absl::Status ChildDiedError(absl::string_view operation, pid_t child,
                            int wstatus) {
  std::string how;
  if (WIFSIGNALED(wstatus)) {
    const char* abbrev = ::sigabbrev_np(WTERMSIG(wstatus));
    how = absl::StrCat("was killed by signal ", WTERMSIG(wstatus), " (SIG",
                       abbrev != nullptr ? abbrev : "?", ")");
  } else if (WIFEXITED(wstatus)) {
    how = absl::StrCat("exited with status ", WEXITSTATUS(wstatus));
  } else {
    how = absl::StrCat("ended with wait status ", wstatus);
  }
  absl::Status coded = MakeOpError(
      {std::string(operation), Stage::kFork, 0, ""},
      absl::StrCat("fork: child ", child, " ", how, " before reporting"));
  // errno 0 would map to kUnknown; the child was cut short: kAborted.
  return RewrapStatus(coded, absl::StatusCode::kAborted, coded.message());
}

// The child of RunInForked. Async-signal-safe code only: the process may
// have had other threads (holding malloc or stdio locks) when it was
// cloned, and no atfork handler ran. Raw syscalls, so that no sanitizer
// interceptor runs either.
[[noreturn]] void ForkedChild(ForkedFn fn, void* arg, int report_fd,
                              int userns_fd) {
  StageErrno r;
  // user_namespaces(7): a single-threaded process with CAP_SYS_ADMIN in the
  // target namespace may join it; it then has every capability there, over
  // the mount namespace that namespace owns.
  //
  // Its ids stay the caller's kernel ids (host uid 0, unmapped there), so it
  // then becomes the namespace's root with raw setres[ug]id (glibc's
  // wrappers would signal the parent's threads, which this child does not
  // have): files and filesystems it makes belong to that root (e.g. host
  // uid 100000). setgroups may be denied in that namespace; then the
  // supplementary groups stay as they are.
  if (userns_fd >= 0 &&
      (::syscall(SYS_setns, userns_fd, static_cast<long>(CLONE_NEWUSER)) != 0 ||
       ::syscall(SYS_setresgid, 0L, 0L, 0L) != 0 ||
       ::syscall(SYS_setresuid, 0L, 0L, 0L) != 0)) {
    r = {Stage::kSetnsUser, errno};
  } else {
    if (userns_fd >= 0) ::syscall(SYS_setgroups, 0L, nullptr);
    r = fn(arg);
  }
  long n;
  do {
    n = ::syscall(SYS_write, report_fd, &r, sizeof(r));
  } while (n == -1 && errno == EINTR);
  ::syscall(SYS_exit_group, 0);
  __builtin_unreachable();
}

void* ForkedMain(void* arg) {
  auto* w = static_cast<ForkedWorker*>(arg);
  const Namespace::Handle* h = w->ns;
  StageErrno e = EnterMountNamespace(h);
  if (!e.ok()) {
    w->result = StageError(w->operation, e.stage, e.errno_value);
    return nullptr;
  }
  if (h != nullptr && h->wants_pidns) {
    if (h->pidns_fd() < 0) {
      w->result = StageError(w->operation, Stage::kOpenPidns,
                             h->pidns_errno != 0 ? h->pidns_errno : EBADF);
      return nullptr;
    }
    // Changes pid_ns_for_children of this thread only: the thread itself
    // stays where it is; its next child is born in the target namespace.
    if (::setns(h->pidns_fd(), CLONE_NEWPID) != 0) {
      w->result = StageError(w->operation, Stage::kSetnsPid, errno);
      return nullptr;
    }
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    w->result = StageError(w->operation, Stage::kPipe, errno);
    return nullptr;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  // A plain fork without glibc's atfork handlers (which would take every
  // malloc arena lock, contending with the caller's other threads) and with
  // no exit signal: a "clone child" that only waitpid(__WCLONE) sees, so a
  // caller's SIGCHLD handler or waitpid(-1) loop can neither be woken by it
  // nor reap it, and SIGCHLD=SIG_IGN does not auto-reap it.
  // CLONE_FILES: the child shares the fd table instead of copying it. A copy
  // would hold every descriptor the caller's other threads have open at that
  // moment — an open_tree(2) or fsmount(2) fd pins its mount, and a
  // concurrent umount of that mount failed with EBUSY (seen with 100 BEAM
  // processes mixing proc mounts and binds). The report pipe therefore
  // cannot signal the child's death by EOF: the child writes its report
  // (smaller than PIPE_BUF) before it exits, and the worker reads it after
  // reaping the child.
  long child = ::syscall(SYS_clone, static_cast<long>(CLONE_FILES), nullptr,
                         nullptr, nullptr, 0L);
  if (child < 0) {
    // ENOMEM: the target PID namespace's init has exited (pid_namespaces(7)).
    w->result = StageError(w->operation, Stage::kFork, errno);
    return nullptr;
  }
  if (child == 0) ForkedChild(w->fn, w->arg, write_end.get(), w->userns_fd);

  int wstatus = 0;
  pid_t reaped = RetryOnEintr(
      [&] { return ::waitpid(static_cast<pid_t>(child), &wstatus, __WCLONE); });
  int wait_err = reaped < 0 ? errno : 0;
  write_end.reset();  // the child is gone: read to EOF
  StageErrno report;
  size_t got = 0;
  while (got < sizeof(report)) {
    ssize_t n = RetryOnEintr([&] {
      return ::read(read_end.get(), reinterpret_cast<char*>(&report) + got,
                    sizeof(report) - got);
    });
    if (n <= 0) break;  // EOF: the child died without reporting
    got += static_cast<size_t>(n);
  }
  if (got == sizeof(report)) {
    w->result = report.ok() ? absl::OkStatus()
                            : StageError(w->operation, report.stage,
                                         report.errno_value);
  } else if (reaped < 0) {
    w->result =
        MakeOpError({std::string(w->operation), Stage::kFork, wait_err, ""},
                    absl::StrCat("fork: child ", child,
                                 " sent no report and could not be reaped: ",
                                 ErrnoDescription(wait_err)));
  } else {
    w->result =
        ChildDiedError(w->operation, static_cast<pid_t>(child), wstatus);
  }
  return nullptr;
}

}  // namespace

absl::Status RunIn(const Namespace& ns, absl::string_view operation,
                   absl::FunctionRef<absl::Status()> fn) {
  RunInWorker w{ns.handle().get(), operation, fn, absl::OkStatus()};
  RETURN_IF_ERROR(SpawnAndJoin(&RunInMain, &w, operation));
  return w.result;
}

absl::Status RunInForked(const Namespace& ns, absl::string_view operation,
                         ForkedFn fn, void* arg) {
  if (fn == nullptr) {
    return MakeOpError({std::string(operation), Stage::kBadArgument, 0, "fn"},
                       "bad_argument: fn is null");
  }
  ForkedWorker w{ns.handle().get(), ns.userns_fd(), operation, fn, arg,
                 absl::OkStatus()};
  RETURN_IF_ERROR(SpawnAndJoin(&ForkedMain, &w, operation));
  return w.result;
}

}  // namespace linx
