// mount: the mount verbs (mount, bind, move, remount, umount, pivot_root),
// in the caller's mount namespace or any other, with exact errors.
//
//   // A read-only bind that really ends read-only, even where the source's
//   // nosuid/nodev are locked (inside a user namespace):
//   linx::BindOptions ro;
//   ro.flags = {linx::MountFlag::kRo};
//   RETURN_IF_ERROR(linx::Bind("/srv/data", "/mnt/data", ro));
//
//   // A tmpfs inside the mount namespace of process 4242:
//   ASSIGN_OR_RETURN(linx::Namespace ns, linx::Namespace::Pid(4242));
//   linx::MountOptions m;
//   m.flags = {linx::MountFlag::kNosuid, linx::MountFlag::kNodev};
//   m.data = "size=1m";
//   m.in = ns;
//   absl::Status s = linx::Mount("none", "/mnt/x", "tmpfs", m);
//   // On failure s.message() is the call as made, e.g.
//   //   mount("none", "/mnt/x", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m")
//   //   in mount namespace of pid 4242: mount: EBUSY (Device or resource busy)
//   // and linx::GetMountError(s) gives {operation, stage, errno, value}.
//
// Arguments. Empty `source`, `fstype` and `data` are passed to the kernel as
// NULL (and rendered as NULL in messages). Every string is checked before
// any syscall: a NUL byte inside, an empty target (or empty bind/move
// source, new_root, put_old), more than PATH_MAX-1 (4095) bytes, and — when
// `in` is not Namespace::Self() — a relative path (it would be resolved
// against the worker's cwd, which setns(2) resets to the namespace's root)
// are all kInvalidArgument with stage bad_argument and `value` naming the
// argument ("target", "source", ...). Flags are typed, so the only bad flag
// is a contradictory set (see each verb): kInvalidArgument, stage bad_flag.
// A rejected call touches nothing.
//
// Errors. Every failure is an absl::Status whose code follows the errno
// (base/status.h ErrnoToStatusCode: EPERM → kPermissionDenied, ENOENT →
// kNotFound, EBUSY → kFailedPrecondition, EINVAL → kInvalidArgument, ...)
// and whose payload, read with GetMountError, keeps {operation, stage,
// errno, value}. `operation` is the verb: "mount", "bind", "move",
// "remount", "umount", "pivot_root" (a bind's follow-up remount still
// reports operation "bind"). `stage` says which step failed: kMount for
// mount(2)/mount_setattr(2)/open_tree(2)/move_mount(2), kUmount, kPivotRoot,
// kCreate for the placeholder, kChdir for the pivot worker's chdir, and
// nsexec's kOpenNs/kUnshare/kSetns/kThread/kSetnsPid/kPipe/kFork. The
// message is (one line)
//   <the call, flags by name>[ in <namespace>]: <stage>: <ERRNO> (<text>)
//   [: <hint>][: <the kernel's own words>]
// with a hint where the errno alone misleads (umount EINVAL: "not a mount
// point"; EBUSY: "target is busy"; pivot_root EINVAL: the violated
// precondition; EPERM on a remount: which flags are locked).
//
// Where it runs. With `in` = Namespace::Self() (the default) Mount, Bind,
// Move, Remount and Umount run on the calling thread: they never chdir, so
// nothing about the caller changes but the mount table. PivotRoot always
// runs on a throwaway nsexec worker thread (unshare(CLONE_FS), chdir into
// new_root, pivot_root(".", put_old)), so the caller's cwd never moves.
// With any other `in`, every verb runs on an nsexec::RunIn worker that has
// joined that namespace; a "proc" mount into a namespace other than self
// goes through nsexec::RunInForked, so the new /proc shows the target's PID
// namespace; a Namespace opened with Path(mnt, pidns) sends every mount
// (not umount or pivot_root) that way. Every verb is a Command executed by
// one pipeline (mount/command.h); docs/mount.md has the diagram, the details
// and the man-page pointers.
//
// Capabilities: CAP_SYS_ADMIN in the user namespace owning the target mount
// namespace for every verb; entering another namespace also needs
// CAP_SYS_CHROOT (setns(2)). Minimum kernel 3.8 for the verbs; Bind with
// rec + a per-mount flag uses mount_setattr(2) on 5.12+ and walks the
// submounts otherwise; BindFromHost needs open_tree/move_mount (5.2+).
//
// Thread-safety: every function may be called from any number of threads at
// once. The mount table itself is shared kernel state: two threads mounting
// on the same target race as they would with raw syscalls.
#ifndef LINX_MOUNT_MOUNT_H_
#define LINX_MOUNT_MOUNT_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/op_error.h"
#include "mount/flags.h"
#include "mountinfo/mountinfo.h"
#include "nsexec/nsexec.h"
#include "nsexec/userns.h"

namespace linx {

// The library version, "MAJOR.MINOR.PATCH". Static storage.
const char* Version();

// ---- Errors ---------------------------------------------------------------

// The detail of a failed verb: {operation, stage, errno_value, value}. See
// base/op_error.h.
using MountError = OpError;

// The payload of a status returned by any function here; nullopt for OK or a
// status from elsewhere.
std::optional<MountError> GetMountError(const absl::Status& status);

// ---- Options --------------------------------------------------------------

// Paths inside an untrusted root (a container image): with a root set, the
// verb's target (and a move's source, and a bind's source with
// `source_in_root`) is resolved inside the root as if it were "/" —
// absolute and relative symlinks and ".." never leave it, magic links are
// refused — to an O_PATH descriptor (mount/in_root.h ResolveInRoot), on the
// thread that runs the verb, in the target namespace. The verb then acts on
// that descriptor, never on the string again: move_mount(2) onto it for
// binds, mount(2)/umount2(2) on /proc/thread-self/fd/N (after proving /proc
// is a real procfs) for the others. Afterwards the new mount must lie under
// the root (CheckInsideRoot), or it is undone. Whatever fails midway undoes
// what the call created (mounts, directories, placeholder files).
// docs/security.md has the threat model.
//
// Errors: resolution failures at stage resolve (ENOENT, ELOOP for a loop or
// a magic link, ENOTDIR, ...), with the path, the root and the component in
// the message; a mount that landed outside the root: stage resolve, EXDEV.
struct InRoot {
  // The root directory, a TRUSTED path resolved normally in the target
  // namespace. "" with fd < 0: no root.
  std::string dir;
  // Or an open directory (O_PATH is fine) of the target namespace's tree;
  // borrowed, never closed. Wins over `dir`.
  int fd = -1;
  bool enabled() const { return fd >= 0 || !dir.empty(); }
};

struct MountOptions {
  // mount(2) flags. Propagation words (private, shared, slave, unbindable;
  // optionally with rec) cannot share a call with anything else
  // (mount_namespaces(7)): when given alone (plus rec/silent) they are one
  // call mount(NULL, target, NULL, MS_<type>[|MS_REC], NULL) and source and
  // fstype must be empty; given with other flags, the mount is made first
  // and the propagation applied by a second call (undone with
  // umount2(MNT_DETACH) if that fails). Two propagation words at once →
  // bad_flag.
  std::vector<MountFlag> flags;
  // The filesystem's options ("size=1m,mode=0755"); "" → NULL. At most 4095
  // bytes: mount(2) copies one page and would cut the rest silently.
  std::string data;
  // Create an empty placeholder file at the target first (see below).
  bool create = false;
  // Create the target's missing directories first (0755), one mkdirat(2)
  // at a time from the parent's fd, never through a symlink; without a
  // root, inside "/" of the target namespace (same rules). With `create`,
  // only the parents.
  bool mkdir = false;
  // Slide the new mount UNDER the mount at the target instead of on top
  // (move_mount(2) MOVE_MOUNT_BENEATH, 6.5+): once the top one is
  // unmounted the new one is there, with no moment where the path is
  // empty. The target must be a mount point. Where the kernel lacks it →
  // bad_argument "needs Linux 6.5", before anything is made.
  bool beneath = false;
  // Resolve the target inside this root (see InRoot).
  InRoot root;
  // Where the verb runs.
  Namespace in = Namespace::Self();
};

// `create`: before the mount, open(target, O_RDONLY|O_CREAT|O_EXCL|
// O_NOFOLLOW|O_CLOEXEC, 0644) then close — in the target namespace, stage
// kCreate. An existing target of any kind (file, directory, device) is
// fine (EEXIST is ignored), so that a file can be bind-mounted onto a fresh
// tmpfs (device-node binds into a container /dev). The parent directory
// must exist. A placeholder created by a call that then fails is removed.

struct BindOptions {
  // kRec makes it a recursive bind (MS_BIND|MS_REC). Per-mount flags
  // (kRo, kNosuid, kNodev, kNoexec, kNoatime, kNodiratime, kRelatime,
  // kStrictatime) are applied after the bind (mount(2) ignores them on
  // MS_BIND) by mount(NULL, target, NULL, MS_REMOUNT|MS_BIND|<requested>|
  // <per-mount flags already in force, read with statvfs(3)>, NULL), so
  // flags locked in a user namespace are kept (util-linux#1705,
  // runc#1229). With kRec, the whole tree gets them: mount_setattr(2)
  // with AT_RECURSIVE (5.12+), else the same remount on every submount.
  // If any follow-up fails the bind is undone (umount2(MNT_DETACH)): a
  // failed Bind never leaves a read-write bind behind. A propagation word
  // is applied last, by its own call. kBind and kSilent are accepted and
  // change nothing; kSync, kRemount, kMandlock, kDirsync, kMove, kLazytime
  // → bad_flag (they are not per-mount flags).
  std::vector<MountFlag> flags;
  // Passed to the bind call; mount(2) ignores data for MS_BIND.
  std::string data;
  bool create = false;
  bool mkdir = false;  // as in MountOptions
  // Resolve the target inside this root (see InRoot). The source stays a
  // path of the caller's namespace, opened on the calling thread with
  // open_tree(2) so that the image cannot redirect it either, unless
  // `source_in_root`, which resolves it inside the root too (a source equal
  // to the target, without mkdir/create, is resolved once and the tree is
  // attached onto the very descriptor it was cloned from: a path bound
  // onto itself, as linx apply's readonlyPaths are).
  InRoot root;
  bool source_in_root = false;
  // An idmapped bind (MOUNT_ATTR_IDMAP, 5.12+; the filesystem must support
  // it: tmpfs 6.3+, ext4/xfs/btrfs 5.12+): files show their owners mapped
  // through this user namespace's uid/gid maps (a file of uid 0 shows as
  // 100000 through a namespace mapping 0→100000). Set on the detached tree
  // before it is attached. Errors at stage mount: EINVAL for a filesystem
  // without idmap support or a mount already idmapped (the kernel's
  // answer), EPERM without CAP_SYS_ADMIN in that namespace's owner.
  std::optional<UserNamespace> idmap;
  bool beneath = false;  // as in MountOptions
  Namespace in = Namespace::Self();
};

struct MoveOptions {
  // Resolve both source and target inside this root (see InRoot).
  InRoot root;
  Namespace in = Namespace::Self();
};

struct RemountOptions {
  // The full new set of flags: MS_REMOUNT is added, and mount(2) replaces
  // the mount's flags with exactly these (atime flags are kept when none is
  // given). Add kBind to change only the per-mount flags and leave the
  // superblock alone. A propagation word is its own call after the remount
  // (mount_namespaces(7)); when it is all that was asked (beside kRec,
  // kSilent, kBind, and no data) it is the only call, as in Mount("",
  // target, "", {kPrivate}): the flags stay as they are. kMove → bad_flag
  // (use Move).
  std::vector<MountFlag> flags;
  std::string data;
  // The whole tree below `target` too, in one mount_setattr(2) with
  // AT_RECURSIVE (5.12+; before: MS_REMOUNT|MS_BIND on every mount of the
  // tree, top first). Per-mount flags only (ro, nosuid, nodev, noexec,
  // nosymfollow, the atime words; bind and rec are implied): like a
  // remount, the flags given replace the per-mount flags (atime kept when
  // no atime word is given), so clearing a locked flag fails with EPERM.
  // Other flags, or data → bad_flag / bad_argument.
  bool recursive = false;
  InRoot root;  // resolve the target inside this root (see InRoot)
  Namespace in = Namespace::Self();
};

struct UmountOptions {
  // kExpire together with kForce or kDetach → bad_flag (umount2(2)).
  std::vector<UmountFlag> flags;
  // Unmount `target` and everything mounted below it, deepest first
  // (umount -R), retrying while the table changes underneath: see
  // UmountTree in mount/umount_tree.h for the order and the errors.
  bool recursive = false;
  InRoot root;  // resolve the target inside this root (see InRoot)
  Namespace in = Namespace::Self();
};

struct PivotRootOptions {
  Namespace in = Namespace::Self();
};

// ---- The verbs ------------------------------------------------------------

// mount(2): mount(source|NULL, target, fstype|NULL, flags, data|NULL).
// Errors: the errno of the call (ENODEV unknown fstype → kNotFound, with a
// hint naming the type; EBUSY → kFailedPrecondition; EPERM →
// kPermissionDenied; ENOENT → kNotFound; ...); operation "mount", stage
// kMount. A propagation call that fails after a new mount detaches that
// mount again. Needs CAP_SYS_ADMIN.
absl::Status Mount(absl::string_view source, absl::string_view target,
                   absl::string_view fstype, const MountOptions& opts = {});

// A bind mount of `source` (a path in the target namespace) at `target`;
// see BindOptions. Syscalls: mount(source, target, NULL, MS_BIND[|MS_REC],
// data|NULL), then statvfs(target) + mount(NULL, target, NULL,
// MS_REMOUNT|MS_BIND|..., NULL) when per-mount flags were asked (or
// mount_setattr(AT_FDCWD, target, AT_RECURSIVE, ...) with kRec), then the
// propagation call. Operation "bind", stage kMount.
absl::Status Bind(absl::string_view source, absl::string_view target,
                  const BindOptions& opts = {});

// Bind a path of the CALLER's mount namespace into the namespace `opts.in`
// (what `machinectl bind` does). After setns the caller's paths are
// invisible, so the source is first cloned on the calling thread:
// open_tree(AT_FDCWD, source, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC
// [|AT_RECURSIVE]) (kRec → the whole tree), then the worker in `opts.in`
// attaches it: move_mount(fd, "", AT_FDCWD, target,
// MOVE_MOUNT_F_EMPTY_PATH), and applies per-mount flags and propagation as
// Bind does (undoing the attach on failure). Needs kernel 5.2+ (ENOSYS →
// kUnimplemented). Operation "bind", stage kMount; the message renders the
// two calls. With `in` = Self it is Bind by other means.
absl::Status BindFromHost(absl::string_view source, absl::string_view target,
                          const BindOptions& opts = {});

// mount(source, target, NULL, MS_MOVE, NULL): moves the mount at `source`
// to `target`. Errors as the call's errno; EINVAL gets the hint "source is
// not a mount point, or target is under it, or the source's parent mount is
// shared" (mount(2)). Operation "move", stage kMount.
absl::Status Move(absl::string_view source, absl::string_view target,
                  const MoveOptions& opts = {});

// mount(NULL, target, NULL, MS_REMOUNT|flags, data|NULL). EPERM gets a hint
// naming the flags in force (statvfs) that this call would clear, since in
// a user namespace those are locked and cannot be cleared
// (mount_namespaces(7), "locked" mounts). Operation "remount", stage
// kMount.
absl::Status Remount(absl::string_view target, const RemountOptions& opts = {});

// umount2(target, flags). EINVAL → hint "not a mount point" (or "bad flags"
// when kNoFollow/kExpire are involved), EBUSY → "target is busy" (an open
// file, a cwd or a submount inside it; kDetach unmounts lazily instead),
// EAGAIN with kExpire → "marked as expired; call again". Operation
// "umount", stage kUmount.
absl::Status Umount(absl::string_view target, const UmountOptions& opts = {});

// pivot_root(2): makes `new_root` the root of the namespace and moves the
// old root to `put_old`. `put_old` is absolute (a path in the current root,
// at or under new_root) or relative to new_root ("old_root"). Always runs
// on a worker: unshare(CLONE_FS), [setns,] chdir(new_root) (stage kChdir),
// pivot_root(".", put_old). The caller's own cwd never moves; but note
// pivot_root(2) itself moves the root and cwd of EVERY process and thread
// of that namespace whose root/cwd was the old root — with `in` = Self
// that includes the caller's process.
// EINVAL is explained by inspecting the kernel's preconditions in the
// kernel's order (fs/namespace.c; statx STATX_ATTR_MOUNT_ROOT and
// /proc/thread-self/mountinfo, read on the worker): "the mount holding
// put_old (P) is shared; make it private first", "the parent mount of
// new_root (P) is shared; make it private first", "the parent mount of the
// current root is shared", "the current root is not a mount point (after
// chroot(2)?)", "the current root is the namespace's first mount (rootfs)
// ...", "new_root is not a mount point (bind-mount it onto itself first)",
// "put_old is not at or under new_root", "new_root is the current root
// ...", else "new_root may be a locked mount ...". EBUSY → "new_root or
// put_old is the current root mount"; ENOTDIR → "new_root or put_old is not
// a directory". A missing new_root fails at stage kChdir. Operation
// "pivot_root", stage kPivotRoot. Needs CAP_SYS_ADMIN (and, with `in`,
// CAP_SYS_CHROOT for setns).
absl::Status PivotRoot(absl::string_view new_root, absl::string_view put_old,
                       const PivotRootOptions& opts = {});

// ---- Mount tables (thin wrappers over mountinfo/) -------------------------

// The calling thread's mount table (/proc/thread-self/mountinfo), as owning
// copies. See mountinfo/mountinfo.h ReadMountInfo for errors.
absl::StatusOr<std::vector<MountInfo>> List();
// Process `pid`'s table (/proc/<pid>/mountinfo), read without setns.
absl::StatusOr<std::vector<MountInfo>> List(pid_t pid);
// The table in a mountinfo file at `path`.
absl::StatusOr<std::vector<MountInfo>> List(absl::string_view path);

// ---- Batches --------------------------------------------------------------

// A sequence of verbs run in ONE trip into a namespace: one worker thread,
// one setns, then each step in order on that thread, stopping at the first
// failure. The failure is the step's own status with the prefix
// "step 3 of 7: " (code and payload kept). Steps after a PivotRoot resolve
// paths against the new root (the worker's root moved with it).
//
//   linx::MountOptions make_private;
//   make_private.flags = {linx::MountFlag::kPrivate};
//   linx::UmountOptions lazy;
//   lazy.flags = {linx::UmountFlag::kDetach};
//   linx::Batch b;
//   b.Bind("/rootfs", "/rootfs")
//       .Mount("", "/rootfs", "", make_private)
//       .PivotRoot("/rootfs", "old_root")
//       .Umount("/old_root", lazy)
//       .Mount("proc", "/proc", "proc");
//   RETURN_IF_ERROR(b.Run(ns));
//
// Each step's options keep their meaning, but their `in` must be Self (the
// batch's namespace is Run's argument): otherwise Run fails with
// bad_argument before doing anything. Every step's arguments are checked
// before the trip, so a bad argument in step 5 runs nothing. A "proc"
// mount into a namespace other than self is its own forked trip
// (nsexec::RunInForked): the steps before and after it share their own
// workers, so [a, proc, b] makes three trips.
// BindFromHost steps open their sources on the calling thread before the
// trip. A Batch is a value: Run may be called any number of times; not
// thread-safe for mutation, Run is const.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(const Batch&);
  Batch& operator=(const Batch&);
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  Batch& Mount(absl::string_view source, absl::string_view target,
               absl::string_view fstype, const MountOptions& opts = {});
  Batch& Bind(absl::string_view source, absl::string_view target,
              const BindOptions& opts = {});
  Batch& BindFromHost(absl::string_view source, absl::string_view target,
                      const BindOptions& opts = {});
  Batch& Move(absl::string_view source, absl::string_view target,
              const MoveOptions& opts = {});
  Batch& Remount(absl::string_view target, const RemountOptions& opts = {});
  Batch& Umount(absl::string_view target, const UmountOptions& opts = {});
  Batch& PivotRoot(absl::string_view new_root, absl::string_view put_old,
                   const PivotRootOptions& opts = {});

  size_t size() const;
  bool empty() const { return size() == 0; }

  // Runs every step in `in`. An empty batch is OK and makes no trip.
  absl::Status Run(const Namespace& in = Namespace::Self()) const;

  struct Step;  // implementation detail

 private:
  std::vector<Step> steps_;
};

}  // namespace linx

#endif  // LINX_MOUNT_MOUNT_H_
