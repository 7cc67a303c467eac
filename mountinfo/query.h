// query: the questions users keep answering by hand over a mount table.
//
//   // Which mount holds this path (like `findmnt --target PATH`)?
//   ASSIGN_OR_RETURN(linx::MountInfo m, linx::FindMount("/var/lib/x/file"));
//   // Is this directory itself a mount point (like mountpoint(1))?
//   ASSIGN_OR_RETURN(bool is_mp, linx::IsMountPoint("/mnt/data"));
//   // Propagation: who receives from this mount, who does it receive from?
//   ASSIGN_OR_RETURN(std::vector<linx::MountInfo> t, linx::ListMounts());
//   for (const linx::MountInfo* p : linx::PeersOf(t, m.id)) ...
//
// FindMount resolves the path the way the kernel does (symlinks followed,
// "..", bind mounts and over-mounts as the path walk sees them), because
// it asks the kernel: statx(2) returns the ID of the mount that holds the
// path, and only that one mount is then described:
//   1. statx(STATX_MNT_ID_UNIQUE) + statmount(2) of that ID (Linux 6.8+,
//      plus the statmount fields of 6.13): microseconds, independent of the
//      table's size;
//   2. else statx(STATX_MNT_ID) (5.8+) + the whole text table, looked up
//      by the 32-bit ID;
//   3. else realpath(3) + the whole text table: the longest target that is
//      a prefix of the path at a '/' boundary, the topmost (last listed) of
//      mounts stacked on it. Wrong only where the text cannot say (a mount
//      hidden under a later over-mount of a parent path).
// The pure table functions below (FindMountInTable, ChildrenOf, ...) need
// no syscalls and work on any table, e.g. one from another namespace.
//
// Thread-safety: all functions are thread-safe. No capability is needed.
#ifndef LINX_MOUNTINFO_QUERY_H_
#define LINX_MOUNTINFO_QUERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx {

struct FindOptions {
  // kAuto: steps 1-3 above, first that the kernel supports. kText: steps 2-3
  // only (no statmount). kStatmount: step 1 only (kUnimplemented where the
  // kernel lacks it).
  ListBackend backend = ListBackend::kAuto;
};

// The mount that contains `path` in the caller's namespace (the path is
// resolved by the calling thread: its root and cwd). Errors (operation
// "find_mount", value = the path): empty path or one holding NUL →
// kInvalidArgument (stage kBadArgument); statx/realpath errors with their
// errno at stage kRead (ENOENT → kNotFound, EACCES → kPermissionDenied,
// ENOTDIR, ELOOP, ...); the mount vanished between the two steps → ENOENT.
absl::StatusOr<MountInfo> FindMount(absl::string_view path,
                                    const FindOptions& options = {});

// Whether `path` (symlinks followed) is the root of a mount: statx(2)'s
// STATX_ATTR_MOUNT_ROOT (5.8+), else FindMount(path).target ==
// realpath(path). "/" is always a mount point. Errors as FindMount
// (operation "is_mount_point").
absl::StatusOr<bool> IsMountPoint(absl::string_view path,
                                  const FindOptions& options = {});

// ---- Pure table queries (no syscalls) --------------------------------------

// The entry with mount ID `id`, or nullptr.
const MountInfo* FindMountById(absl::Span<const MountInfo> table, int32_t id);

// The mount containing the absolute, already resolved path `path` (no
// symlinks, no "." or ".." components; see step 3 above), or nullptr when no
// target is a prefix of it (e.g. a relative path).
const MountInfo* FindMountInTable(absl::Span<const MountInfo> table,
                                  absl::string_view path);

// Mounts whose parent is `id`, in table order (includes a mount stacked
// directly on `id`, whose parent is `id` too).
std::vector<const MountInfo*> ChildrenOf(absl::Span<const MountInfo> table,
                                         int32_t id);

// Every mount below `id` (children, their children, ...), parents before
// children (depth-first, table order among siblings). Not `id` itself.
std::vector<const MountInfo*> DescendantsOf(absl::Span<const MountInfo> table,
                                            int32_t id);

// The other members of `id`'s peer group (same "shared:N"); empty when `id`
// is not shared.
std::vector<const MountInfo*> PeersOf(absl::Span<const MountInfo> table,
                                      int32_t id);

// The mounts `id` receives propagation from: the members of its master peer
// group ("master:N") that are visible in this table. Empty when `id` is not
// a slave or its masters live in another namespace.
std::vector<const MountInfo*> MastersOf(absl::Span<const MountInfo> table,
                                        int32_t id);

// The mounts that receive propagation from `id`'s peer group (entries whose
// "master:N" is `id`'s "shared:N").
std::vector<const MountInfo*> SlavesOf(absl::Span<const MountInfo> table,
                                       int32_t id);

// Every mount of peer group `group` ("shared:group"), in table order.
std::vector<const MountInfo*> PeerGroupMembers(
    absl::Span<const MountInfo> table, uint32_t group);

}  // namespace linx

#endif  // LINX_MOUNTINFO_QUERY_H_
