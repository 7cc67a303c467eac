/* linx_mount.h: the C ABI of linx, for bindings (an Erlang NIF, Python
 * ctypes, Rust FFI) and C programs.
 *
 * Plain C (C89 declarations, no C++ types), one function per verb with raw
 * arguments: the MS_* and MNT_* bits of <sys/mount.h>, NUL-terminated
 * strings, and a caller-owned `struct linx_error` that receives the stage
 * that failed, the errno and a message. Behind each function is the C++ verb
 * of mount/mount.h, so the kernel rules linx encodes apply here too (a bind
 * with MS_RDONLY really ends read-only, propagation bits are their own call,
 * pivot_root never moves the caller's root or cwd).
 *
 *   #include <sys/mount.h>
 *   #include "mount/linx_mount.h"
 *
 *   struct linx_error err;
 *   // A 1 MiB tmpfs at /mnt/x inside the mount namespace of pid 4242.
 *   if (linx_mount("none", "/mnt/x", "tmpfs", MS_NOSUID | MS_NODEV,
 *                  "size=1m", "/proc/4242/ns/mnt", NULL, 0, &err) != 0) {
 *     fprintf(stderr, "%s (stage %s, errno %d)\n", err.message,
 *             linx_stage_name(err.stage), err.errno_value);
 *   }
 *
 * Linking: the shared library liblinx_mount.so (SONAME liblinx_mount.so.0,
 * Bazel target //mount:liblinx_mount.so) exports only the linx_* symbols
 * below; linx's own C++ code is linked in and hidden. At run time it needs
 * glibc, libstdc++ and Debian's shared Abseil (package libabsl20220623).
 * In Bazel, C and C++ users can also depend on //mount:linx_mount (a static
 * cc_library with the same API).
 *
 * Strings. Every `const char*` argument is a NUL-terminated string owned by
 * the caller and only read during the call. NULL and "" are the same: for
 * `source`, `fstype` and `data` they mean NULL to the kernel; for `ns_path`
 * and `pidns_path` they mean "the caller's own namespace". Strings returned
 * by linx_version and linx_stage_name have static storage; never free them.
 *
 * Errors. Every verb returns 0 on success and -1 on failure. On failure, if
 * `err` is not NULL, it is filled: `stage` is one of the LINX_STAGE_*
 * values, `errno_value` the errno of the failing step (EINVAL for the
 * argument stages bad_flag, bad_in and bad_argument, which make no syscall),
 * and `message` the call as made with flags by name, e.g.
 *   umount2("/mnt/x", 0): umount: EINVAL (Invalid argument): not a mount point
 * truncated to fit and always NUL-terminated. errno is also set to
 * `errno_value`. On success `err` is reset (stage LINX_STAGE_NONE, errno 0,
 * empty message). `err` may be NULL.
 *
 * Namespaces. With a non-empty `ns_path` (a mount-namespace file such as
 * /proc/<pid>/ns/mnt or a bind mount of one) the operation runs on a
 * throwaway thread that did unshare(CLONE_FS) and setns(CLONE_NEWNS) into
 * it; the calling thread never changes namespace, root or cwd. `ns_path`
 * must be absolute (else LINX_STAGE_BAD_IN). Opening it fails at
 * LINX_STAGE_OPEN_NS: ENOENT for a missing file, EINVAL for something that
 * is not a regular file or is a namespace of another type. A regular file
 * that is no namespace at all fails at LINX_STAGE_SETNS with EINVAL (the
 * kernel's answer). Paths given to the verb are then resolved in that
 * namespace, from its root, and must be absolute (LINX_STAGE_BAD_ARGUMENT;
 * linx_pivot_root's `put_old` may also be relative to `new_root`).
 *
 * Capabilities: CAP_SYS_ADMIN for mount/umount/pivot_root, plus
 * CAP_SYS_CHROOT for a non-empty ns_path (setns(2)).
 *
 * Thread-safety: every function may be called from any number of threads at
 * once; each call uses only its own arguments (and its own `err`).
 *
 * Exceptions: nothing is ever thrown across this boundary. The C++ layer
 * reports errors as values; should it still throw (std::bad_alloc), the
 * call returns -1 with stage LINX_STAGE_NONE and errno ENOMEM (any other
 * exception: LINX_STAGE_NONE and EINVAL).
 */
#ifndef LINX_MOUNT_LINX_MOUNT_H_
#define LINX_MOUNT_LINX_MOUNT_H_

#if defined(__GNUC__)
#define LINX_API __attribute__((visibility("default")))
#else
#define LINX_API
#endif

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where an operation failed (struct linx_error.stage). The numbers are part
 * of the ABI: they never change, new stages are only appended. */
#define LINX_STAGE_NONE 0        /* no failure, or an unexpected one */
#define LINX_STAGE_MOUNT 1       /* mount(2), mount_setattr(2), ... */
#define LINX_STAGE_UMOUNT 2      /* umount2(2) */
#define LINX_STAGE_PIVOT_ROOT 3  /* pivot_root(2) */
#define LINX_STAGE_OPEN_NS 4     /* opening ns_path */
#define LINX_STAGE_UNSHARE 5     /* unshare(CLONE_FS) on the worker thread */
#define LINX_STAGE_SETNS 6       /* setns(fd, CLONE_NEWNS) on the worker */
#define LINX_STAGE_CHDIR 7       /* chdir/fchdir on the worker */
#define LINX_STAGE_THREAD 8      /* creating or joining the worker thread */
#define LINX_STAGE_CREATE 9      /* creating the placeholder (create_target) */
#define LINX_STAGE_OPEN_PIDNS 10 /* opening pidns_path */
#define LINX_STAGE_SETNS_PID 11  /* setns(fd, CLONE_NEWPID) */
#define LINX_STAGE_PIPE 12       /* pipe2 for the forked proc path */
#define LINX_STAGE_FORK 13       /* fork into the target's PID namespace */
#define LINX_STAGE_BAD_FLAG 14   /* a flag bit linx does not know */
#define LINX_STAGE_BAD_IN 15     /* an unusable ns_path / pidns_path */
#define LINX_STAGE_BAD_ARGUMENT 16 /* another invalid argument */
#define LINX_STAGE_READ 17         /* reading a file such as mountinfo */
#define LINX_STAGE_RESOLVE 18      /* resolving a path inside a root */
#define LINX_STAGE_SETNS_USER 19   /* setns(fd, CLONE_NEWUSER) (join_userns) */

/* Size of struct linx_error.message, including the terminating NUL. */
#define LINX_ERROR_MESSAGE_SIZE 512

/* The detail of a failed call. Caller-allocated (on the stack is fine);
 * linx keeps no pointer to it after the call returns. */
struct linx_error {
  int stage;       /* LINX_STAGE_* */
  int errno_value; /* errno of the failing step; EINVAL for bad_* stages */
  char message[LINX_ERROR_MESSAGE_SIZE]; /* NUL-terminated, maybe truncated */
};

/* The version of linx, e.g. "0.1.0". Static storage. */
LINX_API const char* linx_version(void);

/* The name of a stage as used in messages and by the CLI: "none", "mount",
 * "umount", "pivot_root", "open_ns", "unshare", "setns", "chdir", "thread",
 * "create", "open_pidns", "setns_pid", "pipe", "fork", "bad_flag", "bad_in",
 * "bad_argument", "read"; "unknown" for any other value. Static storage. */
LINX_API const char* linx_stage_name(int stage);

/* mount(2) with the kernel rules applied. Which operation `flags` asks for
 * is decided in the kernel's order (path_mount in fs/namespace.c):
 *   - MS_REMOUNT: changes the flags/data of the mount at `target` (with
 *     MS_BIND only the per-mount flags); `source` and `fstype` are ignored,
 *     as by the kernel. A propagation bit is its own call, made after the
 *     remount; with nothing else asked (only MS_REC, MS_SILENT, MS_BIND
 *     beside it, and no data) it is the only call: the propagation of
 *     `target` changes and its flags stay (the same meaning as
 *     `linx remount TARGET --flags private` and linx::Remount). MS_MOVE →
 *     LINX_STAGE_BAD_FLAG.
 *   - MS_BIND (with MS_REC): a bind mount of `source`. With MS_RDONLY,
 *     MS_NOSUID, MS_NODEV, MS_NOEXEC or an atime bit it is followed by an
 *     MS_REMOUNT|MS_BIND that keeps the flags already in force, so the bind
 *     really ends read-only (the whole tree with MS_REC); if that fails the
 *     bind is undone. Bits that are not per-mount flags (MS_SYNCHRONOUS,
 *     MS_MOVE, ...) → LINX_STAGE_BAD_FLAG. A propagation bit is applied
 *     last, by its own call.
 *   - MS_MOVE: moves the mount at `source` to `target`. Any other bit but
 *     MS_REC and MS_SILENT → LINX_STAGE_BAD_FLAG (the kernel would ignore
 *     it silently).
 *   - otherwise a new mount of `fstype` from `source` with `data`. A
 *     propagation bit (MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE, with
 *     MS_REC) is applied by its own call after the mount; alone, with empty
 *     `source` and `fstype`, it only changes the propagation of `target`.
 * `create_target` with MS_REMOUNT or MS_MOVE → LINX_STAGE_BAD_ARGUMENT.
 * `flags` is a mask of the MS_* bits linx knows (MS_RDONLY MS_NOSUID
 * MS_NODEV MS_NOEXEC MS_SYNCHRONOUS MS_REMOUNT MS_MANDLOCK MS_DIRSYNC
 * MS_NOATIME MS_NODIRATIME MS_BIND MS_MOVE MS_REC MS_SILENT MS_PRIVATE
 * MS_SHARED MS_SLAVE MS_UNBINDABLE MS_RELATIME MS_STRICTATIME MS_LAZYTIME);
 * the legacy magic MS_MGC_VAL in the upper 16 bits is accepted and dropped,
 * as the kernel does. Any other bit fails at LINX_STAGE_BAD_FLAG before any
 * syscall.
 * `ns_path`: the mount namespace to act in (see above). `pidns_path`: a PID
 * namespace file to enter as well (e.g. /proc/<pid>/ns/pid): every mount
 * this call makes (new, bind, move, remount, propagation) then happens in a
 * child forked inside that PID namespace (stages open_pidns, setns_pid,
 * pipe, fork), so that a proc mounted here shows that namespace's
 * processes. There a recursive bind's per-mount flags need mount_setattr(2)
 * (5.12+; else ENOSYS at stage mount). Without `pidns_path`, a "proc" mount
 * into `ns_path` shows the caller's PID namespace. A `pidns_path` without an
 * `ns_path` fails at LINX_STAGE_BAD_IN.
 * `create_target`: nonzero creates an empty file at `target` first
 * (O_CREAT|O_EXCL|O_NOFOLLOW, an existing file is fine) inside the target
 * namespace: for binding a file or device node onto a fresh tmpfs (stage
 * LINX_STAGE_CREATE).
 * Stages: bad_flag, bad_argument (e.g. an empty target or a path over 4095
 * bytes), bad_in, open_ns, open_pidns, unshare, setns, setns_pid, pipe,
 * fork, thread, create, mount. */
LINX_API int linx_mount(const char* source, const char* target,
                        const char* fstype, unsigned long flags,
                        const char* data, const char* ns_path,
                        const char* pidns_path, int create_target,
                        struct linx_error* err);

/* umount2(2) of `target`. `flags` is a mask of MNT_FORCE, MNT_DETACH,
 * MNT_EXPIRE and UMOUNT_NOFOLLOW; any other bit fails at
 * LINX_STAGE_BAD_FLAG. The kernel's errors come back at LINX_STAGE_UMOUNT:
 * EINVAL when `target` is not a mount point, EBUSY when it is in use (the
 * message says so). Stages: bad_flag, bad_argument, bad_in, open_ns,
 * unshare, setns, thread, umount. */
LINX_API int linx_umount(const char* target, int flags, const char* ns_path,
                         struct linx_error* err);

/* pivot_root(2): makes `new_root` the root of the mount namespace and puts
 * the old root at `put_old` (absolute and at or under `new_root`, or
 * relative to `new_root`, e.g. "old_root"). Runs on a worker thread that
 * unshared CLONE_FS and chdir'ed into `new_root`, so the caller's cwd is never
 * changed by linx; but pivot_root(2) itself moves the root and cwd of every
 * process of that namespace whose root or cwd was the old root (with an
 * empty ns_path, the caller's own root among them). Kernel preconditions (see
 * pivot_root(2)): `new_root` is a mount point (bind it onto itself first),
 * `put_old` is at or under `new_root`, and neither `new_root` nor its parent
 * mount is shared; a violation fails at LINX_STAGE_PIVOT_ROOT (EINVAL) with a
 * message naming it. Never call it with an empty ns_path from a process whose
 * namespace others share: every process in that namespace sees the new root.
 * Stages: bad_argument, bad_in, open_ns, unshare, setns, chdir, thread,
 * pivot_root. */
LINX_API int linx_pivot_root(const char* new_root, const char* put_old,
                             const char* ns_path, struct linx_error* err);

/* linx_mount inside an untrusted root (a container image's rootfs):
 * `target` (and, for MS_MOVE, `source`; for MS_BIND with
 * LINX_IN_ROOT_SOURCE_IN_ROOT, `source`) is a path inside the directory
 * `root`, resolved as if `root` were "/": symlinks and ".." never leave it
 * and magic links are refused. The mount is made onto what was resolved
 * (move_mount(2) onto the descriptor, or mount(2) onto
 * /proc/thread-self/fd/N), never by walking the string again, and must end
 * inside `root`, else it is undone. `root` itself is trusted: resolved
 * normally in the target namespace. A bind's source is by default a path of
 * the caller's namespace, opened (open_tree(2)) before entering `ns_path`.
 * `options`: LINX_IN_ROOT_MKDIR creates the target's missing directories
 * (0755) inside the root, one at a time and never through a symlink;
 * LINX_IN_ROOT_SOURCE_IN_ROOT resolves a bind's source in the root too.
 * `create_target` creates the placeholder file inside the root. Every other
 * argument as for linx_mount (pidns_path is not offered: a "proc" shows
 * the caller's PID namespace, as with linx_mount and an ns_path alone; the
 * C++ API's Namespace::Pid shows the target's). Resolution failures come back
 * at LINX_STAGE_RESOLVE (ENOENT, ENOTDIR, ELOOP for loops and magic links;
 * EXDEV for a mount that ended outside the root). docs/security.md. */
#define LINX_IN_ROOT_MKDIR 1
#define LINX_IN_ROOT_SOURCE_IN_ROOT 2
LINX_API int linx_mount_in_root(const char* root, const char* source,
                                const char* target, const char* fstype,
                                unsigned long flags, const char* data,
                                const char* ns_path, int create_target,
                                int options, struct linx_error* err);

/* linx_umount inside an untrusted root: `target` is resolved in `root` as
 * for linx_mount_in_root, and the mount found there is unmounted through
 * its resolved parent directory (the last name not followed). */
LINX_API int linx_umount_in_root(const char* root, const char* target,
                                 int flags, const char* ns_path,
                                 struct linx_error* err);

/* Everything linx_mount and linx_mount_in_root take, and what only the
 * fd-based API can do, in one struct that can grow: set `size` to
 * sizeof(struct linx_mount_args) and leave fields you do not use zero/NULL.
 *   - idmap_userns: a user-namespace file (e.g. /proc/<pid>/ns/user): the
 *     bind is idmapped through its maps (MS_BIND only; 5.12+).
 *   - beneath: the new mount or bind slides under the mount at `target`
 *     (MOVE_MOUNT_BENEATH, 6.5+; before: LINX_STAGE_BAD_ARGUMENT).
 *   - root / mkdir / source_in_root: as linx_mount_in_root.
 *   - join_userns: with ns_path, the verb also joins the user namespace
 *     that owns that mount namespace (rootless containers): it runs in a
 *     child forked into it as that namespace's root, so what it mounts
 *     belongs to the namespace (stage LINX_STAGE_SETNS_USER on failure).
 * Dispatch, `flags`, errors: as linx_mount. */
struct linx_mount_args {
  size_t size;
  const char* source;
  const char* target;
  const char* fstype;
  unsigned long flags;
  const char* data;
  const char* ns_path;
  const char* pidns_path;
  int create_target;
  const char* root;
  int mkdir;
  int source_in_root;
  const char* idmap_userns;
  int beneath;
  int join_userns;
};
LINX_API int linx_mount_ex(const struct linx_mount_args* args,
                           struct linx_error* err);

/* The kernel's own words about the calling thread's last failed linx_*
 * call, where the kernel gave any (the fs_context message log of
 * fsopen(2)/fsconfig(2)/fsmount(2), e.g. "tmpfs: Bad value for 'size'"),
 * else "". They are part of err->message too. Thread-local storage, valid
 * until the thread's next linx_* call; never free it. */
LINX_API const char* linx_kernel_message(void);

/* Convenience forms of linx_mount. */ /* The kernel's own words about the
                                        * calling thread's last failed linx_*
                                        * call, where the kernel gave any (the
                                        * fs_context message log of
                                        * fsopen(2)/fsconfig(2)/fsmount(2), e.g.
                                        * "tmpfs: Bad value for 'size'"), else
                                        * "". They are part of err->message too.
                                        * Thread-local storage, valid until the
                                        * thread's next linx_* call; never free
                                        * it. */
LINX_API const char* linx_kernel_message(void);

/* Convenience forms of linx_mount. */

/* A bind mount: linx_mount(source, target, NULL, MS_BIND | flags, NULL,
 * ns_path, NULL, create_target, err). `flags` may add MS_REC, MS_RDONLY,
 * MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime bits. */
LINX_API int linx_bind(const char* source, const char* target,
                       unsigned long flags, const char* ns_path,
                       int create_target, struct linx_error* err);

/* Moves a mount: linx_mount(source, target, NULL, MS_MOVE, NULL, ns_path,
 * NULL, 0, err). */
LINX_API int linx_move(const char* source, const char* target,
                       const char* ns_path, struct linx_error* err);

/* Remounts `target`: linx_mount(NULL, target, NULL, MS_REMOUNT | flags,
 * data, ns_path, NULL, 0, err). */
LINX_API int linx_remount(const char* target, unsigned long flags,
                          const char* data, const char* ns_path,
                          struct linx_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LINX_MOUNT_LINX_MOUNT_H_ */
