// MappedChild: a child process in a fresh user namespace whose uids and gids
// 0..65535 map to 100000..165535, optionally with a mount namespace of its
// own (owned by that user namespace, as a rootless container has). For
// tests and vmtest scenarios of idmapped binds and --userns. The caller
// needs CAP_SETUID/CAP_SETGID over 100000.. (outside Bazel's sandbox, whose
// user namespace maps only uid 0). Killed (SIGKILL) and reaped when
// destroyed. Fork it from a thread that outlives it.
#ifndef LINX_NSEXEC_TESTING_MAPPED_CHILD_H_
#define LINX_NSEXEC_TESTING_MAPPED_CHILD_H_

#include <sys/types.h>

#include <string>

namespace linx::testing {

class MappedChild {
 public:
  explicit MappedChild(bool own_mount_ns);
  MappedChild(const MappedChild&) = delete;
  MappedChild& operator=(const MappedChild&) = delete;
  ~MappedChild();

  // Whether the child is parked with its maps written (and its mount
  // namespace made); else error() says what failed.
  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool ready_ = false;
  std::string error_;
};

}  // namespace linx::testing

#endif  // LINX_NSEXEC_TESTING_MAPPED_CHILD_H_
