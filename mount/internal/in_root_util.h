// Helpers shared by the in-root resolver (mount/in_root.cc) and its checks
// (mount/in_root_check.cc). Private to mount/.
#ifndef LINX_MOUNT_INTERNAL_IN_ROOT_UTIL_H_
#define LINX_MOUNT_INTERNAL_IN_ROOT_UTIL_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace linx::in_root_internal {

// Set once openat2(2) answered ENOSYS: the component walk takes over.
std::atomic<bool>& NoOpenat2();

// The path of an open fd as /proc shows it; "" when /proc cannot say.
std::string FdProcPath(int fd);

// The root for messages: its /proc path quoted, or "fd N".
std::string RootName(int root_fd);

// An argument refused before any syscall (operation "resolve", stage
// bad_argument).
absl::Status BadArgument(absl::string_view what, absl::string_view value,
                         absl::string_view why);

// What identifies a file in a mount: the mount id tells a bind mount of a
// directory from the directory itself.
struct Identity {
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t ino = 0;
  uint64_t mnt_id = 0;
  bool has_mnt_id = false;
  uint16_t mode = 0;
  uint64_t attributes = 0;
  uint64_t attributes_mask = 0;

  bool SameAs(const Identity& o) const {
    if (dev_major != o.dev_major || dev_minor != o.dev_minor || ino != o.ino) {
      return false;
    }
    return !(has_mnt_id && o.has_mnt_id) || mnt_id == o.mnt_id;
  }
};

// statx(dirfd, name, flags) into *out; the errno on failure.
int StatxIdentity(int dirfd, const char* name, int flags, Identity* out);
int FdIdentity(int fd, Identity* out);

// EXDEV ("would cross out of the root", as openat2 reports it) maps to
// kUnimplemented in the errno table; for "this lies outside" the caller
// should see kFailedPrecondition. The payload keeps EXDEV.
absl::Status WithOutsideCode(absl::Status s);

// openat(fd, ".", O_PATH|O_DIRECTORY|O_CLOEXEC).
UniqueFd ReopenPath(int fd);

}  // namespace linx::in_root_internal

#endif  // LINX_MOUNT_INTERNAL_IN_ROOT_UTIL_H_
