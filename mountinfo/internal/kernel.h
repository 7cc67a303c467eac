// Kernel ABI for listmount(2), statmount(2), statx(2) mount IDs,
// NS_GET_MNTNS_ID and fanotify mount events, spelled out because Debian 12's
// headers (Linux 6.1) predate them. Values checked against the kernel's
// include/uapi/linux/{mount,stat,nsfs,fanotify}.h; they are ABI and never
// change. Private to //mountinfo.
//
// Every wrapper honours PretendMissingForTesting(): a feature pretended
// missing fails with ENOSYS before any syscall is made.
#ifndef LINX_MOUNTINFO_INTERNAL_KERNEL_H_
#define LINX_MOUNTINFO_INTERNAL_KERNEL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "mountinfo/statmount.h"

namespace linx::kabi {

// x86-64 / generic syscall numbers (same on every architecture that uses
// the unified table, i.e. all but alpha and mips).
inline constexpr long kSysStatmount = 457;
inline constexpr long kSysListmount = 458;

// struct mnt_id_req (linux/mount.h). VER0 = 24 bytes (6.8), VER1 = 32 bytes
// with mnt_ns_id (6.11).
struct MntIdReq {
  uint32_t size = 0;
  uint32_t spare = 0;
  uint64_t mnt_id = 0;
  uint64_t param = 0;
  uint64_t mnt_ns_id = 0;
};
inline constexpr uint32_t kMntIdReqSizeVer0 = 24;
inline constexpr uint32_t kMntIdReqSizeVer1 = 32;

// struct statmount (linux/mount.h, as of 6.13). The string fields are
// offsets into str[]. 512 bytes before str.
struct Statmount {
  uint32_t size;
  uint32_t mnt_opts;
  uint64_t mask;
  uint32_t sb_dev_major;
  uint32_t sb_dev_minor;
  uint64_t sb_magic;
  uint32_t sb_flags;
  uint32_t fs_type;
  uint64_t mnt_id;
  uint64_t mnt_parent_id;
  uint32_t mnt_id_old;
  uint32_t mnt_parent_id_old;
  uint64_t mnt_attr;
  uint64_t mnt_propagation;
  uint64_t mnt_peer_group;
  uint64_t mnt_master;
  uint64_t propagate_from;
  uint32_t mnt_root;
  uint32_t mnt_point;
  uint64_t mnt_ns_id;
  uint32_t fs_subtype;
  uint32_t sb_source;
  uint32_t opt_num;
  uint32_t opt_array;
  uint32_t opt_sec_num;
  uint32_t opt_sec_array;
  uint64_t spare2[46];
  // char str[] follows.
};
static_assert(sizeof(Statmount) == 512, "struct statmount layout");
static_assert(offsetof(Statmount, mnt_id_old) == 56, "mnt_id_old offset");
static_assert(offsetof(Statmount, mnt_ns_id) == 112, "mnt_ns_id offset");

// statmount(2) request mask bits.
inline constexpr uint64_t kStatmountSbBasic = 0x00000001;
inline constexpr uint64_t kStatmountMntBasic = 0x00000002;
inline constexpr uint64_t kStatmountPropagateFrom = 0x00000004;
inline constexpr uint64_t kStatmountMntRoot = 0x00000008;
inline constexpr uint64_t kStatmountMntPoint = 0x00000010;
inline constexpr uint64_t kStatmountFsType = 0x00000020;
inline constexpr uint64_t kStatmountMntNsId = 0x00000040;
inline constexpr uint64_t kStatmountMntOpts = 0x00000080;
inline constexpr uint64_t kStatmountFsSubtype = 0x00000100;
inline constexpr uint64_t kStatmountSbSource = 0x00000200;
// Every field a MountInfo is rebuilt from, but propagate_from (asked per
// mount, see statmount.h): what ListMounts and StatMount request.
inline constexpr uint64_t kStatmountMountInfoMask =
    kStatmountSbBasic | kStatmountMntBasic | kStatmountMntRoot |
    kStatmountMntPoint | kStatmountFsType | kStatmountMntNsId |
    kStatmountMntOpts | kStatmountFsSubtype | kStatmountSbSource;

// Superblock flags reported in sb_flags (SB_*, linux/fs.h).
inline constexpr uint32_t kSbRdonly = 1;
inline constexpr uint32_t kSbSynchronous = 16;
inline constexpr uint32_t kSbDirsync = 128;
inline constexpr uint32_t kSbLazytime = 1u << 25;

// mnt_attr holds MOUNT_ATTR_* bits (sys::kMountAttr*, base/syscalls.h) and
// mnt_propagation MS_* bits (<sys/mount.h>).

// statx(2) (linux/stat.h).
inline constexpr unsigned kStatxMntId = 0x00001000;
inline constexpr unsigned kStatxMntIdUnique = 0x00004000;
inline constexpr uint64_t kStatxAttrMountRoot = 0x00002000;

// ioctl(NS_GET_MNTNS_ID) = _IOR(0xb7, 0x5, __u64) (linux/nsfs.h, 6.11).
inline constexpr unsigned long kNsGetMntnsId =
    (2ul << 30) | (sizeof(uint64_t) << 16) | (0xb7ul << 8) | 0x5ul;

// fanotify mount events (linux/fanotify.h, 6.15).
inline constexpr unsigned kFanReportMnt = 0x00004000;
inline constexpr unsigned kFanMarkMntns = 0x00000110;
inline constexpr uint64_t kFanMntAttach = 0x01000000;
inline constexpr uint64_t kFanMntDetach = 0x02000000;
inline constexpr uint8_t kFanEventInfoTypeMnt = 7;
// struct fanotify_event_info_mnt: header (4 bytes), pad to 8, __u64 mnt_id.
inline constexpr size_t kFanInfoMntIdOffset = 8;

// True while `f` is pretended missing.
bool Pretended(KernelFeature f);

// Raw wrappers: -1 with errno on failure (ENOSYS when pretended missing).
int SysStatmount(const MntIdReq* req, Statmount* buf, size_t bufsize,
                 unsigned flags);
long SysListmount(const MntIdReq* req, uint64_t* ids, size_t n, unsigned flags);
// statx(AT_FDCWD, path, flags, mask) returning stx_mnt_id in *mnt_id and
// the mask/attributes. `mask` must include kStatxMntId or
// kStatxMntIdUnique; the matching feature's pretend flag applies.
int StatxMountId(const char* path, int flags, unsigned mask, uint64_t* mnt_id,
                 unsigned* got_mask, uint64_t* attributes,
                 uint64_t* attributes_mask);

// A fanotify fd (FAN_CLOEXEC | FAN_NONBLOCK, FAN_REPORT_MNT) marked for
// mount attach and detach events in the mount namespace of `proc_dir`
// ("/proc/<pid>" or "/proc/thread-self"), or an invalid fd where the
// kernel (before 6.15) or the caller's privilege refuses. Callers check
// KernelHas(KernelFeature::kFanotifyMount) first.
UniqueFd WatchMountEvents(const std::string& proc_dir);

}  // namespace linx::kabi

#endif  // LINX_MOUNTINFO_INTERNAL_KERNEL_H_
