// Worker: one thread kept inside one mount namespace, running many
// functions there one at a time.
//
//   ASSIGN_OR_RETURN(linx::Namespace ns, linx::Namespace::Pid(4242));
//   ASSIGN_OR_RETURN(linx::Worker worker, linx::Worker::Start(ns));
//   for (const Volume& v : volumes) {
//     RETURN_IF_ERROR(worker.Run("mount", [&]() -> absl::Status {
//       // Runs on the worker: inside pid 4242's mount namespace.
//       if (::mount(v.src, v.dst, nullptr, MS_BIND, nullptr) != 0) ...
//       return absl::OkStatus();
//     }));
//     RETURN_IF_ERROR(CheckVolume(v));  // the caller's own logic, in between
//   }
//   // ~Worker ends the thread.
//
// RunIn (nsexec.h) makes and joins one thread per call (~40 us). A Worker
// pays that once: Start() creates the thread, which sets itself up exactly
// like a RunIn worker (async signals blocked, unshare(CLONE_FS),
// setns(fd, CLONE_NEWNS) unless the target is Namespace::Self()), and then
// waits for work. Each Run() hands it one function and blocks until the
// function has returned on the worker. The hand-off is two futex words; each
// side polls with sched_yield(2) for up to 50 us before it sleeps in
// FUTEX_WAIT, so a hand-off between two awake threads costs ~1 us, and an
// idle Worker sleeps. The thread never leaves its namespace and never
// changes it; the caller's threads never change namespace, root or cwd.
//
// Prefer a Worker when a caller runs several verbs into one namespace and
// interleaves them with its own logic (a runtime mounting 30 volumes and
// checking each), where a single RunIn or Batch does not fit. Prefer RunIn
// (the default of every mount/ verb) otherwise: a Worker pins the target
// mount namespace (its thread is a member, so the namespace and every mount
// in it outlive the processes that used it) and keeps one thread alive in
// the caller's process while it exists; and state a function leaves on the
// worker (a chdir, a chroot, an fd of the target's tree) is seen by the next
// function. See docs/nsexec.md.
//
// Thread-safety: Run() may be called from any number of threads; calls are
// serialised (one function runs at a time, in the order the calls acquire
// the worker's lock). Start() and the destructor are not concurrent with
// Run() on the same Worker: destroying (or moving from) a Worker while
// another thread is inside Run() is undefined, like destroying a mutex that
// is held.
//
// Capabilities and kernels: those of RunIn (nsexec.h): setns(2) into a
// mount namespace needs CAP_SYS_ADMIN and CAP_SYS_CHROOT; Linux 3.8+.
#ifndef LINX_NSEXEC_WORKER_H_
#define LINX_NSEXEC_WORKER_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nsexec/nsexec.h"

namespace linx {

class Worker {
 public:
  // Creates the thread (pthread_create, default attributes) and waits until
  // it has entered `ns`. On failure the thread has already exited and been
  // joined, and the status is exactly RunIn's for the same failure: an
  // OpError payload {operation, stage, errno}, message
  // "<stage>: <ERRNO> (<description>)", stage
  //   thread  -- pthread_create's error (EAGAIN);
  //   unshare -- unshare(CLONE_FS) (ENOMEM);
  //   setns   -- setns(2): EPERM without CAP_SYS_ADMIN or CAP_SYS_CHROOT,
  //              EINVAL for a file that is no mount namespace, ESRCH for a
  //              pidfd whose process has exited.
  // `operation` names the set-up in those errors ("worker" by default).
  // The Worker keeps a copy of `ns` (its descriptors stay open).
  static absl::StatusOr<Worker> Start(const Namespace& ns,
                                      absl::string_view operation = "worker");

  // Ends the thread: wakes it, lets it return, and joins it (pthread_join),
  // so when the destructor returns no thread of this Worker exists. Must
  // not race a Run() on the same Worker (see thread-safety above). A
  // function still running blocks the destructor until it returns.
  ~Worker();

  // Movable (the thread stays where it is; the moved-from Worker is empty
  // and its Run() fails with kFailedPrecondition, stage thread). Not
  // copyable.
  Worker(Worker&& other) noexcept;
  Worker& operator=(Worker&& other) noexcept;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `fn` on the worker thread and returns its status as is. `fn` runs
  // in the target namespace with every async signal blocked, after every
  // function run before it on this Worker has returned, with the root and
  // cwd the previous function left (initially: the target's root for a
  // Pid/Path/Pidfd target, the caller's root and cwd as of Start() for
  // Self). Inside `fn`, /proc/thread-self names the worker. `fn` must not
  // throw, must not call Run() on the same Worker (deadlock), and must not
  // leave detached work behind. `operation` is for the caller's messages
  // (kept for symmetry with RunIn; no stage error can happen here).
  // An empty (moved-from) Worker: kFailedPrecondition, stage thread, errno 0.
  // The same in a process forked from the one that started the Worker (the
  // child inherits the object, not the thread; getpid(2) tells them apart),
  // where the destructor then only frees memory.
  // A std::function converts to FunctionRef; it must not be empty.
  absl::Status Run(absl::string_view operation,
                   absl::FunctionRef<absl::Status()> fn);

  // The namespace the worker lives in.
  const Namespace& ns() const;

  // The worker thread's id (gettid(2) on the worker), e.g. to find it in
  // /proc/self/task; 0 for an empty Worker.
  pid_t tid() const;

  // Implementation detail.
  struct State;

 private:
  explicit Worker(std::unique_ptr<State> state);
  void Stop();
  std::unique_ptr<State> state_;
};

}  // namespace linx

#endif  // LINX_NSEXEC_WORKER_H_
