// LiveMountTable: a mount table kept current at the cost of what changed.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<linx::LiveMountTable> live,
//                    linx::LiveMountTable::Open());
//   for (;;) {
//     RETURN_IF_ERROR(live->Wait(absl::Seconds(10)));
//     ASSIGN_OR_RETURN(std::vector<linx::MountChange> diff, live->Refresh());
//     for (const linx::MountChange& c : diff) {
//       std::cout << linx::MountChangeKindName(c.kind) << " "
//                 << c.mount().target << "\n";
//     }
//     // live->mounts() is now what ListMounts() would return.
//   }
//
// Open() lists the namespace once (listmount(2) + statmount(2)). Refresh()
// then applies only what changed, learning of it three ways:
//   - fanotify(7) mount events (fanotify_init(FAN_REPORT_MNT),
//     fanotify_mark(FAN_MARK_ADD|FAN_MARK_MNTNS, FAN_MNT_ATTACH|
//     FAN_MNT_DETACH) on the namespace file; Linux 6.15+, CAP_SYS_ADMIN)
//     name every mount attached, detached or moved by its 64-bit unique ID:
//     each gets one statmount(2), and a moved mount's descendants (whose
//     mount points moved with it) are re-read too;
//   - poll(2) POLLPRI on the namespace's mountinfo file fires on every
//     mount, unmount, move and remount ("something changed"): remounts are
//     the one kind fanotify does not name, so a poke that no event explains
//     triggers the sweep below (SweepPolicy says when exactly);
//   - the sweep: one numeric-only statmount(2) per mount (STATMOUNT_MNT_BASIC
//     | STATMOUNT_SB_BASIC: attributes, propagation, peer group, master,
//     superblock flags; no strings), spread over threads
//     (LiveTableOptions::max_threads), plus the superblock options
//     (STATMOUNT_MNT_OPTS) of one mount per superblock; only mounts that
//     differ are re-read with their strings. No kernel interface names a
//     remounted mount (6.18), so a sweep costs one system call per mount:
//     about a third of a full listing (docs/performance.md).
// After any change the slaves whose propagate_from the full listing would
// compute are re-read the way ListMounts() does (statmount.h).
//
// A fanotify queue overflow (FAN_Q_OVERFLOW: more than the kernel's
// max_queued_events, 16384 by default, before Refresh() ran), an event that
// cannot be read, or any inconsistency (a statmount of a mount the table
// cannot place) falls back to a full re-list: a correct table, never a wrong
// one. Without fanotify mount events (kernel before 6.15, no CAP_SYS_ADMIN,
// LiveTableOptions::use_events false) or without statmount (before 6.13)
// every Refresh() re-lists in full (ListMounts(), see statmount.h) when the
// poll fired or a sweep is due, and diffs: the same answers at the cost of a
// full listing. mode() says which.
//
// What no kernel notification reports: a change of propagation type
// (mount --make-shared/--make-slave/--make-private, MS_SHARED etc.: neither
// the poll nor fanotify fires), and changes made in another namespace that
// alter this one's mounts (the last peer of a master group unmounted
// elsewhere gives our slaves a new master). These are found by the sweep,
// which runs at least every LiveTableOptions::sweep_interval, or on demand
// (Refresh(/*force_sweep=*/true)).
//
// The diff: removed mounts first (in the old table's order), then added and
// changed ones in table order; a mount is keyed by its 64-bit unique ID
// (never reused), so an unmount followed by a mount that gets the same
// 32-bit ID reads as one removed and one added mount, unlike
// DiffMountTables(). With the re-list fallback on kernels without unique
// IDs the diff is DiffMountTables() (keyed by the 32-bit ID).
//
// Thread-safety: one thread at a time per LiveMountTable. For the caller's
// namespace (pid 0) the namespace is the one of the thread that called
// Open() (/proc/thread-self/...), and Refresh() must run on a thread in that
// same namespace.
#ifndef LINX_MOUNTINFO_LIVE_TABLE_H_
#define LINX_MOUNTINFO_LIVE_TABLE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mountinfo/monitor.h"
#include "mountinfo/mountinfo.h"

namespace linx {

// When a poke of the mountinfo poll makes Refresh() sweep. The poll says
// only that the namespace's event counter moved since the last poll, and
// every attach, detach, move and remount moves it: a poke that came with
// fanotify events cannot say whether a remount came with them too.
enum class SweepPolicy {
  // A poke sweeps only when no attach/detach event arrived with it (a
  // remount alone). Cost after one mount or umount: its events only. Exact
  // at every Refresh() for attach, detach and move, and for a remount in a
  // window with no attach or detach; a remount made in the same Refresh()
  // window as an attach or detach is found by the next sweep (within
  // sweep_interval, or force_sweep), like a propagation change.
  kOnUnexplainedPoke,
  // Every poke sweeps: exact at every Refresh() for every change the kernel
  // notifies in this namespace (attach, detach, move, remount), whatever
  // mix of them happened since the last Refresh(). Cost after one mount or
  // umount: its events plus one numeric statmount per mount (the sweep).
  kOnPoke,
};

struct LiveTableOptions {
  // 0: the namespace of the thread calling Open(). Otherwise process
  // `pid`'s, read without entering it (statmount with its namespace ID,
  // Linux 6.11+; CAP_SYS_ADMIN over it).
  pid_t pid = 0;
  // Use fanotify mount events and statmount where the kernel has them;
  // false: always re-list (the fallback, for tests and comparison).
  bool use_events = true;
  // The default costs what changed after a mount or umount; kOnPoke buys
  // at-once exactness for a remount that shares a window with an attach or
  // detach at the cost of a sweep per mount or umount.
  SweepPolicy sweep_policy = SweepPolicy::kOnUnexplainedPoke;
  // Sweep at least this often (measured between Refresh() calls), to find
  // propagation changes and remounts deferred by kOnUnexplainedPoke.
  // absl::ZeroDuration(): every Refresh() sweeps. absl::InfiniteDuration():
  // only pokes and force_sweep do.
  absl::Duration sweep_interval = absl::Seconds(1);
  // Threads for a sweep and a full listing, as ListOptions::max_threads: 0
  // the CPUs this thread may run on (at most 4), never fewer than 256
  // mounts a thread; the threads are created and joined within the call,
  // with asynchronous signals blocked. Negative: kInvalidArgument.
  int max_threads = 0;
};

class LiveMountTable {
 public:
  enum class Mode {
    kEvents,  // fanotify + statmount: Refresh() costs what changed
    kRelist,  // every Refresh() that may have changes re-lists in full
  };

  // Opens the namespace's mountinfo file (for the poll), the fanotify group
  // (Mode::kEvents only) and takes the first full listing.
  // Errors: pid < 0 or max_threads < 0 → kInvalidArgument (operation
  // "live_table", stage bad_argument); opening /proc/<pid>/mountinfo → stage
  // open_ns (ENOENT → kNotFound, EACCES → kPermissionDenied); the first
  // listing's errors (see ListMounts). fanotify being unavailable is not an
  // error: the table runs in Mode::kRelist.
  static absl::StatusOr<std::unique_ptr<LiveMountTable>> Open(
      const LiveTableOptions& options = {});

  ~LiveMountTable();
  LiveMountTable(const LiveMountTable&) = delete;
  LiveMountTable& operator=(const LiveMountTable&) = delete;

  // Brings the table up to date and returns what changed since the last
  // call (empty when nothing did). Never blocks on the kernel's events;
  // pair it with Wait(). `force_sweep` sweeps whatever the policy says.
  // Errors: statmount/listmount/read failures other than a mount that
  // vanished meanwhile (stage read, with the errno); on error the table is
  // left as it was before the call and the next call re-lists in full.
  absl::StatusOr<std::vector<MountChange>> Refresh(bool force_sweep = false);

  // Blocks until the kernel reports a possible change (poll on the
  // mountinfo file and the fanotify group), a sweep is due, or `timeout`
  // passes. Returns OK in every case; errors only from poll(2) (stage read).
  absl::Status Wait(absl::Duration timeout);

  // The current table, in the kernel's order (ascending unique ID), equal to
  // ListMounts({.pid = options.pid}) as of the last Refresh().
  std::vector<MountInfo> mounts() const;
  size_t size() const;

  Mode mode() const;

  // Counters since Open(), for tests, benchmarks and `linx watch`.
  struct Stats {
    uint64_t refreshes = 0;
    uint64_t events = 0;      // fanotify attach/detach events read
    uint64_t overflows = 0;   // FAN_Q_OVERFLOW seen
    uint64_t relists = 0;     // full listings (Open's first one excluded)
    uint64_t sweeps = 0;      // numeric sweeps
    uint64_t statmounts = 0;  // statmount(2) calls with strings
  };
  const Stats& stats() const;

  // Implementation detail.
  struct State;

 private:
  explicit LiveMountTable(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace linx

#endif  // LINX_MOUNTINFO_LIVE_TABLE_H_
