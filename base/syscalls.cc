#include "base/syscalls.h"

#include <sys/syscall.h>
#include <unistd.h>

// x86-64 numbers, for headers that predate the syscall. Kernel ABI.
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace linx::sys {

int PivotRoot(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

int PidfdOpen(pid_t pid, unsigned flags) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

int MountSetattr(int dirfd, const char* path, unsigned flags, MountAttr* attr) {
  return static_cast<int>(
      ::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof(*attr)));
}

int OpenTree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}

int MoveMount(int from_dirfd, const char* from_path, int to_dirfd,
              const char* to_path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dirfd, from_path,
                                    to_dirfd, to_path, flags));
}

int Fsopen(const char* fstype, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fstype, flags));
}

int Fsconfig(int fd, unsigned cmd, const char* key, const void* value,
             int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}

int Fsmount(int fd, unsigned flags, unsigned attr_flags) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attr_flags));
}

int Openat2(int dirfd, const char* path, const OpenHow* how) {
  return static_cast<int>(
      ::syscall(SYS_openat2, dirfd, path, how, sizeof(*how)));
}

}  // namespace linx::sys
