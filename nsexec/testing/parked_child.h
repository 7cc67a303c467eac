// ParkedChild: a real process parked in fresh mount (and PID) namespaces,
// for tests and benchmarks that act on "another namespace". Test-only.
//
//   ASSERT_OK_AND_ASSIGN(auto child, linx::testing::ParkedChild::Spawn(
//       [](int report_fd) { /* runs in the child after Release() */ }));
//   ASSERT_OK_AND_ASSIGN(linx::Namespace ns,
//   linx::Namespace::Pid(child->pid()));
//   ... act on ns ...
//   ASSERT_OK_AND_ASSIGN(std::string report, child->Release());
//
// Spawn() forks an intermediate process that does
// unshare(CLONE_NEWNS | CLONE_NEWPID), makes "/" MS_REC|MS_PRIVATE (unless
// Options::keep_propagation) and forks again: the grandchild is pid 1 of the
// new PID namespace and lives in the new mount namespace (a copy of the
// caller's, so the caller's scratch tmpfs is there too). It waits on a pipe
// (the checkpoint) until Release() or the destructor. The intermediate reaps
// it and exits with its status. Both die with SIGKILL if the thread that
// spawned them exits (PR_SET_PDEATHSIG), so spawn from a thread that
// outlives the child (the test's main thread).
#ifndef LINX_NSEXEC_TESTING_PARKED_CHILD_H_
#define LINX_NSEXEC_TESTING_PARKED_CHILD_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace linx::testing {

class ParkedChild {
 public:
  // Runs in the parked process after Release(); whatever it writes to
  // `report_fd` comes back from Release(). It runs after fork(2) in a process
  // that may have had threads: keep it to syscalls and simple C++.
  using OnRelease = std::function<void(int report_fd)>;

  struct Options {
    OnRelease on_release;
    // false: the child only gets a new mount namespace (it is then the
    // direct grandchild in our own PID namespace).
    bool new_pid_namespace = true;
    // true: "/" is not made MS_REC|MS_PRIVATE in the new namespace, so its
    // mounts stay peers and slaves of the caller's groups (tests of
    // propagation across namespaces). Anything the caller mounts under a
    // shared mount then appears in the child too, and the other way round.
    bool keep_propagation = false;
  };
  static absl::StatusOr<std::unique_ptr<ParkedChild>> Spawn(Options options);
  // The same with only the first two options.
  static absl::StatusOr<std::unique_ptr<ParkedChild>> Spawn(
      OnRelease on_release = nullptr, bool new_pid_namespace = true);

  ParkedChild(const ParkedChild&) = delete;
  ParkedChild& operator=(const ParkedChild&) = delete;
  // Kills and reaps both processes if still running.
  ~ParkedChild();

  // The parked process, as a pid in the caller's PID namespace.
  pid_t pid() const { return pid_; }
  // The intermediate process (the parked one's parent).
  pid_t intermediate() const { return intermediate_; }

  // Lets the child run OnRelease, collects its report until it exits, and
  // reaps both processes. Equivalent to Start() then Finish().
  absl::StatusOr<std::string> Release();

  // Lets the child run OnRelease and returns at once (for tests that act on
  // the running child, then call Finish()).
  absl::Status Start();
  // Collects the report until the child exits and reaps both processes.
  absl::StatusOr<std::string> Finish();

  // SIGKILLs the parked process and reaps the intermediate. Idempotent.
  void Kill();

 private:
  ParkedChild() = default;
  pid_t pid_ = -1;
  pid_t intermediate_ = -1;
  int release_fd_ = -1;  // write end of the checkpoint
  int report_fd_ = -1;   // read end of the report pipe
};

}  // namespace linx::testing

#endif  // LINX_NSEXEC_TESTING_PARKED_CHILD_H_
