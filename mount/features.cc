#include "mount/features.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "mountinfo/statmount.h"
#include "nsexec/nsexec.h"

namespace linx {
namespace {

// fanotify_init(2) flags for mount events (6.15; uapi linux/fanotify.h).
constexpr unsigned kFanReportMnt = 0x00004000;

// The answer of a syscall that exists unless it fails with ENOSYS (or, for
// flags it does not know, EINVAL, where `einval_means_no`).
Support FromErrno(int result, int err, bool einval_means_no,
                  std::string* detail) {
  if (result >= 0) return Support::kYes;
  if (err == ENOSYS || (einval_means_no && err == EINVAL)) {
    *detail = ErrnoName(err);
    return Support::kNo;
  }
  return Support::kYes;  // EBADF, EFAULT, ...: it looked at its arguments
}

// An fs_context for `fstype` (needs CAP_SYS_ADMIN): the fd, or why not.
UniqueFd FsContext(const char* fstype, Support* support, std::string* detail) {
  UniqueFd fs(sys::Fsopen(fstype, sys::kFsopenCloexec));
  if (fs.valid()) return fs;
  int err = errno;
  *detail = absl::StrCat("fsopen(\"", fstype, "\"): ", ErrnoName(err));
  *support = err == ENOSYS ? Support::kNo : Support::kUnknown;
  return fs;
}

}  // namespace

const char* SupportName(Support support) {
  switch (support) {
    case Support::kNo:
      return "no";
    case Support::kYes:
      return "yes";
    case Support::kUnknown:
      break;
  }
  return "unknown";
}

std::vector<KernelFeatureInfo> KernelFeatures() {
  std::vector<KernelFeatureInfo> out;
  auto add = [&](const char* name, const char* since, const char* what,
                 Support s, std::string detail = "") {
    out.push_back({name, since, what, s, std::move(detail)});
  };
  std::string d;

  // fsopen(2) and its message log.
  {
    Support s = Support::kYes;
    std::string why;
    UniqueFd fs = FsContext("tmpfs", &s, &why);
    Support fsopen = fs.valid() ? Support::kYes : s;
    if (!fs.valid() && s == Support::kUnknown) {
      // EPERM and the like: the syscall exists.
      fsopen = Support::kYes;
    }
    add("fsopen", "5.2", "new mounts built detached (fsopen/fsconfig/fsmount)",
        fsopen, fs.valid() ? "" : why);
    Support messages = Support::kUnknown;
    std::string mdetail = why;
    if (fs.valid()) {
      // An option tmpfs does not know: EINVAL and a line in the log.
      sys::Fsconfig(fs.get(), sys::kFsconfigSetString, "linx-probe", "1", 0);
      char buf[256];
      ssize_t n = ::read(fs.get(), buf, sizeof(buf));
      messages = n > 0 ? Support::kYes : Support::kNo;
      mdetail.clear();
    } else if (s == Support::kNo) {
      messages = Support::kNo;
    }
    add("fs_context_messages", "5.2",
        "the kernel's own error text from fsconfig/fsmount", messages, mdetail);
  }
  {
    // Without OPEN_TREE_CLONE: an O_PATH-like fd of "/", nothing detached.
    int fd = sys::OpenTree(AT_FDCWD, "/", O_CLOEXEC);
    int err = errno;
    UniqueFd guard(fd >= 0 ? fd : -1);
    d.clear();
    add("open_tree", "5.2", "binds made as detached trees",
        FromErrno(fd, err, false, &d), d);
  }
  {
    int r = sys::MoveMount(-1, "", -1, "", sys::kMoveMountFEmptyPath);
    int err = errno;
    d.clear();
    add("move_mount", "5.2", "attaching a detached mount onto an fd",
        FromErrno(r, err, false, &d), d);
  }
  Support setattr;
  {
    sys::MountAttr attr;
    int r = sys::MountSetattr(-1, "", sys::kAtEmptyPath, &attr);
    int err = errno;
    d.clear();
    setattr = FromErrno(r, err, false, &d);
    add("mount_setattr", "5.12",
        "per-mount flags on a whole tree, and on detached trees", setattr, d);
    add("idmapped_mounts", "5.12",
        "MOUNT_ATTR_IDMAP (each filesystem must support it too)", setattr, d);
  }
  {
    // A detached tmpfs mount with MOUNT_ATTR_NOSYMFOLLOW, closed again.
    Support s = Support::kUnknown;
    std::string why;
    UniqueFd fs = FsContext("tmpfs", &s, &why);
    if (fs.valid()) {
      sys::Fsconfig(fs.get(), sys::kFsconfigCmdCreate, nullptr, nullptr, 0);
      UniqueFd mnt(sys::Fsmount(fs.get(), sys::kFsmountCloexec,
                                sys::kMountAttrNosymfollow));
      int err = errno;
      s = mnt.valid() ? Support::kYes
                      : (err == EINVAL ? Support::kNo : Support::kUnknown);
      why = mnt.valid() ? "" : absl::StrCat("fsmount: ", ErrnoName(err));
    }
    add("nosymfollow", "5.10", "the nosymfollow per-mount flag", s, why);
  }
  {
    sys::OpenHow how;
    how.flags = O_PATH | O_CLOEXEC;
    int fd = sys::Openat2(AT_FDCWD, "/", &how);
    int err = errno;
    UniqueFd guard(fd >= 0 ? fd : -1);
    d.clear();
    add("openat2", "5.6", "RESOLVE_IN_ROOT for paths inside an image",
        FromErrno(fd, err, false, &d), d);
  }
  add("pidfd_setns", "5.8", "joining a pid's namespaces through its pidfd",
      SetnsByPidfdSupported() ? Support::kYes : Support::kNo);
  {
    // Flags are checked before the fds: unknown → EINVAL.
    int r = sys::MoveMount(-1, "", -1, "",
                           sys::kMoveMountBeneath | sys::kMoveMountFEmptyPath);
    int err = errno;
    d.clear();
    add("move_mount_beneath", "6.5",
        "a mount slid under the one at the target (atomic replace)",
        FromErrno(r, err, true, &d), d);
  }
  {
    Support s = Support::kUnknown;
    std::string why;
    UniqueFd fs = FsContext("overlay", &s, &why);
    if (fs.valid()) {
      // A legacy (pre-fs_context, before 6.5) overlay takes any key here
      // and fails only at FSCONFIG_CMD_CREATE: a nonsense key tells.
      int bogus = sys::Fsconfig(fs.get(), sys::kFsconfigSetString, "linx-probe",
                                "1", 0);
      int r = bogus == 0 ? -1
                         : sys::Fsconfig(fs.get(), sys::kFsconfigSetString,
                                         "lowerdir+", "/", 0);
      int err = errno;
      s = r == 0 ? Support::kYes : Support::kNo;
      why = r == 0 ? ""
            : bogus == 0
                ? "a legacy overlay (takes any key)"
                : absl::StrCat("fsconfig(lowerdir+): ", ErrnoName(err));
    } else if (s == Support::kNo) {
      why = "fsopen missing";
    }
    add("overlay_lowerdir_plus", "6.8",
        "overlay layers one fsconfig each (no 4 KiB option limit)", s, why);
  }
  Support statmount =
      KernelHas(KernelFeature::kStatmount) ? Support::kYes : Support::kNo;
  add("statmount", "6.13",
      "one mount's fields without mountinfo (6.8; sb_source 6.13)", statmount);
  {
    // listmount(2) with a NULL request: EFAULT where it exists.
    long r = ::syscall(458 /* __NR_listmount */, nullptr, nullptr, 0L, 0L);
    int err = errno;
    d.clear();
    add("listmount", "6.8", "the IDs of a namespace's mounts",
        FromErrno(static_cast<int>(r), err, false, &d), d);
  }
  {
    int fd = ::fanotify_init(kFanReportMnt | FAN_CLOEXEC, O_RDONLY);
    int err = errno;
    UniqueFd guard(fd >= 0 ? fd : -1);
    Support s = fd >= 0         ? Support::kYes
                : err == EINVAL ? Support::kNo
                : err == ENOSYS ? Support::kNo
                                : Support::kUnknown;
    add("fanotify_mount_events", "6.15",
        "attach/detach events per mount (FAN_MARK_MNTNS)", s,
        fd >= 0 ? "" : absl::StrCat("fanotify_init: ", ErrnoName(err)));
  }
  return out;
}

}  // namespace linx
