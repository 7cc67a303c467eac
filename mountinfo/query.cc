#include "mountinfo/query.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/statmount.h"

namespace linx {
namespace {

absl::Status QueryError(absl::string_view op, Stage stage, int err,
                        absl::string_view path, absl::string_view what) {
  OpError e;
  e.operation = std::string(op);
  e.stage = stage;
  e.errno_value = err;
  e.value = std::string(path);
  std::string msg = absl::StrCat(op, "(\"", path, "\"): ", what);
  if (err != 0) absl::StrAppend(&msg, ": ", ErrnoDescription(err));
  return MakeOpError(e, msg);
}

absl::Status CheckPath(absl::string_view op, absl::string_view path) {
  if (path.empty()) {
    return QueryError(op, Stage::kBadArgument, 0, path, "path is empty");
  }
  if (path.find('\0') != absl::string_view::npos) {
    return QueryError(op, Stage::kBadArgument, 0, path, "path holds NUL");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RealPath(absl::string_view op,
                                     const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) {
    int err = errno;
    return QueryError(op, Stage::kRead, err, path, "realpath");
  }
  return std::string(buf);
}

// `target` covers `path`: equal, or a prefix ending at a '/' boundary.
bool Covers(absl::string_view target, absl::string_view path) {
  if (!absl::StartsWith(path, target)) return false;
  if (path.size() == target.size()) return true;
  if (!target.empty() && target.back() == '/') return true;  // "/"
  return path[target.size()] == '/';
}

using ChildIndex = absl::flat_hash_map<int32_t, std::vector<size_t>>;

ChildIndex IndexChildren(absl::Span<const MountInfo> table) {
  ChildIndex idx;
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].parent_id != table[i].id) {
      idx[table[i].parent_id].push_back(i);
    }
  }
  return idx;
}

absl::StatusOr<MountInfo> FindByText(const std::string& path) {
  constexpr char kOp[] = "find_mount";
  if (KernelHas(KernelFeature::kStatxMountId)) {
    uint64_t id = 0;
    unsigned got = 0;
    if (kabi::StatxMountId(path.c_str(), 0, kabi::kStatxMntId, &id, &got,
                           nullptr, nullptr) != 0) {
      int err = errno;
      return QueryError(kOp, Stage::kRead, err, path, "statx");
    }
    if (got & kabi::kStatxMntId) {
      ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
      for (const MountEntry& e : t) {
        if (e.id == static_cast<int32_t>(id)) return MountInfo(e);
      }
      return QueryError(kOp, Stage::kRead, ENOENT, path,
                        absl::StrCat("mount ", id, " is gone"));
    }
  }
  ASSIGN_OR_RETURN(std::string real, RealPath(kOp, path));
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfo());
  std::vector<MountInfo> table = t.ToMountInfos();
  const MountInfo* m = FindMountInTable(table, real);
  if (m == nullptr) {
    return QueryError(kOp, Stage::kRead, ENOENT, path,
                      "no mount covers the resolved path (outside root?)");
  }
  return *m;
}

}  // namespace

absl::StatusOr<MountInfo> FindMount(absl::string_view path_in,
                                    const FindOptions& options) {
  constexpr char kOp[] = "find_mount";
  RETURN_IF_ERROR(CheckPath(kOp, path_in));
  std::string path(path_in);
  bool fast = KernelHas(KernelFeature::kStatxMountIdUnique) &&
              KernelHas(KernelFeature::kStatmount);
  if (options.backend == ListBackend::kStatmount && !fast) {
    return QueryError(kOp, Stage::kRead, ENOSYS, path,
                      "statx STATX_MNT_ID_UNIQUE + statmount (Linux 6.13+)");
  }
  if (options.backend == ListBackend::kText || !fast) return FindByText(path);
  uint64_t id = 0;
  unsigned got = 0;
  if (kabi::StatxMountId(path.c_str(), 0, kabi::kStatxMntIdUnique, &id, &got,
                         nullptr, nullptr) != 0) {
    int err = errno;
    return QueryError(kOp, Stage::kRead, err, path, "statx");
  }
  if (!(got & kabi::kStatxMntIdUnique)) return FindByText(path);
  absl::StatusOr<StatmountEntry> e = StatMount(id);
  if (!e.ok()) return PrefixStatus(e.status(), absl::StrCat(kOp, ": "));
  return std::move(e->info);
}

absl::StatusOr<bool> IsMountPoint(absl::string_view path_in,
                                  const FindOptions& options) {
  constexpr char kOp[] = "is_mount_point";
  RETURN_IF_ERROR(CheckPath(kOp, path_in));
  std::string path(path_in);
  if (options.backend != ListBackend::kText &&
      KernelHas(KernelFeature::kStatxMountId)) {
    uint64_t id = 0, attrs = 0, attrs_mask = 0;
    unsigned got = 0;
    if (kabi::StatxMountId(path.c_str(), 0, kabi::kStatxMntId, &id, &got,
                           &attrs, &attrs_mask) != 0) {
      int err = errno;
      return QueryError(kOp, Stage::kRead, err, path, "statx");
    }
    if (attrs_mask & kabi::kStatxAttrMountRoot) {
      return (attrs & kabi::kStatxAttrMountRoot) != 0;
    }
  }
  ASSIGN_OR_RETURN(std::string real, RealPath(kOp, path));
  FindOptions text;
  text.backend = ListBackend::kText;
  absl::StatusOr<MountInfo> m = FindMount(real, text);
  if (!m.ok()) return PrefixStatus(m.status(), absl::StrCat(kOp, ": "));
  return m->target == real;
}

const MountInfo* FindMountById(absl::Span<const MountInfo> table, int32_t id) {
  for (const MountInfo& m : table) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const MountInfo* FindMountInTable(absl::Span<const MountInfo> table,
                                  absl::string_view path) {
  if (path.empty() || path[0] != '/') return nullptr;
  ChildIndex idx = IndexChildren(table);
  absl::flat_hash_map<int32_t, size_t> by_id;
  for (size_t i = 0; i < table.size(); ++i) by_id.emplace(table[i].id, i);
  // The walk starts at the namespace root: a "/" mount whose parent is not
  // listed (or is itself).
  const MountInfo* cur = nullptr;
  for (const MountInfo& m : table) {
    bool orphan = m.parent_id == m.id || !by_id.contains(m.parent_id);
    if (orphan && m.target == "/") {
      cur = &m;
      break;
    }
  }
  if (cur == nullptr) {
    // No proper root (a partial table): plain longest match, last wins.
    for (const MountInfo& m : table) {
      if (Covers(m.target, path) &&
          (cur == nullptr || m.target.size() >= cur->target.size())) {
        cur = &m;
      }
    }
    return cur;
  }
  // Walk down like the kernel's path walk: from the current mount, the
  // first mount point crossed is the child with the shortest covering
  // target; a mount stacked on it is its child at the same target.
  for (;;) {
    auto it = idx.find(cur->id);
    if (it == idx.end()) return cur;
    const MountInfo* next = nullptr;
    for (size_t i : it->second) {
      const MountInfo& c = table[i];
      if (!Covers(c.target, path)) continue;
      if (next == nullptr || c.target.size() < next->target.size() ||
          (c.target.size() == next->target.size())) {
        next = &c;  // equal targets: the later one is on top
      }
    }
    if (next == nullptr) return cur;
    cur = next;
  }
}

std::vector<const MountInfo*> ChildrenOf(absl::Span<const MountInfo> table,
                                         int32_t id) {
  std::vector<const MountInfo*> out;
  for (const MountInfo& m : table) {
    if (m.parent_id == id && m.id != id) out.push_back(&m);
  }
  return out;
}

std::vector<const MountInfo*> DescendantsOf(absl::Span<const MountInfo> table,
                                            int32_t id) {
  ChildIndex idx = IndexChildren(table);
  std::vector<const MountInfo*> out;
  std::vector<std::pair<int32_t, size_t>> stack;  // (mount, next child)
  absl::flat_hash_map<int32_t, bool> seen;        // guards ID cycles
  seen[id] = true;
  stack.emplace_back(id, 0);
  while (!stack.empty()) {
    auto& [mid, next] = stack.back();
    auto it = idx.find(mid);
    if (it == idx.end() || next >= it->second.size()) {
      stack.pop_back();
      continue;
    }
    const MountInfo& c = table[it->second[next++]];
    if (seen[c.id]) continue;
    seen[c.id] = true;
    out.push_back(&c);
    stack.emplace_back(c.id, 0);
  }
  return out;
}

std::vector<const MountInfo*> PeerGroupMembers(
    absl::Span<const MountInfo> table, uint32_t group) {
  std::vector<const MountInfo*> out;
  for (const MountInfo& m : table) {
    if (m.shared && *m.shared == group) out.push_back(&m);
  }
  return out;
}

std::vector<const MountInfo*> PeersOf(absl::Span<const MountInfo> table,
                                      int32_t id) {
  std::vector<const MountInfo*> out;
  const MountInfo* self = FindMountById(table, id);
  if (self == nullptr || !self->shared) return out;
  for (const MountInfo* m : PeerGroupMembers(table, *self->shared)) {
    if (m->id != id) out.push_back(m);
  }
  return out;
}

std::vector<const MountInfo*> MastersOf(absl::Span<const MountInfo> table,
                                        int32_t id) {
  const MountInfo* self = FindMountById(table, id);
  if (self == nullptr || !self->master) return {};
  return PeerGroupMembers(table, *self->master);
}

std::vector<const MountInfo*> SlavesOf(absl::Span<const MountInfo> table,
                                       int32_t id) {
  std::vector<const MountInfo*> out;
  const MountInfo* self = FindMountById(table, id);
  if (self == nullptr || !self->shared) return out;
  for (const MountInfo& m : table) {
    if (m.master && *m.master == *self->shared) out.push_back(&m);
  }
  return out;
}

}  // namespace linx
