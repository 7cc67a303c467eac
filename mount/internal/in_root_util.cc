#include "mount/internal/in_root_util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"

namespace linx::in_root_internal {

std::atomic<bool>& NoOpenat2() {
  static std::atomic<bool> missing{false};
  return missing;
}

// The path of an open fd as /proc shows it; "" when /proc cannot say.
std::string FdProcPath(int fd) {
  char buf[PATH_MAX];
  std::string link = absl::StrCat("/proc/thread-self/fd/", fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf));
  if (n <= 0 || n >= static_cast<ssize_t>(sizeof(buf))) return "";
  return std::string(buf, static_cast<size_t>(n));
}

std::string RootName(int root_fd) {
  std::string p = FdProcPath(root_fd);
  return p.empty() ? absl::StrCat("fd ", root_fd) : Quote(p);
}

absl::Status BadArgument(absl::string_view what, absl::string_view value,
                         absl::string_view why) {
  OpError e;
  e.operation = "resolve";
  e.stage = Stage::kBadArgument;
  e.value = std::string(value);
  return MakeOpError(e, absl::StrCat("resolve: ", what, " ",
                                     Quote(value.substr(0, 256)), ": ", why));
}

// statx(dirfd, name, flags); errno on failure.
int StatxIdentity(int dirfd, const char* name, int flags, Identity* out) {
  struct statx stx {};
  if (::statx(dirfd, name, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID,
              &stx) != 0) {
    return errno;
  }
  out->dev_major = stx.stx_dev_major;
  out->dev_minor = stx.stx_dev_minor;
  out->ino = stx.stx_ino;
  out->has_mnt_id = (stx.stx_mask & STATX_MNT_ID) != 0;
  out->mnt_id = stx.stx_mnt_id;
  out->mode = stx.stx_mode;
  out->attributes = stx.stx_attributes;
  out->attributes_mask = stx.stx_attributes_mask;
  return 0;
}

int FdIdentity(int fd, Identity* out) {
  return StatxIdentity(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, out);
}

absl::Status WithOutsideCode(absl::Status s) {
  std::optional<OpError> e = GetOpError(s);
  if (!e.has_value() || e->errno_value != EXDEV) return s;
  return RewrapStatus(s, absl::StatusCode::kFailedPrecondition, s.message());
}

UniqueFd ReopenPath(int fd) {
  return UniqueFd(RetryOnEintr(
      [&] { return ::openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC); }));
}

}  // namespace linx::in_root_internal
