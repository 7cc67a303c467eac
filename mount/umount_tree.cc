#include "mount/umount_tree.h"

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"
#include "nsexec/nsexec.h"

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

// The whole walk, on the calling thread, in its own namespace.
absl::Status UmountTreeHere(const std::string& target,
                            const UmountOptions& self_opts) {
  char buf[PATH_MAX];
  if (::realpath(target.c_str(), buf) == nullptr) {
    return Umount(target, self_opts);  // its exact error (ENOENT, ...)
  }
  const std::string canon = buf;
  const std::string prefix = absl::StrCat("umount -R ", target, ": ");
  std::optional<int32_t> root_id;
  absl::Status last_stale;
  for (int pass = 1; pass <= kUmountTreeMaxPasses; ++pass) {
    ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
    std::vector<MountInfo> table = t.ToMountInfos();
    const MountInfo* root = nullptr;
    if (!root_id) {
      root = FindMountInTable(table, canon);
      if (root == nullptr || root->target != canon) {
        return Umount(target, self_opts);  // EINVAL: not a mount point
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
      absl::Status s = Umount(m->target, self_opts);
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
  OpError e;
  e.operation = "umount";
  e.stage = Stage::kUmount;
  e.errno_value = EAGAIN;
  e.value = target;
  return MakeOpError(
      e, absl::StrCat(prefix, "the tree kept changing; still mounted after ",
                      kUmountTreeMaxPasses,
                      " passes: ", ErrnoDescription(EAGAIN)));
}

}  // namespace

void SetUmountTreePassHookForTesting(std::function<void(int)> hook) {
  PassHook() = std::move(hook);
}

absl::Status UmountTree(absl::string_view target, const UmountOptions& opts) {
  const bool detach = std::find(opts.flags.begin(), opts.flags.end(),
                                UmountFlag::kDetach) != opts.flags.end();
  // Bad arguments, and a relative path into another namespace, are
  // Umount's to reject (before any syscall); MNT_DETACH takes the whole
  // tree in one call.
  if (detach || target.empty() ||
      target.find('\0') != absl::string_view::npos ||
      (!opts.in.is_self() && target[0] != '/')) {
    return Umount(target, opts);
  }
  UmountOptions self_opts = opts;
  self_opts.in = Namespace::Self();
  self_opts.recursive = false;  // each mount of the tree on its own
  std::string t(target);
  if (opts.in.is_self()) return UmountTreeHere(t, self_opts);
  absl::Status s =
      RunIn(opts.in, "umount", [&] { return UmountTreeHere(t, self_opts); });
  if (!s.ok() && GetOpError(s) && GetOpError(s)->stage != Stage::kUmount) {
    return PrefixStatus(s, absl::StrCat("umount -R ", target, " in ",
                                        opts.in.Describe(), ": "));
  }
  return s;
}

}  // namespace linx
