// How Namespace::Pid opens a process. Internal to nsexec: tests force each
// mode so both are exercised on one kernel.
#ifndef LINX_NSEXEC_INTERNAL_PID_OPEN_MODE_H_
#define LINX_NSEXEC_INTERNAL_PID_OPEN_MODE_H_

namespace linx::nsexec_internal {

enum class PidOpenMode {
  kAuto,     // pidfd where setns(pidfd) works (probed once), else kProcDir
  kPidfd,    // pidfd_open(2) + setns(pidfd, ...); needs Linux 5.8+
  kProcDir,  // one O_PATH handle on /proc/<pid>, then openat "ns/mnt", "ns/pid"
};

// Process-wide; affects Namespace::Pid calls made afterwards. Thread-safe.
void SetPidOpenModeForTesting(PidOpenMode mode);

// The mode in force (kAuto unless a test set one).
PidOpenMode CurrentPidOpenMode();

// Whether this kernel can setns(2) on a pidfd (probed once, on a throwaway
// thread that re-joins its own mount namespace through a pidfd of itself).
bool PidfdSetnsSupported();

}  // namespace linx::nsexec_internal

#endif  // LINX_NSEXEC_INTERNAL_PID_OPEN_MODE_H_
