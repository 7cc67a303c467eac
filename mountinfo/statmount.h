// statmount: the second back end for listing mounts, built on listmount(2)
// and statmount(2) (Linux 6.8+), with the text parser as the fallback.
//
//   // The caller's table, from whichever back end the kernel supports:
//   ASSIGN_OR_RETURN(std::vector<linx::MountInfo> mounts, linx::ListMounts());
//
//   // Another process's table without entering its namespace:
//   linx::ListOptions o;
//   o.pid = 4242;
//   ASSIGN_OR_RETURN(mounts, linx::ListMounts(o));
//
//   // One mount by its unique 64-bit ID (statx(2) STATX_MNT_ID_UNIQUE):
//   ASSIGN_OR_RETURN(linx::StatmountEntry e, linx::StatMount(unique_id));
//
// Both back ends produce the same MountInfo values, field by field (a
// privileged test checks this on real tables). How each field is rebuilt
// from struct statmount is documented in docs/queries.md; in short:
//   id, parent_id  ← mnt_id_old, mnt_parent_id_old (the 32-bit IDs that
//                    /proc/<pid>/mountinfo prints; statmount's mnt_id is the
//                    64-bit "unique" ID, never reused, kept in
//                    StatmountEntry::unique_id)
//   major, minor   ← sb_dev_major, sb_dev_minor
//   root, target   ← mnt_root, mnt_point (the kernel returns them unescaped)
//   vfs_options    ← mnt_attr, printed in show_mnt_opts() order
//   optional fields← mnt_propagation, mnt_peer_group, mnt_master,
//                    propagate_from (omitted when equal to the master, as
//                    show_mountinfo() does)
//   fstype         ← fs_type[.fs_subtype]
//   source         ← sb_source
//   fs_options     ← "ro"/"rw" from sb_flags, then sync/dirsync/lazytime,
//                    then mnt_opts (escapes decoded)
//
// propagate_from is expensive in the kernel for slaves whose masters live in
// other namespaces (get_dominating_id() walks the master's whole peer ring:
// that is what makes mountinfo quadratic in container namespaces). The
// statmount back end asks for it only when it can change the answer: a
// slave whose master group has no member in the listed namespace, while
// some other group does. docs/queries.md explains why that is exact.
//
// Minimum kernel: listmount/statmount 6.8; mnt_opts 6.10 and sb_source 6.13
// (both needed for a complete MountInfo, so 6.13+ in practice); mnt_ns_id
// in the request (another namespace) and NS_GET_MNTNS_ID 6.11+. Each is
// probed once per process (ENOSYS, or a reply without the needed mask
// bits); ListBackend::kAuto falls back to the text parser where any is
// missing.
//
// Capabilities: none for the caller's own namespace (listmount lists the
// mounts reachable from the caller's root); listing another namespace needs
// CAP_SYS_ADMIN in the user namespace that owns it (else EPERM, and kAuto
// falls back to reading /proc/<pid>/mountinfo, which needs ptrace-read
// access to the process instead).
//
// Threads: a listing of 512 mounts or more spreads its statmount(2) calls
// over worker threads created and joined within the call (see
// ListOptions::max_threads).
//
// Thread-safety: every function may be called from any thread at once.
#ifndef LINX_MOUNTINFO_STATMOUNT_H_
#define LINX_MOUNTINFO_STATMOUNT_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mountinfo/mountinfo.h"

namespace linx {

// Which implementation lists mounts.
enum class ListBackend {
  kAuto,       // statmount where the kernel has everything needed, else text
  kText,       // always /proc/<pid>/mountinfo and the parser
  kStatmount,  // always listmount+statmount; kUnimplemented where missing
};

// "auto", "text", "statmount". Static storage.
const char* ListBackendName(ListBackend backend);
// The inverse of ListBackendName: false (and *backend untouched) for any
// other name.
bool ParseListBackend(absl::string_view name, ListBackend* backend);

// Kernel features this package probes for (once per process, on first use).
enum class KernelFeature {
  kStatmount,           // listmount(2)+statmount(2) with sb_source/mnt_opts
  kStatxMountId,        // statx(2) STATX_MNT_ID (5.8)
  kStatxMountIdUnique,  // statx(2) STATX_MNT_ID_UNIQUE (6.8)
  kMountNamespaceId,    // ioctl NS_GET_MNTNS_ID + mnt_ns_id requests (6.11)
  kFanotifyMount,       // fanotify FAN_REPORT_MNT / FAN_MARK_MNTNS (6.15)
};

// "statmount", "statx_mnt_id", "statx_mnt_id_unique", "mnt_ns_id",
// "fanotify_mount". Static storage.
const char* KernelFeatureName(KernelFeature feature);

// Whether the running kernel has `feature` (and it is not pretended
// missing, see below). The first call per feature probes with one harmless
// syscall; later calls read a cached answer.
bool KernelHas(KernelFeature feature);

// Test hook: while `missing` is true, KernelHas(feature) is false and the
// raw wrappers below behave as if the syscall (or flag) failed with ENOSYS,
// so fallback paths are exercised on any kernel. Process-wide; not meant
// for production use.
void PretendMissingForTesting(KernelFeature feature, bool missing);

// One mount as statmount(2) describes it: the same MountInfo the text
// parser would give, plus the 64-bit IDs only statmount knows.
struct StatmountEntry {
  MountInfo info;
  uint64_t unique_id = 0;         // statmount mnt_id (never reused)
  uint64_t parent_unique_id = 0;  // statmount mnt_parent_id
  uint64_t mnt_ns_id = 0;         // the namespace's ID (0 if not reported)
};

// listmount(LSMT_ROOT as the start) special value.
inline constexpr uint64_t kListmountRoot = ~uint64_t{0};

// listmount(2): the unique IDs of the mounts below `under` (kListmountRoot:
// every mount reachable from the caller's root, or from the namespace's root
// for another namespace) in namespace `mnt_ns_id` (0: the caller's), in
// ascending unique-ID order, which is also the order of the text file.
// Pages through the kernel's answer 4096 IDs at a time.
// Errors (operation "listmount", stage kRead, the errno): ENOSYS →
// kUnimplemented; EPERM → kPermissionDenied; ENOENT (no such namespace or
// mount) → kNotFound.
absl::StatusOr<std::vector<uint64_t>> ListMountIds(
    uint64_t mnt_ns_id = 0, uint64_t under = kListmountRoot);

// statmount(2) of one mount by unique ID, in namespace `mnt_ns_id` (0: the
// caller's). `with_propagate_from` = false skips STATMOUNT_PROPAGATE_FROM
// (then info.propagate_from is never set). Errors as ListMountIds
// (operation "statmount"); ENOENT when the mount is gone; kUnimplemented
// when the kernel lacks the syscall or a field needed for MountInfo.
absl::StatusOr<StatmountEntry> StatMount(uint64_t unique_id,
                                         uint64_t mnt_ns_id = 0,
                                         bool with_propagate_from = true);

// Decodes one raw statmount(2) reply (struct statmount and the strings
// after it, as the kernel writes it into the caller's buffer) the way
// ListMounts and StatMount do: a pure function, for callers that make their
// own statmount(2) calls and for fuzzing. Every string offset of a field
// whose mask bit is set must start and end (NUL) inside the reply, and the
// header's size field must lie within `reply`; otherwise kInvalidArgument
// (operation "statmount", stage bad_argument, value: what is wrong). The
// same checks apply to the kernel's replies inside ListMounts and StatMount,
// where a malformed one fails with EBADMSG (stage read) instead of being
// read out of bounds. Fields whose mask bit is clear are left default.
absl::StatusOr<StatmountEntry> ParseStatmount(absl::string_view reply);

// The ID of the mount namespace of process `pid` (0: the calling thread),
// from ioctl(NS_GET_MNTNS_ID) on /proc/<pid>/ns/mnt. Errors (operation
// "mnt_ns_id"): no such process → kNotFound (stage kOpenNs);
// kUnimplemented on kernels before 6.11.
absl::StatusOr<uint64_t> MountNamespaceId(pid_t pid = 0);

struct ListOptions {
  ListBackend backend = ListBackend::kAuto;
  // 0: the calling thread's namespace. Otherwise the namespace of process
  // `pid`, read without entering it: by its namespace ID with the statmount
  // back end, from /proc/<pid>/mountinfo with the text one.
  pid_t pid = 0;
  // Statmount back end only: how many threads may share the statmount(2)
  // calls, one per mount and independent of each other. 0: automatic, the
  // CPUs the calling thread may run on (sched_getaffinity), at most 4.
  // 1: only the calling thread. Every thread gets at least 256 mounts, so
  // small tables are always listed on the calling thread. Workers are
  // created and joined within the call, with asynchronous signals blocked;
  // if one cannot be created its share runs on the calling thread.
  // Negative: kInvalidArgument (stage bad_argument), with either back end.
  int max_threads = 0;
};

// The mount table, in the kernel's order (ascending unique ID since Linux
// 6.8, for both back ends). With the statmount back end a mount that goes
// away between listmount(2) and its statmount(2) is left out, as if the
// listing had been taken a moment later. Errors: from the chosen back end
// (text: see ReadMountInfo; statmount: see ListMountIds/StatMount). kAuto
// never fails for a reason the text back end would not fail for.
absl::StatusOr<std::vector<MountInfo>> ListMounts(const ListOptions& = {});

// The same listing as StatmountEntry values (statmount back end only).
// `max_threads` as ListOptions::max_threads.
absl::StatusOr<std::vector<StatmountEntry>> ListStatmountEntries(
    pid_t pid = 0, int max_threads = 0);

// The back end ListMounts(options) would use now (kText or kStatmount).
ListBackend ResolveListBackend(const ListOptions& options);

}  // namespace linx

#endif  // LINX_MOUNTINFO_STATMOUNT_H_
