// In-root path resolution: paths that an untrusted container image controls,
// resolved as if a trusted directory were "/", to file descriptors.
//
// A container rootfs is written by whoever built the image. Every symlink in
// it, every ".." and every directory name can be chosen to make a path such
// as "/dev/null" land somewhere else on the host (runc CVE-2021-30465,
// CVE-2025-31133, CVE-2025-52565, CVE-2025-52881). These functions resolve
// such a path exactly once, inside the root, to an O_PATH descriptor; the
// caller then acts on the descriptor (move_mount(2) onto it, or mount(2) onto
// ProcFdPath(fd)), never on the string again. See docs/security.md.
//
//   ASSIGN_OR_RETURN(linx::UniqueFd root, linx::OpenRoot("/run/c1/rootfs"));
//   linx::InRootOptions opts;
//   opts.mkdir = true;
//   opts.create_file = true;  // a bind target for a file source
//   ASSIGN_OR_RETURN(linx::InRootPath dev_null,
//                    linx::ResolveInRoot(root.get(), "/dev/null", opts));
//   // dev_null.fd: O_PATH of <root>/dev/null, or of whatever in-root file
//   // the image's symlinks lead to; dev_null.path: e.g. "/dev/null".
//   absl::Status s = MountOnto(dev_null.fd.get());  // caller's own code
//   if (s.ok()) s = linx::CheckInsideRoot(root.get(), dev_null.fd.get());
//   if (!s.ok()) {  // undo the mount first (caller's code), then:
//     linx::RemoveCreated(root.get(), dev_null.created);
//   }
//
// Every error is an absl::Status carrying an OpError (base/op_error.h) with
// operation "resolve", stage kResolve ("resolve") and the errno, value = the
// path as given; bad input (empty, NUL byte, PATH_MAX or longer) is
// kInvalidArgument at stage kBadArgument. Messages name the path, the root
// and the failing component:
//   resolve "dev/null" in root "/run/c1/rootfs": at "/host" (component
//   "host"): named by a dangling symlink; refusing to create through it:
//   ENOENT (No such file or directory)
// (here <root>/dev is a symlink to "../host/etc", and <root>/host is
// missing: ".." stayed at the root).
//
// Thread-safety: all functions are safe to call concurrently; they keep no
// state except a process-wide "openat2 is missing" flag. They act in the
// calling thread's mount namespace and (ProcFdPath) its /proc.
#ifndef LINX_MOUNT_IN_ROOT_H_
#define LINX_MOUNT_IN_ROOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace linx {

// Opens the caller's trusted root directory: open(dir, O_PATH | O_DIRECTORY |
// O_CLOEXEC), resolved normally (symlinks in `dir` are followed: the caller
// chose it). Errors: bad input → kInvalidArgument (bad_argument); ENOENT,
// ENOTDIR, EACCES, ... at stage resolve. No capability needed.
absl::StatusOr<UniqueFd> OpenRoot(absl::string_view dir);

// What ResolveInRoot may create.
struct InRootOptions {
  // Create every missing directory of the path, mode 0755 (less the umask),
  // one mkdirat(2) at a time relative to the parent's fd. With create_file,
  // only the parents of the last component.
  bool mkdir = false;
  // Create a missing last component as an empty regular file, mode 0644
  // (less the umask), with openat(O_CREAT | O_EXCL | O_NOFOLLOW). Its parent
  // must exist unless `mkdir` is set. An existing last component (of any
  // type) is resolved as it is.
  bool create_file = false;
};

// One entry ResolveInRoot created.
struct Created {
  std::string path;  // canonical, inside the root: "/a/b"
  bool directory;    // true: mkdirat; false: an empty regular file
  // The inode made (st_dev, st_ino): RemoveCreated removes only this inode,
  // not whatever an image later put under the same name. 0: not checked.
  uint64_t dev = 0;
  uint64_t ino = 0;
};

// The result of ResolveInRoot.
struct InRootPath {
  // O_PATH | O_CLOEXEC descriptor of what was resolved (never a symlink).
  UniqueFd fd;
  // Canonical path inside the root: "/" for the root itself, else "/a/b"
  // with no ".", "..", symlink or empty component. For messages, plans and
  // RemoveCreated; act on `fd`, not on this string.
  std::string path;
  // What was created, parents first. Undo with RemoveCreated.
  std::vector<Created> created;
};

// Resolves `path` inside the directory `root_fd` (from OpenRoot, or any
// directory fd) as if that directory were "/": absolute and relative
// symlinks and ".." never leave it (".." at the root stays at the root),
// magic links (/proc/<pid>/root, /proc/<pid>/fd/N, ...) are refused with
// ELOOP, more than 40 symlinks is ELOOP. `path` may be absolute or relative;
// both mean the same. Every component, the last included, is followed.
//
// Syscalls: openat2(root_fd, path, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS) (kernel 5.6+; retried on EAGAIN), then the
// canonical path is read from /proc/thread-self/fd and proven with a second
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS) that must reach the same
// dev/ino/mnt_id. Where openat2 is missing (ENOSYS) or refused by a seccomp
// filter (EPERM), /proc is unusable, or something must be created, a
// component walk takes over: openat(parent,
// name, O_PATH | O_NOFOLLOW) per component, symlinks read with readlinkat(2)
// and their text resolved again inside the root, ".." popping a stack of
// parent fds (never openat(fd, "..")), every symlink on procfs refused as
// magic (ELOOP; so /proc/self fails in the walk even where openat2 accepts
// it), at most 40 symlinks.
//
// Creation (options): one mkdirat/openat(O_CREAT | O_EXCL | O_NOFOLLOW) at a
// time relative to the parent's fd; then the new entry is reopened with
// O_NOFOLLOW and checked (a directory; or the same inode as the file just
// created), so a swap for a symlink in between fails with EAGAIN. Nothing is
// ever created through a symlink: a missing name that comes from a
// symlink's text (a dangling link) fails with ENOENT. On any error,
// everything this call created is removed again (RemoveCreated) before it
// returns.
//
// Errors (stage resolve, errno kept): ENOENT (missing, not asked to create,
// or dangling symlink), ENOTDIR (a non-directory in the middle), ELOOP (loop,
// more than 40 symlinks, or a magic link), ENAMETOOLONG (the resolved path
// would reach PATH_MAX; this also bounds the fds the walk holds), EEXIST (a
// name kept appearing between lookup and create), EAGAIN (a created entry was
// swapped), EACCES, EROFS, ENOSPC, ... from the kernel. Bad input →
// kInvalidArgument, stage bad_argument.
//
// Capabilities: none beyond access to the root's contents. Acts in the
// calling thread's mount namespace. Guarantees hold against concurrent
// changes made by the image's processes inside the root, not against the
// root's own ancestors being moved (see docs/security.md).
absl::StatusOr<InRootPath> ResolveInRoot(int root_fd, absl::string_view path,
                                         const InRootOptions& options = {});

// Undoes `created` (from InRootPath::created) in reverse order, best effort:
// each entry's parent is resolved inside the root again (ResolveInRoot, no
// creation; for a nested chain, openat(dir, "..") from a directory whose
// recorded dev/ino proves it is one that was created), its last component is
// never followed (fstatat AT_SYMLINK_NOFOLLOW), and only an empty directory
// (unlinkat AT_REMOVEDIR) or a regular file (unlinkat) of the recorded kind
// and, when recorded, the recorded dev/ino is removed. Anything else (replaced,
// moved, non-empty, gone) is left alone. Never acts outside the root. A rename
// racing between the fstatat and the unlinkat can still make it remove another
// in-root entry of the same kind under that name; never one outside.
void RemoveCreated(int root_fd, const std::vector<Created>& created);

// OK when what `fd` refers to lies at or under the directory `root_fd`:
// walks ".." upward from `fd` (openat(fd, "..", O_PATH), which crosses mount
// points upward to the parent mount) comparing statx(2) dev/ino/mnt_id with
// the root's, at most 4096 levels. A non-directory `fd` is first matched to
// its parent directory through /proc/thread-self/fd (the parent must hold a
// name with the same dev/ino/mnt_id). For the post-mount check: pass an
// O_PATH fd of the new mount point (e.g. InRootPath::fd reopened, or
// open_tree's fd after move_mount).
//
// Errors (stage resolve): EXDEV (code kFailedPrecondition) when the top (an
// fd whose ".." is itself: the process root, a detached mount, another
// namespace's root) is reached without meeting the root; EAGAIN when a
// non-directory's parent kept being renamed during 64 tries (fails closed:
// check again once the tree is quiet, or check the parent directory);
// ELOOP past 4096 levels; errno of a failing openat/statx. Kernel 5.8+ for
// mnt_id (STATX_MNT_ID); before that dev/ino only.
absl::Status CheckInsideRoot(int root_fd, int fd);

// For kernels without move_mount(2) (before 5.2): the string
// "/proc/thread-self/fd/<fd>" to pass to mount(2) as the target (or source),
// after proving, in the calling thread's mount namespace, that:
//   - "/proc" is a procfs (fstatfs f_type PROC_SUPER_MAGIC) at the root of
//     its mount (statx STATX_ATTR_MOUNT_ROOT, 5.8+) and is procfs's own root
//     (inode 1), not a bind of a subdirectory such as /proc/sys;
//   - "thread-self/fd" is reached without crossing a mount (openat2
//     RESOLVE_NO_XDEV; without openat2: same st_dev and procfs magic);
//   - the magic link reopens (open O_PATH) to the same dev/ino/mnt_id as fd.
// Use the string at once, on the same thread, while `fd` stays open.
// Errors (stage resolve): EXDEV (code kFailedPrecondition) for a /proc that
// is not a real procfs root or a link that does not lead back to `fd`;
// errno of failing calls; fd < 0 → kInvalidArgument (bad_argument).
absl::StatusOr<std::string> ProcFdPath(int fd);

}  // namespace linx

#endif  // LINX_MOUNT_IN_ROOT_H_
