// nsexec: run code inside another mount namespace from a throwaway thread.
//
//   ASSIGN_OR_RETURN(linx::Namespace ns, linx::Namespace::Pid(4242));
//   RETURN_IF_ERROR(linx::RunIn(ns, "mount", [&]() -> absl::Status {
//     // Runs on a fresh thread that has done unshare(CLONE_FS) and
//     // setns(fd, CLONE_NEWNS) into pid 4242's mount namespace.
//     if (::mount("tmpfs", "/mnt", "tmpfs", 0, nullptr) != 0) ...
//     return absl::OkStatus();
//   }));
//
// Threading model. Every RunIn call creates one new thread (pthread_create
// with default attributes; the caller blocks in pthread_join), which
//   0. blocks every asynchronous signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//      SIGTRAP and SIGSYS stay deliverable): a handler run on the worker
//      would run with the target's root and cwd and open the wrong files,
//      so process-directed signals go to the caller's other threads;
//   1. unshare(CLONE_FS)   -- so root/cwd changes stay on this thread
//                             (setns(CLONE_NEWNS) refuses to run on a thread
//                             that shares its fs_struct: EINVAL);
//   2. setns(fd, CLONE_NEWNS) (skipped for Namespace::Self()); this also sets
//      the worker's root and cwd to the target namespace's root;
//   3. runs `fn`;
//   4. exits. The thread is never reused and never "switched back".
// The caller's threads never change mount namespace, root or cwd. Inside the
// worker, /proc/self names the process but /proc/thread-self names the
// worker: read /proc/thread-self/mountinfo for the worker's table. With
// Namespace::Self() the worker starts with the caller's cwd and root as they
// were at unshare time, so relative paths mean what they mean to the caller;
// with any other target relative paths resolve against the target's root.
// A thread costs ~40 us on a small VM (docs/performance.md); see
// docs/nsexec.md for why it is a thread and not a fork.
// For many calls into one namespace, linx::Worker (nsexec/worker.h) keeps
// one such thread for as long as it lives.
//
// Thread-safety: all functions are safe to call from any number of threads
// at once. A Namespace is an immutable value holding open descriptors; it can
// be shared across threads and copied (copies share the descriptors).
//
// Capabilities: setns(2) into a mount namespace needs CAP_SYS_ADMIN (in the
// user namespace owning it) and CAP_SYS_CHROOT; into a PID namespace
// CAP_SYS_ADMIN. Missing either: EPERM at stage setns. Minimum kernel 3.8
// (setns on namespace files); Pid() uses pidfd_open + setns(pidfd) on 5.8+
// (probed once per process) and falls back to files under one opened
// /proc/<pid> directory; Path() checks NS_GET_NSTYPE where it exists (4.11+).
#ifndef LINX_NSEXEC_NSEXEC_H_
#define LINX_NSEXEC_NSEXEC_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/op_error.h"
#include "base/unique_fd.h"

namespace linx {

// Where an operation happens: the caller's own mount namespace, a process's,
// or a namespace file. The target is opened when the value is made (in the
// caller's thread, before any worker exists), so a missing pid fails fast at
// stage open_ns with ENOENT. A Namespace holds open descriptors (a pidfd, or
// namespace files) until its last copy is destroyed: a held namespace file
// keeps that namespace alive even after every process in it has exited.
class Namespace {
 public:
  // The calling thread's own mount namespace (inside a RunIn worker: the
  // worker's, so a nested RunIn(Self()) stays in the target). Holds nothing;
  // never fails.
  static Namespace Self();

  // The mount namespace of process `pid`. Opens the process once (a pidfd
  // where the kernel has pidfd_open, else an O_PATH handle on /proc/<pid>)
  // and takes every namespace from that one handle, so a pid recycled later
  // can never send us into a stranger's namespace. The PID namespace
  // (needed by the proc path) comes from the same handle.
  // Errors: pid <= 0 → kInvalidArgument, stage bad_in; no such process →
  // kNotFound, stage open_ns, errno ENOENT on every kernel (pidfd_open's
  // ESRCH is reported as ENOENT so callers see one answer); other open
  // errors (EMFILE, EACCES, EINVAL for a non-leader thread id on the pidfd
  // path) at stage open_ns with their errno.
  // Syscalls: pidfd_open(pid, 0); or open("/proc/<pid>", O_PATH|O_DIRECTORY)
  // then openat(dir, "ns/mnt") and openat(dir, "ns/pid") (the PID namespace
  // is opened eagerly; if that fails, RunInForked reports it at stage
  // open_pidns and RunIn does not care).
  // If the process exits after Pid() returned: with a pidfd, setns fails
  // with ESRCH at stage setns; with the /proc files the namespaces stay
  // joinable while held (RunIn succeeds in an empty mount namespace, and
  // RunInForked fails at stage fork with ENOMEM since the PID namespace's
  // init is gone).
  static absl::StatusOr<Namespace> Pid(pid_t pid);

  // A mount-namespace file such as /proc/<pid>/ns/mnt or a bind mount of one.
  // stat(2)ed, then opened O_RDONLY|O_NONBLOCK|O_CLOEXEC now. Errors: empty,
  // relative, or containing NUL → bad_in; stat/open errors (ENOENT, EACCES)
  // at stage open_ns; not a regular file (directory, FIFO, device: never
  // opened) → open_ns EINVAL; a namespace file of another type (net, pid...;
  // NS_GET_NSTYPE, 4.11+) → open_ns EINVAL; a regular file that is no
  // namespace at all is accepted here and fails at stage setns with EINVAL,
  // the kernel's own answer.
  static absl::StatusOr<Namespace> Path(absl::string_view path);

  // A mount-namespace file plus a PID-namespace file (e.g. /proc/<n>/ns/mnt
  // and /proc/<n>/ns/pid), for the proc path of RunInForked without a pid.
  // Both are opened now; same rules as Path(path), with the PID-namespace
  // file's errors at stage open_pidns (and a regular non-namespace file
  // failing later at stage setns_pid with EINVAL).
  static absl::StatusOr<Namespace> Path(absl::string_view mnt_path,
                                        absl::string_view pidns_path);

  // A pidfd owned by the caller. It is duplicated (F_DUPFD_CLOEXEC); the
  // caller keeps ownership of `pidfd`. Errors: negative fd → bad_in; a
  // closed fd → open_ns EBADF. setns(2) on a pidfd needs Linux 5.8+ (before
  // that: stage setns, EINVAL); the PID namespace comes from the same fd.
  static absl::StatusOr<Namespace> Pidfd(int pidfd);

  // "self", "pid:N" or "path:P" as accepted by the CLI's --in. Anything else
  // is kInvalidArgument with stage bad_in naming the value.
  static absl::StatusOr<Namespace> Parse(absl::string_view spec);
  // What is wrong with the form of `spec` ("" when it is well formed), as
  // Parse would say, without opening anything: for parsers that check a
  // command line before acting on it.
  static std::string SpecProblem(absl::string_view spec);

  bool is_self() const;
  // This namespace, joined together with the user namespace that owns it,
  // as rootless runtimes need: every verb then runs in a child forked from
  // the worker that also setns(2)es into that user namespace (stage
  // setns_user; setns(CLONE_NEWUSER) refuses multithreaded callers), so
  // what it mounts belongs to that namespace (a tmpfs's root is owned by
  // the namespace's root, e.g. host uid 100000). The user namespace is
  // opened now: for Pid, /proc/<pid>/ns/user (then the process is checked
  // to be the one opened, through its pidfd where there is one); for Path,
  // the owner of the mount namespace (ioctl NS_GET_USERNS, 4.9+). Errors:
  // Self or a Pidfd → bad_in; open errors at stage open_ns.
  absl::StatusOr<Namespace> WithUserNamespace() const;
  // Whether verbs also join the owning user namespace.
  bool joins_userns() const { return userns_ != nullptr; }
  // The user namespace descriptor, or -1.
  int userns_fd() const;

  // The pid this namespace was opened from, or 0.
  pid_t pid() const;
  // Whether it was opened with Path(mnt_path, pidns_path): the caller named
  // a PID namespace explicitly, and mount/ runs every mount in it (a child
  // forked by RunInForked), not only proc.
  bool has_pidns_path() const;
  // Human description for messages: "" for self, "mount namespace of pid
  // 4242", "mount namespace at /run/netns/x", "mount namespace of pidfd 7".
  std::string Describe() const;

  // Implementation detail, shared between copies.
  struct Handle;
  const std::shared_ptr<const Handle>& handle() const { return handle_; }

 private:
  explicit Namespace(std::shared_ptr<const Handle> h) : handle_(std::move(h)) {}
  std::shared_ptr<const Handle> handle_;    // null for Self()
  std::shared_ptr<const UniqueFd> userns_;  // set by WithUserNamespace
};

// Whether setns(2) accepts a pidfd on this kernel (5.8+), so Namespace::Pid
// joins through the pidfd itself. Probed once per process on a throwaway
// thread.
bool SetnsByPidfdSupported();

// A namespace file (/proc/<pid>/ns/<x>, or a bind mount of one) of type
// `nstype` (CLONE_NEWNS, CLONE_NEWUSER, ...): stat(2)ed as a regular file,
// opened O_RDONLY|O_CLOEXEC|O_NONBLOCK|O_NOCTTY, its type checked with
// NS_GET_NSTYPE (4.11+). Errors at `stage` with the errno; a directory,
// FIFO or device (never opened) or a namespace of another type → EINVAL.
absl::StatusOr<UniqueFd> OpenNamespaceFile(absl::string_view path, int nstype,
                                           Stage stage);

// Runs `fn` on a new thread inside `ns` (see the threading model above) and
// returns its status. Failures before `fn` runs carry an OpError payload with
// `operation` and stage unshare / setns / thread and the errno; their message
// is "<stage>: <ERRNO> (<description>)" (callers add the call and namespace
// in front). setns errors: EPERM without CAP_SYS_ADMIN or CAP_SYS_CHROOT,
// EINVAL for a file that is not a mount namespace, ESRCH for a pidfd whose
// process has exited; thread: pthread_create's EAGAIN. `fn`'s own status is
// returned as is. `fn` may block; it must not leak the thread (no detached
// work), must not throw, and sees every async signal blocked.
absl::Status RunIn(const Namespace& ns, absl::string_view operation,
                   absl::FunctionRef<absl::Status()> fn);

// A function safe to call in a child after fork(2) in a multithreaded
// process: async-signal-safe calls only (syscalls, no malloc, no locks).
// It returns {stage, errno}; {kNone, 0} is success.
using ForkedFn = StageErrno (*)(void* arg);

// The proc path. For a Namespace::Pid (or Pidfd) target, a new thread does
// unshare(CLONE_FS), setns into the target's mount namespace, then
// setns(CLONE_NEWPID) into its PID namespace (stage setns_pid), creates a
// pipe (stage pipe) and forks (stage fork); the child, which now lives in
// the target's PID namespace, runs `fn(arg)` and reports its stage and
// errno over the pipe; the thread reaps it. A proc mounted by `fn` thus
// shows the target's processes. For a Path target made with a pidns_path
// that PID namespace is entered; for Self and a plain Path the PID namespace
// is not changed (the child still forks, so `fn` runs in a child either way).
// Errors carry an OpError payload with the child's stage and errno.
// A PID namespace whose init has exited makes fork fail with ENOMEM.
//
// The child is made by a raw clone(2) with no exit signal (fork semantics,
// no glibc atfork handlers, no SIGCHLD): it is reaped with
// waitpid(pid, __WCLONE), so a caller's SIGCHLD handler, waitpid(-1) loop or
// SIGCHLD=SIG_IGN never sees or steals it. It runs on a copy of the
// worker's memory (writes to `arg` stay in the child), with async signals
// blocked, and must report through its return value. A child that dies
// before reporting (a signal, or `fn` calling _exit) → kAborted, stage fork,
// errno 0, message "fork: child <pid> was killed by signal 9 (SIGKILL)
// before reporting". `fn` null → bad_argument. Other stages: open_pidns
// (the errno kept from Pid()), setns_pid (EINVAL: not a PID namespace;
// EPERM), pipe (EMFILE/ENFILE), fork (ENOMEM, EAGAIN).
absl::Status RunInForked(const Namespace& ns, absl::string_view operation,
                         ForkedFn fn, void* arg);

}  // namespace linx

#endif  // LINX_NSEXEC_NSEXEC_H_
