#include "mountinfo/statmount.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/signals.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/internal/statmount_decode.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

using kabi::MntIdReq;

absl::Status SysError(absl::string_view operation, Stage stage, int err,
                      std::string value) {
  OpError e;
  e.operation = std::string(operation);
  e.stage = stage;
  e.errno_value = err;
  e.value = std::move(value);
  std::string msg = absl::StrCat(operation);
  if (!e.value.empty()) absl::StrAppend(&msg, "(", e.value, ")");
  absl::StrAppend(&msg, ": ", ErrnoDescription(err));
  return MakeOpError(e, msg);
}

// -1 unknown, 0 missing, 1 present.
std::atomic<int> g_probe[5] = {-1, -1, -1, -1, -1};

MntIdReq MakeReq(uint64_t mnt_id, uint64_t param, uint64_t ns_id) {
  MntIdReq r;
  r.size = ns_id != 0 ? kabi::kMntIdReqSizeVer1 : kabi::kMntIdReqSizeVer0;
  r.mnt_id = mnt_id;
  r.param = param;
  r.mnt_ns_id = ns_id;
  return r;
}

// The largest statmount(2) reply buffer: 16 MiB. A reply holds a handful of
// strings (mount point and root up to PATH_MAX each, the option strings a
// filesystem prints), so a real one fits in the first 8 KiB; past this bound
// EOVERFLOW is returned as the error instead of doubling again.
constexpr size_t kMaxReplyWords = (size_t{16} << 20) / sizeof(uint64_t);

// One statmount(2) into `buf`, growing it on EOVERFLOW up to kMaxReplyWords.
// Returns 0 or errno.
int StatmountInto(uint64_t id, uint64_t ns_id, uint64_t mask,
                  std::vector<uint64_t>* buf) {
  if (buf->size() < 1024) buf->resize(1024);  // 8 KiB
  MntIdReq req = MakeReq(id, mask, ns_id);
  for (;;) {
    auto* sm = reinterpret_cast<kabi::Statmount*>(buf->data());
    if (kabi::SysStatmount(&req, sm, buf->size() * sizeof(uint64_t), 0) == 0) {
      return 0;
    }
    int err = errno;
    if (err != EOVERFLOW || buf->size() >= kMaxReplyWords) return err;
    buf->resize(buf->size() * 2);
  }
}

bool ProbeStatmount() {
  MntIdReq req = MakeReq(kListmountRoot, 0, 0);
  uint64_t id = 0;
  if (kabi::SysListmount(&req, &id, 1, 0) != 1) return false;
  std::vector<uint64_t> buf;
  // STATMOUNT_SUPPORTED_MASK (0x1000, 6.15) answers directly where it
  // exists; otherwise the root mount's reply must carry sb_source (6.13),
  // which arrived after mnt_opts (6.10) and fs_subtype.
  constexpr uint64_t kSupportedMask = 0x1000;
  if (StatmountInto(id, 0, kSupportedMask, &buf) == 0) {
    auto* sm = reinterpret_cast<const kabi::Statmount*>(buf.data());
    if (sm->mask & kSupportedMask) {
      // supported_mask follows opt_sec_array in struct statmount.
      uint64_t supported = sm->spare2[0];
      constexpr uint64_t kNeed =
          kabi::kStatmountMountInfoMask | kabi::kStatmountPropagateFrom;
      return (supported & kNeed) == kNeed;
    }
  }
  if (StatmountInto(id, 0, kabi::kStatmountMountInfoMask, &buf) != 0)
    return false;
  auto* sm = reinterpret_cast<const kabi::Statmount*>(buf.data());
  return (sm->mask & kabi::kStatmountSbSource) != 0;
}

bool ProbeStatx(unsigned mask) {
  uint64_t id = 0;
  unsigned got = 0;
  if (kabi::StatxMountId("/", 0, mask, &id, &got, nullptr, nullptr) != 0) {
    return false;
  }
  return (got & mask) != 0;
}

bool ProbeNsId() {
  UniqueFd fd(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  uint64_t id = 0;
  if (::ioctl(fd.get(), kabi::kNsGetMntnsId, &id) != 0 || id == 0) {
    return false;
  }
  // listmount must accept it too (mnt_id_req VER1).
  MntIdReq req = MakeReq(kListmountRoot, 0, id);
  uint64_t one = 0;
  return kabi::SysListmount(&req, &one, 1, 0) >= 0;
}

bool ProbeFanotify() {
  if (kabi::Pretended(KernelFeature::kFanotifyMount)) return false;
  UniqueFd fd(::fanotify_init(kabi::kFanReportMnt | FAN_CLOEXEC, O_RDONLY));
  return fd.valid();
}

absl::StatusOr<uint64_t> NsIdOfPath(const std::string& path, pid_t pid) {
  if (kabi::Pretended(KernelFeature::kMountNamespaceId)) {
    return SysError("mnt_ns_id", Stage::kRead, ENOSYS, path);
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT && pid > 0) {
      return SysError("mnt_ns_id", Stage::kOpenNs, ENOENT,
                      absl::StrCat("pid ", pid));
    }
    return SysError("mnt_ns_id", Stage::kOpenNs, err, path);
  }
  uint64_t id = 0;
  if (::ioctl(fd.get(), kabi::kNsGetMntnsId, &id) != 0) {
    int err = errno;
    // Kernels before 6.11 answer an unknown nsfs ioctl with ENOTTY.
    if (err == ENOTTY || err == EINVAL) err = ENOSYS;
    return SysError("mnt_ns_id", Stage::kRead, err, path);
  }
  return id;
}

const char* Str(const kabi::Statmount* sm, uint32_t off) {
  return reinterpret_cast<const char*>(sm) + sizeof(kabi::Statmount) + off;
}

// What is wrong with a reply of `bytes` bytes at `sm`, or "" when it holds
// together: the header must fit, its size field (header + strings) must lie
// within `bytes`, and every string Fill() reads (a field whose mask bit is
// set) must start and end (NUL) inside the strings. The kernel's replies
// always do; the checks keep a malformed one from being read out of bounds.
std::string ReplyProblem(const kabi::Statmount* sm, size_t bytes) {
  constexpr size_t kHeader = sizeof(kabi::Statmount);
  if (bytes < kHeader) {
    return absl::StrCat("reply of ", bytes, " bytes, shorter than the ",
                        kHeader, "-byte header");
  }
  if (sm->size < kHeader || sm->size > bytes) {
    return absl::StrCat("size field ", sm->size, " outside [", kHeader, ", ",
                        bytes, "]");
  }
  // The 32-bit IDs mountinfo prints are non-negative ints (an IDA below
  // 2^31); MountInfo keeps them as int32_t.
  if (sm->mnt_id_old > INT32_MAX || sm->mnt_parent_id_old > INT32_MAX) {
    return absl::StrCat("mount IDs ", sm->mnt_id_old, "/",
                        sm->mnt_parent_id_old, " beyond 2^31-1");
  }
  size_t strings = sm->size - kHeader;
  struct Field {
    uint64_t bit;
    uint32_t off;
    const char* name;
  };
  const Field fields[] = {
      {kabi::kStatmountMntRoot, sm->mnt_root, "mnt_root"},
      {kabi::kStatmountMntPoint, sm->mnt_point, "mnt_point"},
      {kabi::kStatmountFsType, sm->fs_type, "fs_type"},
      {kabi::kStatmountMntOpts, sm->mnt_opts, "mnt_opts"},
      {kabi::kStatmountFsSubtype, sm->fs_subtype, "fs_subtype"},
      {kabi::kStatmountSbSource, sm->sb_source, "sb_source"},
  };
  for (const Field& f : fields) {
    if ((sm->mask & f.bit) == 0) continue;
    if (f.off >= strings ||
        std::memchr(Str(sm, f.off), '\0', strings - f.off) == nullptr) {
      return absl::StrCat(f.name, " at offset ", f.off,
                          " does not end inside the ", strings,
                          " bytes of strings");
    }
  }
  return "";
}

std::string VfsOptions(uint64_t attr) {
  // show_mnt_opts() order (fs/proc_namespace.c).
  std::string s = (attr & sys::kMountAttrRdonly) ? "ro" : "rw";
  if (attr & sys::kMountAttrNosuid) s += ",nosuid";
  if (attr & sys::kMountAttrNodev) s += ",nodev";
  if (attr & sys::kMountAttrNoexec) s += ",noexec";
  uint64_t atime = attr & sys::kMountAttrAtimeMask;
  if (atime == sys::kMountAttrNoatime) s += ",noatime";
  if (attr & sys::kMountAttrNodiratime) s += ",nodiratime";
  if (atime == sys::kMountAttrRelatime) s += ",relatime";
  if (attr & sys::kMountAttrNosymfollow) s += ",nosymfollow";
  if (attr & sys::kMountAttrIdmap) s += ",idmapped";
  return s;
}

// Fills a default-constructed MountInfo from one statmount(2) reply.
void Fill(const kabi::Statmount* sm, MountInfo* out) {
  MountInfo& m = *out;
  m.id = static_cast<int32_t>(sm->mnt_id_old);
  m.parent_id = static_cast<int32_t>(sm->mnt_parent_id_old);
  m.major = sm->sb_dev_major;
  m.minor = sm->sb_dev_minor;
  if (sm->mask & kabi::kStatmountMntRoot) m.root = Str(sm, sm->mnt_root);
  if (sm->mask & kabi::kStatmountMntPoint) m.target = Str(sm, sm->mnt_point);
  m.vfs_options = VfsOptions(sm->mnt_attr);
  // show_mountinfo() tags: shared, master[, propagate_from], unbindable.
  if (sm->mnt_propagation & MS_SHARED) {
    m.shared = static_cast<uint32_t>(sm->mnt_peer_group);
    m.optional_fields.push_back(absl::StrCat("shared:", *m.shared));
  }
  if (sm->mnt_propagation & MS_SLAVE) {
    m.master = static_cast<uint32_t>(sm->mnt_master);
    m.optional_fields.push_back(absl::StrCat("master:", *m.master));
    if ((sm->mask & kabi::kStatmountPropagateFrom) && sm->propagate_from != 0 &&
        sm->propagate_from != sm->mnt_master) {
      m.propagate_from = static_cast<uint32_t>(sm->propagate_from);
      m.optional_fields.push_back(
          absl::StrCat("propagate_from:", *m.propagate_from));
    }
  }
  if (sm->mnt_propagation & MS_UNBINDABLE) {
    m.unbindable = true;
    m.optional_fields.push_back("unbindable");
  }
  if (sm->mask & kabi::kStatmountFsType) m.fstype = Str(sm, sm->fs_type);
  if ((sm->mask & kabi::kStatmountFsSubtype) && *Str(sm, sm->fs_subtype)) {
    absl::StrAppend(&m.fstype, ".", Str(sm, sm->fs_subtype));
  }
  if (sm->mask & kabi::kStatmountSbSource) m.source = Str(sm, sm->sb_source);
  // "ro"/"rw" and show_sb_opts() words, then the security and filesystem
  // options (statmount_mnt_opts() drops their leading comma and keeps the
  // escapes, which the text parser decodes: decode them too).
  m.fs_options = (sm->sb_flags & kabi::kSbRdonly) ? "ro" : "rw";
  if (sm->sb_flags & kabi::kSbSynchronous) m.fs_options += ",sync";
  if (sm->sb_flags & kabi::kSbDirsync) m.fs_options += ",dirsync";
  if (sm->sb_flags & kabi::kSbLazytime) m.fs_options += ",lazytime";
  if ((sm->mask & kabi::kStatmountMntOpts) && *Str(sm, sm->mnt_opts)) {
    absl::string_view opts = Str(sm, sm->mnt_opts);
    m.fs_options.push_back(',');
    if (opts.find('\\') == absl::string_view::npos) {
      m.fs_options.append(opts.data(), opts.size());
    } else {
      m.fs_options += DecodeMountInfoEscapes(opts);
    }
  }
}

// The same plus the 64-bit IDs.
void Fill(const kabi::Statmount* sm, StatmountEntry* out) {
  out->unique_id = sm->mnt_id;
  out->parent_unique_id = sm->mnt_parent_id;
  if (sm->mask & kabi::kStatmountMntNsId) out->mnt_ns_id = sm->mnt_ns_id;
  Fill(sm, &out->info);
}

// One statmount(2) of `id` decoded into *out (default-constructed). 0, or
// the errno; EBADMSG, with *problem saying why, for a reply that does not
// hold together (ReplyProblem).
template <typename Entry>
int StatmountDecoded(uint64_t id, uint64_t ns_id, uint64_t mask,
                     std::vector<uint64_t>* buf, Entry* out,
                     std::string* problem) {
  int err = StatmountInto(id, ns_id, mask, buf);
  if (err != 0) return err;
  const auto* sm = reinterpret_cast<const kabi::Statmount*>(buf->data());
  *problem = ReplyProblem(sm, buf->size() * sizeof(uint64_t));
  if (!problem->empty()) return EBADMSG;
  Fill(sm, out);
  return 0;
}

}  // namespace

namespace statmount_internal {

MountInfo& InfoOf(MountInfo& m) { return m; }
MountInfo& InfoOf(StatmountEntry& e) { return e.info; }

absl::Status StatmountError(int err, uint64_t id, const std::string& problem) {
  return SysError(
      "statmount", Stage::kRead, err,
      problem.empty() ? absl::StrCat(id) : absl::StrCat(id, ": ", problem));
}

absl::Status Unimplemented(absl::string_view what) {
  OpError e;
  e.operation = std::string(what);
  e.stage = Stage::kRead;
  e.errno_value = ENOSYS;
  return MakeOpError(e, absl::StrCat(what, ": ", ErrnoDescription(ENOSYS),
                                     " (needs Linux 6.13+)"));
}

int StatmountDecoded(uint64_t id, uint64_t ns_id, uint64_t mask,
                     std::vector<uint64_t>* buf, MountInfo* out,
                     std::string* problem) {
  return ::linx::StatmountDecoded(id, ns_id, mask, buf, out, problem);
}

int StatmountDecoded(uint64_t id, uint64_t ns_id, uint64_t mask,
                     std::vector<uint64_t>* buf, StatmountEntry* out,
                     std::string* problem) {
  return ::linx::StatmountDecoded(id, ns_id, mask, buf, out, problem);
}

}  // namespace statmount_internal

using statmount_internal::StatmountError;
using statmount_internal::Unimplemented;

const char* ListBackendName(ListBackend backend) {
  switch (backend) {
    case ListBackend::kAuto:
      return "auto";
    case ListBackend::kText:
      return "text";
    case ListBackend::kStatmount:
      return "statmount";
  }
  return "auto";
}

bool ParseListBackend(absl::string_view name, ListBackend* backend) {
  for (ListBackend b :
       {ListBackend::kAuto, ListBackend::kText, ListBackend::kStatmount}) {
    if (name == ListBackendName(b)) {
      *backend = b;
      return true;
    }
  }
  return false;
}

const char* KernelFeatureName(KernelFeature feature) {
  switch (feature) {
    case KernelFeature::kStatmount:
      return "statmount";
    case KernelFeature::kStatxMountId:
      return "statx_mnt_id";
    case KernelFeature::kStatxMountIdUnique:
      return "statx_mnt_id_unique";
    case KernelFeature::kMountNamespaceId:
      return "mnt_ns_id";
    case KernelFeature::kFanotifyMount:
      return "fanotify_mount";
  }
  return "unknown";
}

bool KernelHas(KernelFeature feature) {
  if (kabi::Pretended(feature)) return false;
  std::atomic<int>& slot = g_probe[static_cast<int>(feature)];
  int v = slot.load(std::memory_order_acquire);
  if (v < 0) {
    bool has = false;
    switch (feature) {
      case KernelFeature::kStatmount:
        has = ProbeStatmount();
        break;
      case KernelFeature::kStatxMountId:
        has = ProbeStatx(kabi::kStatxMntId);
        break;
      case KernelFeature::kStatxMountIdUnique:
        has = ProbeStatx(kabi::kStatxMntIdUnique);
        break;
      case KernelFeature::kMountNamespaceId:
        has = ProbeNsId();
        break;
      case KernelFeature::kFanotifyMount:
        has = ProbeFanotify();
        break;
    }
    v = has ? 1 : 0;
    slot.store(v, std::memory_order_release);
  }
  return v == 1;
}

absl::StatusOr<std::vector<uint64_t>> ListMountIds(uint64_t mnt_ns_id,
                                                   uint64_t under) {
  std::vector<uint64_t> out;
  constexpr size_t kPage = 4096;
  uint64_t last = 0;
  for (;;) {
    size_t old = out.size();
    out.resize(old + kPage);
    MntIdReq req = MakeReq(under, last, mnt_ns_id);
    long n = kabi::SysListmount(&req, out.data() + old, kPage, 0);
    if (n < 0) {
      int err = errno;
      return SysError("listmount", Stage::kRead, err,
                      mnt_ns_id ? absl::StrCat("mnt_ns_id ", mnt_ns_id) : "");
    }
    out.resize(old + static_cast<size_t>(n));
    if (static_cast<size_t>(n) < kPage) break;
    last = out.back();
  }
  return out;
}

absl::StatusOr<StatmountEntry> StatMount(uint64_t unique_id, uint64_t mnt_ns_id,
                                         bool with_propagate_from) {
  if (!KernelHas(KernelFeature::kStatmount)) return Unimplemented("statmount");
  std::vector<uint64_t> buf;
  uint64_t mask = kabi::kStatmountMountInfoMask;
  if (with_propagate_from) mask |= kabi::kStatmountPropagateFrom;
  StatmountEntry out;
  std::string problem;
  int err = StatmountDecoded(unique_id, mnt_ns_id, mask, &buf, &out, &problem);
  if (err != 0) return StatmountError(err, unique_id, problem);
  return out;
}

absl::StatusOr<StatmountEntry> ParseStatmount(absl::string_view reply) {
  // A copy, so that the header is read aligned whatever `reply` points at.
  std::vector<uint64_t> buf((reply.size() + sizeof(uint64_t) - 1) /
                            sizeof(uint64_t));
  if (!reply.empty()) std::memcpy(buf.data(), reply.data(), reply.size());
  const auto* sm = reinterpret_cast<const kabi::Statmount*>(buf.data());
  std::string problem = ReplyProblem(sm, reply.size());
  if (!problem.empty()) {
    OpError e;
    e.operation = "statmount";
    e.stage = Stage::kBadArgument;
    e.value = problem;
    return MakeOpError(e, absl::StrCat("statmount reply: ", problem));
  }
  StatmountEntry out;
  Fill(sm, &out);
  return out;
}

absl::StatusOr<uint64_t> MountNamespaceId(pid_t pid) {
  if (pid < 0) {
    OpError e;
    e.operation = "mnt_ns_id";
    e.stage = Stage::kBadArgument;
    e.value = absl::StrCat(pid);
    return MakeOpError(e, absl::StrCat("mnt_ns_id: bad pid ", pid));
  }
  std::string path = pid == 0 ? std::string("/proc/thread-self/ns/mnt")
                              : absl::StrCat("/proc/", pid, "/ns/mnt");
  return NsIdOfPath(path, pid);
}

ListBackend ResolveListBackend(const ListOptions& options) {
  if (options.backend != ListBackend::kAuto) return options.backend;
  if (!KernelHas(KernelFeature::kStatmount)) return ListBackend::kText;
  if (options.pid != 0 && !KernelHas(KernelFeature::kMountNamespaceId)) {
    return ListBackend::kText;
  }
  return ListBackend::kStatmount;
}

}  // namespace linx
