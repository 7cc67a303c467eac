// monitor: wait for changes to a mount namespace's table and report them as
// added / removed / changed entries.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<linx::MountMonitor> mon,
//                    linx::MountMonitor::Open());
//   for (;;) {
//     ASSIGN_OR_RETURN(std::vector<linx::MountChange> changes,
//                      mon->Wait(absl::Seconds(10)));
//     for (const linx::MountChange& c : changes) {
//       std::cout << linx::MountChangeKindName(c.kind) << " "
//                 << c.mount().target << "\n";
//     }
//   }
//
// How it learns of a change (each is a wake-up; the report always comes
// from diffing two full snapshots, keyed by mount ID, so it is exact
// whatever woke it):
//   - poll(2) POLLPRI/POLLERR on the namespace's mountinfo file, which the
//     kernel raises on every mount, unmount, move and remount (any kernel);
//   - fanotify(7) mount events (FAN_MNT_ATTACH / FAN_MNT_DETACH on the
//     namespace, FAN_REPORT_MNT; Linux 6.15+, CAP_SYS_ADMIN), where
//     available and not disabled;
//   - a periodic rescan (MonitorOptions::rescan_interval), because neither
//     of the above fires when only the propagation type changes
//     (mount --make-shared etc.): such changes are reported at the next
//     rescan.
// A change undone before the snapshot is taken (mount + unmount in a burst)
// is not reported. Mount IDs (the 32-bit ones) can be reused: an unmount
// followed by a mount that gets the same ID between two snapshots reads as
// "changed".
//
// Thread-safety: a MountMonitor is used by one thread at a time. For the
// caller's namespace (pid 0) the namespace is the one of the thread that
// called Open(), and Wait() must be called from a thread in that same
// namespace (the snapshots read /proc/thread-self/...).
#ifndef LINX_MOUNTINFO_MONITOR_H_
#define LINX_MOUNTINFO_MONITOR_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx {

struct MountChange {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind = Kind::kAdded;
  MountInfo before;  // kRemoved and kChanged: the old entry
  MountInfo after;   // kAdded and kChanged: the new entry
  // The entry as it is now (or was, for kRemoved).
  const MountInfo& mount() const {
    return kind == Kind::kRemoved ? before : after;
  }
};

// "added", "removed", "changed". Static storage.
const char* MountChangeKindName(MountChange::Kind kind);

// The changes from `before` to `after`, keyed by mount ID: removed entries
// first (in `before` order), then added and changed ones in `after` order.
// An entry is "changed" when any field differs (MountInfo::operator==).
// Pure.
std::vector<MountChange> DiffMountTables(absl::Span<const MountInfo> before,
                                         absl::Span<const MountInfo> after);

struct MonitorOptions {
  // 0: the namespace of the thread calling Open(). Otherwise process
  // `pid`'s, watched through /proc/<pid>/mountinfo and /proc/<pid>/ns/mnt
  // without entering it.
  pid_t pid = 0;
  // How snapshots are taken (see statmount.h).
  ListBackend backend = ListBackend::kAuto;
  // Use fanotify mount events where the kernel has them.
  bool use_fanotify = true;
  // Rescan at least this often, to catch propagation-only changes.
  // absl::InfiniteDuration() disables rescans.
  absl::Duration rescan_interval = absl::Seconds(1);
};

class MountMonitor {
 public:
  // Opens the wake-up sources and takes the first snapshot.
  // Errors: opening /proc/<pid>/mountinfo (operation "monitor", stage
  // kOpenNs: ENOENT → kNotFound for a missing pid, EACCES →
  // kPermissionDenied), or the first snapshot's error. fanotify failing is
  // not an error (the monitor then polls only; see using_fanotify()).
  static absl::StatusOr<std::unique_ptr<MountMonitor>> Open(
      const MonitorOptions& options = {});

  // Blocks until the table differs from the last snapshot or `timeout`
  // passes. Returns the changes (and makes the new table the snapshot), or
  // an empty vector on timeout. Errors: poll(2)/read(2) failures (stage
  // kRead) and snapshot errors; EINTR is retried.
  absl::StatusOr<std::vector<MountChange>> Wait(absl::Duration timeout);

  // The last snapshot.
  const std::vector<MountInfo>& snapshot() const { return snapshot_; }
  // Whether fanotify mount events are one of the wake-up sources.
  bool using_fanotify() const { return fanotify_.valid(); }
  // fanotify attach/detach events read so far (0 without fanotify).
  uint64_t fanotify_events() const { return fanotify_events_; }

 private:
  MountMonitor() = default;
  absl::StatusOr<std::vector<MountInfo>> Snapshot() const;
  void DrainFanotify();

  MonitorOptions options_;
  UniqueFd mountinfo_;
  UniqueFd fanotify_;
  std::vector<MountInfo> snapshot_;
  absl::Time next_rescan_;
  uint64_t fanotify_events_ = 0;
};

}  // namespace linx

#endif  // LINX_MOUNTINFO_MONITOR_H_
