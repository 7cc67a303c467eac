// CheckInsideRoot and ProcFdPath (mount/in_root.h): the checks around an
// in-root resolution.
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "mount/in_root.h"
#include "mount/internal/in_root_hooks.h"
#include "mount/internal/in_root_util.h"

namespace linx {
namespace {

using in_root_internal::BadArgument;
using in_root_internal::FdIdentity;
using in_root_internal::FdProcPath;
using in_root_internal::Identity;
using in_root_internal::NoOpenat2;
using in_root_internal::ReopenPath;
using in_root_internal::RootName;
using in_root_internal::StatxIdentity;
using in_root_internal::WithOutsideCode;

// ".." steps CheckInsideRoot takes before giving up (PATH_MAX / 2 levels of
// one-character names fit in a path; deeper trees are not reachable by one).
constexpr int kMaxLevels = 4096;
// Tries to pin a non-directory's parent while it is being renamed.
constexpr int kParentRetries = 64;
// procfs's root directory inode (fs/proc/root.c, PROC_ROOT_INO).
constexpr uint64_t kProcRootIno = 1;

}  // namespace

absl::Status CheckInsideRoot(int root_fd, int fd) {
  auto fail = [&](int err, absl::string_view what) {
    OpError e;
    e.operation = "check_inside_root";
    e.stage = Stage::kResolve;
    e.errno_value = err;
    std::string where = FdProcPath(fd);
    e.value = where;
    return WithOutsideCode(MakeOpError(
        e, absl::StrCat("check that ",
                        where.empty() ? absl::StrCat("fd ", fd) : Quote(where),
                        " lies in root ", RootName(root_fd), ": ", what, ": ",
                        ErrnoDescription(err))));
  };
  Identity root;
  if (int err = FdIdentity(root_fd, &root); err != 0) {
    return fail(err, "statx(root)");
  }
  Identity cur_id;
  if (int err = FdIdentity(fd, &cur_id); err != 0) return fail(err, "statx");
  if (cur_id.SameAs(root)) return absl::OkStatus();
  UniqueFd cur;
  if (!S_ISDIR(cur_id.mode)) {
    // No ".." from a file: find the directory /proc says holds it, and prove
    // that directory has this very file (dev/ino/mnt_id) under that name. A
    // rename between the readlink and the open defeats one try; retry.
    bool proven = false;
    for (int attempt = 0; attempt < kParentRetries && !proven; ++attempt) {
      std::string full = FdProcPath(fd);
      size_t slash = full.rfind('/');
      if (full.empty() || full.front() != '/' || slash == std::string::npos) {
        return fail(ENOTDIR, "not a directory, and /proc names no parent");
      }
      std::string dir = slash == 0 ? "/" : full.substr(0, slash);
      std::string name = full.substr(slash + 1);
      cur.reset(RetryOnEintr([&] {
        return ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      }));
      Identity named;
      proven = cur.valid() &&
               StatxIdentity(cur.get(), name.c_str(), AT_SYMLINK_NOFOLLOW,
                             &named) == 0 &&
               named.SameAs(cur_id);
    }
    if (!proven) {
      return fail(EAGAIN,
                  "its parent directory kept changing and cannot be proven");
    }
  } else {
    cur = ReopenPath(fd);
    if (!cur.valid()) return fail(errno, "reopen");
  }
  for (int level = 0; level < kMaxLevels; ++level) {
    Identity id;
    if (int err = FdIdentity(cur.get(), &id); err != 0) {
      return fail(err, "statx");
    }
    if (id.SameAs(root)) return absl::OkStatus();
    UniqueFd up(RetryOnEintr([&] {
      return ::openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }));
    if (!up.valid()) return fail(errno, "openat(\"..\")");
    Identity up_id;
    if (int err = FdIdentity(up.get(), &up_id); err != 0) {
      return fail(err, "statx");
    }
    if (up_id.SameAs(id)) {
      return fail(EXDEV,
                  "outside the root (reached the top without meeting it)");
    }
    cur = std::move(up);
  }
  return fail(ELOOP, absl::StrCat("more than ", kMaxLevels, " levels"));
}

absl::StatusOr<std::string> ProcFdPath(int fd) {
  auto fail = [&](int err, absl::string_view what) {
    OpError e;
    e.operation = "proc_fd_path";
    e.stage = Stage::kResolve;
    e.errno_value = err;
    e.value = absl::StrCat(fd);
    return WithOutsideCode(
        MakeOpError(e, absl::StrCat("/proc/thread-self/fd/", fd, ": ", what,
                                    ": ", ErrnoDescription(err))));
  };
  if (fd < 0) return BadArgument("fd", absl::StrCat(fd), "not open");
  UniqueFd proc(RetryOnEintr([] {
    return ::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }));
  if (!proc.valid()) return fail(errno, "open /proc");
  struct statfs sfs {};
  if (::fstatfs(proc.get(), &sfs) != 0) return fail(errno, "fstatfs /proc");
  if (sfs.f_type != PROC_SUPER_MAGIC) {
    return fail(EXDEV, "/proc is not a procfs");
  }
  Identity pid;
  if (int err = FdIdentity(proc.get(), &pid); err != 0) {
    return fail(err, "statx /proc");
  }
  if ((pid.attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
      (pid.attributes & STATX_ATTR_MOUNT_ROOT) == 0) {
    return fail(EXDEV, "/proc is not the root of its mount");
  }
  if (pid.ino != kProcRootIno) {
    return fail(EXDEV, "/proc is a bind of a procfs subdirectory");
  }
  UniqueFd fd_dir;
  if (!mount_internal::ForceNoOpenat2() && !NoOpenat2().load()) {
    sys::OpenHow how;
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = sys::kResolveNoXdev | sys::kResolveNoMagiclinks;
    fd_dir.reset(RetryOnEintr(
        [&] { return sys::Openat2(proc.get(), "thread-self/fd", &how); }));
    if (!fd_dir.valid() && errno == ENOSYS) NoOpenat2().store(true);
    if (!fd_dir.valid() && errno != ENOSYS) {
      int err = errno;
      return fail(err == EXDEV ? EXDEV : err,
                  "thread-self/fd is not plain procfs");
    }
  }
  if (!fd_dir.valid()) {
    fd_dir.reset(RetryOnEintr([&] {
      return ::openat(proc.get(), "thread-self/fd",
                      O_PATH | O_DIRECTORY | O_CLOEXEC);
    }));
    if (!fd_dir.valid()) return fail(errno, "open thread-self/fd");
    Identity d;
    struct statfs dfs {};
    if (FdIdentity(fd_dir.get(), &d) != 0 ||
        ::fstatfs(fd_dir.get(), &dfs) != 0 || dfs.f_type != PROC_SUPER_MAGIC ||
        d.dev_major != pid.dev_major || d.dev_minor != pid.dev_minor) {
      return fail(EXDEV, "thread-self/fd is not plain procfs");
    }
  }
  std::string name = absl::StrCat(fd);
  UniqueFd again(RetryOnEintr([&] {
    return ::openat(fd_dir.get(), name.c_str(), O_PATH | O_CLOEXEC);
  }));
  if (!again.valid()) return fail(errno, "reopen through the magic link");
  Identity want, got;
  if (int err = FdIdentity(fd, &want); err != 0) return fail(err, "statx fd");
  if (int err = FdIdentity(again.get(), &got); err != 0) {
    return fail(err, "statx link");
  }
  if (!want.SameAs(got)) {
    return fail(EXDEV, "the magic link does not lead back to the fd");
  }
  return absl::StrCat("/proc/thread-self/fd/", fd);
}

}  // namespace linx
