// Namespace::Handle: what a Namespace holds, shared by nsexec.cc (where
// verbs run) and namespace.cc (how a namespace is opened). Private to
// nsexec/.
#ifndef LINX_NSEXEC_INTERNAL_HANDLE_H_
#define LINX_NSEXEC_INTERNAL_HANDLE_H_

#include <sys/types.h>

#include <string>

#include "base/unique_fd.h"
#include "nsexec/nsexec.h"

namespace linx {

struct Namespace::Handle {
  enum class Kind { kPid, kPath, kPidfd } kind = Kind::kPath;
  // Passed to setns(mnt, CLONE_NEWNS): a pidfd (Pid on 5.8+, Pidfd) or a
  // mount-namespace file.
  UniqueFd mnt;
  // True when `mnt` is a pidfd: the PID namespace comes from the same fd.
  bool mnt_is_pidfd = false;
  // The PID namespace file for the proc path (Pid via /proc, Path with a
  // pidns_path). Invalid when not opened; see pidns_errno.
  UniqueFd pidns;
  // Why `pidns` could not be opened (reported at stage open_pidns), or 0.
  int pidns_errno = 0;
  // Whether RunInForked enters a PID namespace at all.
  bool wants_pidns = false;
  pid_t pid = 0;
  std::string path;
  std::string pidns_path;
  int user_pidfd = -1;

  int pidns_fd() const { return mnt_is_pidfd ? mnt.get() : pidns.get(); }
};

}  // namespace linx

#endif  // LINX_NSEXEC_INTERNAL_HANDLE_H_
