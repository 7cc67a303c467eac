#include "mount/internal/umount_walk.h"

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mount/umount_tree.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"

namespace linx {
namespace {

std::function<void(int)>& PassHook() {
  static auto* hook = new std::function<void(int)>();
  return *hook;
}

bool IsStale(const absl::Status& s) {
  std::optional<OpError> e = GetOpError(s);
  return e && e->stage == Stage::kUmount &&
         (e->errno_value == EINVAL || e->errno_value == ENOENT);
}

bool IsBusy(const absl::Status& s) {
  std::optional<OpError> e = GetOpError(s);
  return e && e->stage == Stage::kUmount && e->errno_value == EBUSY;
}

// EBUSY because something was mounted below `m` after the table was read
// (not an open file or a cwd): the next pass takes the newcomer first.
bool GainedChildren(const MountInfo& m) {
  absl::StatusOr<MountTable> t = ReadMountInfo();
  if (!t.ok()) return false;
  for (const MountEntry& e : *t) {
    if (e.parent_id == m.id && e.id != m.id) return true;
  }
  return false;
}

}  // namespace

void SetUmountTreePassHookForTesting(std::function<void(int)> hook) {
  PassHook() = std::move(hook);
}

namespace mount_internal {

absl::Status UmountTreeHere(
    const Plan& plan, const UmountPlan& p,
    absl::FunctionRef<absl::Status(const Plan&)> umount_one) {
  auto one = [&](const std::string& target) {
    Plan single = plan;
    single.call = UmountPlan{target, p.flags, false};
    return umount_one(single);
  };
  char buf[PATH_MAX];
  if (::realpath(p.target.c_str(), buf) == nullptr) {
    return one(p.target);  // its exact error (ENOENT, ...)
  }
  const std::string canon = buf;
  const std::string prefix = absl::StrCat("umount -R ", p.target, ": ");
  std::optional<int32_t> root_id;
  absl::Status last_stale;
  for (int pass = 1; pass <= kUmountTreeMaxPasses; ++pass) {
    ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
    std::vector<MountInfo> table = t.ToMountInfos();
    const MountInfo* root = nullptr;
    if (!root_id) {
      root = FindMountInTable(table, canon);
      if (root == nullptr || root->target != canon) {
        return one(p.target);  // EINVAL: not a mount point
      }
      root_id = root->id;
    } else {
      root = FindMountById(table, *root_id);
      if (root == nullptr) return absl::OkStatus();
    }
    // Pre-order (parents first, siblings in table order), reversed.
    std::vector<const MountInfo*> order = DescendantsOf(table, root->id);
    std::reverse(order.begin(), order.end());
    order.push_back(root);
    if (PassHook()) PassHook()(pass);
    for (const MountInfo* m : order) {
      absl::Status s = one(m->target);
      if (s.ok()) continue;
      if (IsStale(s) || (IsBusy(s) && GainedChildren(*m))) {
        last_stale = PrefixStatus(s, prefix);
        continue;
      }
      return PrefixStatus(s, prefix);
    }
  }
  // Did the last pass finish the job?
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
  std::vector<MountInfo> table = t.ToMountInfos();
  if (FindMountById(table, *root_id) == nullptr) return absl::OkStatus();
  if (!last_stale.ok()) {
    return PrefixStatus(
        last_stale,
        absl::StrCat("gave up after ", kUmountTreeMaxPasses, " passes: "));
  }
  return MakeOpError(
      {"umount", Stage::kUmount, EAGAIN, p.target},
      absl::StrCat(prefix, "the tree kept changing; still mounted after ",
                   kUmountTreeMaxPasses,
                   " passes: ", ErrnoDescription(EAGAIN)));
}

}  // namespace mount_internal
}  // namespace linx
