#include "mount/internal/pivot_root.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/syscalls.h"
#include "mount/internal/render.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"

namespace linx::mount_internal {
namespace {

// Whether `path` is the root of a mount: statx(2) STATX_ATTR_MOUNT_ROOT
// (5.8+); nullopt when the kernel does not say.
std::optional<bool> IsMountRoot(const char* path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) != 0) {
    return std::nullopt;
  }
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
    return std::nullopt;
  }
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

bool IsUnder(absl::string_view path, absl::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (absl::StartsWith(path, dir) &&
                         path.size() > dir.size() && path[dir.size()] == '/');
}

// The parent of `m` in `table`, or nullptr (also for the namespace's root,
// whose parent is itself or outside the table).
const MountInfo* ParentOf(const std::vector<MountInfo>& table,
                          const MountInfo* m) {
  if (m == nullptr) return nullptr;
  const MountInfo* parent = FindMountById(table, m->parent_id);
  return parent == m ? nullptr : parent;
}

// pivot_root(2) said EINVAL: find which precondition failed. Runs on the
// pivot worker, whose cwd is new_root. The order follows the kernel's checks
// (fs/namespace.c, SYSCALL_DEFINE2(pivot_root)).
std::string DiagnosePivotRoot(const PivotRootPlan& p) {
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return "";
  absl::StatusOr<MountTable> read = ReadMountInfo();
  std::vector<MountInfo> table;
  if (read.ok()) table = read->ToMountInfos();
  char put_old_real[PATH_MAX];
  bool have_put_old = ::realpath(p.put_old.c_str(), put_old_real) != nullptr;
  const MountInfo* root = FindMountInTable(table, "/");
  if (read.ok()) {
    const MountInfo* put_old_mnt =
        have_put_old ? FindMountInTable(table, put_old_real) : nullptr;
    const MountInfo* new_mnt = FindMountInTable(table, cwd);
    const MountInfo* new_parent = ParentOf(table, new_mnt);
    const MountInfo* root_parent = ParentOf(table, root);
    if (put_old_mnt != nullptr && put_old_mnt->shared) {
      return absl::StrCat("the mount holding put_old (", put_old_mnt->target,
                          ") is shared; make it private first");
    }
    if (new_parent != nullptr && new_parent->shared) {
      return absl::StrCat("the parent mount of new_root (", new_parent->target,
                          ") is shared; make it private first");
    }
    if (root_parent != nullptr && root_parent->shared) {
      return "the parent mount of the current root is shared";
    }
  }
  if (IsMountRoot("/") == std::optional<bool>(false)) {
    return "the current root is not a mount point (after chroot(2)?)";
  }
  if (root != nullptr && root->parent_id == root->id) {
    return "the current root is the namespace's first mount (rootfs); "
           "pivot_root cannot move it (switch_root(8) uses MS_MOVE and "
           "chroot instead)";
  }
  if (IsMountRoot(".") == std::optional<bool>(false)) {
    return "new_root is not a mount point (bind-mount it onto itself first)";
  }
  if (have_put_old && !IsUnder(put_old_real, cwd)) {
    return "put_old is not at or under new_root";
  }
  if (absl::string_view(cwd) == "/") {
    return "new_root is the current root (its mount may be locked: one "
           "inherited from a more privileged mount namespace cannot be "
           "pivoted away)";
  }
  return "new_root may be a locked mount, or not under the current root "
         "(pivot_root(2))";
}

}  // namespace

// pivot_root(".", put_old) after chdir(new_root) is the nsjail / runc idiom;
// put_old, if relative, is thus relative to new_root.
absl::Status ExecPivotRoot(const Plan& plan, const PivotRootPlan& p) {
  if (::chdir(p.new_root.c_str()) != 0) {
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kChdir, err,
                     absl::StrCat("chdir(", Quote(p.new_root), ")"));
  }
  if (sys::PivotRoot(".", p.put_old.c_str()) != 0) {
    int err = errno;
    std::string hint;
    if (err == EINVAL) {
      hint = DiagnosePivotRoot(p);
    } else if (err == EBUSY) {
      hint = "new_root or put_old is the current root mount";
    } else if (err == ENOTDIR) {
      hint = "new_root or put_old is not a directory";
    }
    return CallError(plan, PrimaryCall(plan), Stage::kPivotRoot, err, hint);
  }
  // pivot_root(2) moved this thread's root and cwd to new_root; be explicit.
  if (::chdir("/") != 0) {
    int err = errno;
    return CallError(plan, PrimaryCall(plan), Stage::kChdir, err,
                     "chdir(\"/\")");
  }
  return absl::OkStatus();
}

}  // namespace linx::mount_internal
