#include "mountinfo/internal/kernel.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace linx::kabi {
namespace {

constexpr int kNumFeatures = 5;
std::atomic<bool> g_pretend[kNumFeatures];

}  // namespace

bool Pretended(KernelFeature f) {
  return g_pretend[static_cast<int>(f)].load(std::memory_order_relaxed);
}

}  // namespace linx::kabi

namespace linx {

void PretendMissingForTesting(KernelFeature feature, bool missing) {
  kabi::g_pretend[static_cast<int>(feature)].store(missing,
                                                   std::memory_order_relaxed);
}

}  // namespace linx

namespace linx::kabi {
namespace {

// listmount(2) and statmount(2) are pretended missing together; a request
// naming another namespace by id also when mount-namespace ids are.
bool PretendedFor(const MntIdReq* req) {
  return Pretended(KernelFeature::kStatmount) ||
         (req->size >= kMntIdReqSizeVer1 && req->mnt_ns_id != 0 &&
          Pretended(KernelFeature::kMountNamespaceId));
}

}  // namespace

int SysStatmount(const MntIdReq* req, Statmount* buf, size_t bufsize,
                 unsigned flags) {
  if (PretendedFor(req)) {
    errno = ENOSYS;
    return -1;
  }
  return static_cast<int>(::syscall(kSysStatmount, req, buf, bufsize, flags));
}

long SysListmount(const MntIdReq* req, uint64_t* ids, size_t n,
                  unsigned flags) {
  if (PretendedFor(req)) {
    errno = ENOSYS;
    return -1;
  }
  return ::syscall(kSysListmount, req, ids, n, flags);
}

int StatxMountId(const char* path, int flags, unsigned mask, uint64_t* mnt_id,
                 unsigned* got_mask, uint64_t* attributes,
                 uint64_t* attributes_mask) {
  if (((mask & kStatxMntIdUnique) &&
       Pretended(KernelFeature::kStatxMountIdUnique)) ||
      ((mask & kStatxMntId) && Pretended(KernelFeature::kStatxMountId))) {
    errno = ENOSYS;
    return -1;
  }
  struct statx sx;
  if (::statx(AT_FDCWD, path, flags, mask, &sx) != 0) return -1;
  *mnt_id = sx.stx_mnt_id;
  *got_mask = sx.stx_mask;
  if (attributes != nullptr) *attributes = sx.stx_attributes;
  if (attributes_mask != nullptr) *attributes_mask = sx.stx_attributes_mask;
  return 0;
}

UniqueFd WatchMountEvents(const std::string& proc_dir) {
  UniqueFd fan(
      ::fanotify_init(kFanReportMnt | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY));
  std::string ns_path = proc_dir + "/ns/mnt";
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fan.valid() || !ns.valid() ||
      ::fanotify_mark(fan.get(), FAN_MARK_ADD | kFanMarkMntns,
                      kFanMntAttach | kFanMntDetach, ns.get(), nullptr) != 0) {
    return UniqueFd();
  }
  return fan;
}

}  // namespace linx::kabi
