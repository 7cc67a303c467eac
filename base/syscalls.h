// Raw wrappers for mount-related syscalls that glibc 2.36 does not wrap (or
// wraps only in newer headers), all in one place.
//
// Each returns what the syscall returns (-1 with errno set on failure), like
// the libc functions they stand in for. On a kernel that lacks the syscall
// they fail with ENOSYS; callers probe for that and fall back. The constants
// are spelled out here because Debian 12's kernel headers (6.1) predate some
// of them; the values are kernel ABI and never change.
#ifndef LINX_BASE_SYSCALLS_H_
#define LINX_BASE_SYSCALLS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace linx::sys {

// mount_setattr(2) attributes (linux/mount.h). Kernel 5.12+.
inline constexpr uint64_t kMountAttrRdonly = 0x00000001;
inline constexpr uint64_t kMountAttrNosuid = 0x00000002;
inline constexpr uint64_t kMountAttrNodev = 0x00000004;
inline constexpr uint64_t kMountAttrNoexec = 0x00000008;
inline constexpr uint64_t kMountAttrAtimeMask = 0x00000070;
inline constexpr uint64_t kMountAttrRelatime = 0x00000000;
inline constexpr uint64_t kMountAttrNoatime = 0x00000010;
inline constexpr uint64_t kMountAttrStrictatime = 0x00000020;
inline constexpr uint64_t kMountAttrNodiratime = 0x00000080;
inline constexpr uint64_t kMountAttrIdmap = 0x00100000;        // 5.12+
inline constexpr uint64_t kMountAttrNosymfollow = 0x00200000;  // 5.14+

// open_tree(2) / move_mount(2) flags. Kernel 5.2+.
inline constexpr unsigned kOpenTreeClone = 1;
inline constexpr unsigned kMoveMountFEmptyPath = 0x00000004;
inline constexpr unsigned kMoveMountTSymlinks = 0x00000010;
inline constexpr unsigned kMoveMountTEmptyPath = 0x00000040;
inline constexpr unsigned kMoveMountBeneath = 0x00000200;  // 6.5+
inline constexpr unsigned kAtEmptyPath = 0x1000;

// fsopen(2) / fsconfig(2) / fsmount(2) (linux/mount.h). Kernel 5.2+.
inline constexpr unsigned kFsopenCloexec = 0x00000001;
inline constexpr unsigned kFsconfigSetFlag = 0;
inline constexpr unsigned kFsconfigSetString = 1;
inline constexpr unsigned kFsconfigCmdCreate = 6;
inline constexpr unsigned kFsmountCloexec = 0x00000001;

inline constexpr unsigned kAtRecursive = 0x8000;

// struct mount_attr (linux/mount.h), MOUNT_ATTR_SIZE_VER0 = 32.
struct MountAttr {
  uint64_t attr_set = 0;
  uint64_t attr_clr = 0;
  uint64_t propagation = 0;
  uint64_t userns_fd = 0;
};

// openat2(2) resolve flags (linux/openat2.h). Kernel 5.6+.
inline constexpr uint64_t kResolveNoXdev = 0x01;
inline constexpr uint64_t kResolveNoMagiclinks = 0x02;
inline constexpr uint64_t kResolveNoSymlinks = 0x04;
inline constexpr uint64_t kResolveBeneath = 0x08;
inline constexpr uint64_t kResolveInRoot = 0x10;

// struct open_how (linux/openat2.h), OPEN_HOW_SIZE_VER0 = 24.
struct OpenHow {
  uint64_t flags = 0;
  uint64_t mode = 0;
  uint64_t resolve = 0;
};

// pivot_root(2). No glibc wrapper exists.
int PivotRoot(const char* new_root, const char* put_old);

// pidfd_open(2). Kernel 5.3+; setns(2) on a pidfd needs 5.8+.
int PidfdOpen(pid_t pid, unsigned flags);

// mount_setattr(2). Kernel 5.12+.
int MountSetattr(int dirfd, const char* path, unsigned flags, MountAttr* attr);

// open_tree(2). Kernel 5.2+.
int OpenTree(int dirfd, const char* path, unsigned flags);

// move_mount(2). Kernel 5.2+.
int MoveMount(int from_dirfd, const char* from_path, int to_dirfd,
              const char* to_path, unsigned flags);

// fsopen(2), fsconfig(2), fsmount(2). Kernel 5.2+.
int Fsopen(const char* fstype, unsigned flags);
int Fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux);
int Fsmount(int fd, unsigned flags, unsigned attr_flags);

// openat2(2). Kernel 5.6+. Fails with EAGAIN under kResolveInRoot or
// kResolveBeneath when a concurrent rename or mount could have let ".."
// escape; the caller may retry.
int Openat2(int dirfd, const char* path, const OpenHow* how);

}  // namespace linx::sys

#endif  // LINX_BASE_SYSCALLS_H_
