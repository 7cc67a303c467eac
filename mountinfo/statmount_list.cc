// The statmount back end's listings: listmount(2) for the IDs, then
// statmount(2) of each, spread over worker threads (docs/queries.md,
// "Threads").
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/internal/parallel.h"
#include "mountinfo/internal/statmount_decode.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx {
namespace {

using statmount_internal::InfoOf;
using statmount_internal::StatmountDecoded;
using statmount_internal::StatmountError;
using statmount_internal::Unimplemented;

// One worker's share of a listing: statmount(2) of ids[0, n) into out[0, n).
template <typename Entry>
struct StatmountRange {
  const uint64_t* ids = nullptr;
  size_t n = 0;
  uint64_t ns_id = 0;
  Entry* out = nullptr;  // null: into `local`, made by the thread that fills it
  std::vector<Entry> local;
  char* gone = nullptr;  // gone[i] = 1: unmounted since listmount
  int err = 0;           // first failure, at ids[failed]
  size_t failed = 0;
  std::string problem;  // with err == EBADMSG
};

template <typename Entry>
void StatmountAll(StatmountRange<Entry>* r) {
  if (r->out == nullptr) {
    r->local.resize(r->n);
    r->out = r->local.data();
  }
  std::vector<uint64_t> buf;
  for (size_t i = 0; i < r->n; ++i) {
    int err =
        StatmountDecoded(r->ids[i], r->ns_id, kabi::kStatmountMountInfoMask,
                         &buf, &r->out[i], &r->problem);
    if (err == ENOENT) {
      r->gone[i] = 1;
      continue;
    }
    if (err != 0) {
      r->err = err;
      r->failed = i;
      return;
    }
  }
}

// statmount(2) of every id, spread over ThreadsFor() threads: the calls are
// independent and the kernel's cost per call (~3 µs with the string
// fields) dominates a listing. Workers inherit the caller's mount namespace
// and root (pthread_create shares both), so an id means the same mount to
// each of them. Returns the entries in id order, without the mounts that
// went away (removed from `ids` too, which stays parallel to the result);
// the first failure by id order wins.
template <typename Entry>
absl::StatusOr<std::vector<Entry>> StatmountIds(std::vector<uint64_t>* ids,
                                                uint64_t ns_id,
                                                int max_threads) {
  size_t n = ids->size();
  std::vector<char> gone(n, 0);
  size_t threads = mountinfo_internal::ThreadsFor(n, max_threads);
  std::vector<StatmountRange<Entry>> ranges(threads);
  for (size_t t = 0; t < threads; ++t) {
    size_t begin = n * t / threads, end = n * (t + 1) / threads;
    ranges[t].ids = ids->data() + begin;
    ranges[t].n = end - begin;
    ranges[t].ns_id = ns_id;
    ranges[t].gone = gone.data() + begin;
  }
  // The result is made on the calling thread while the workers run
  // (touching a fresh megabyte-sized vector costs page faults); the
  // caller's share goes straight into it, the workers' shares are moved in
  // after.
  std::vector<Entry> out;
  auto share = [&](size_t t) {
    if (t == 0) {
      out.resize(n);
      ranges[0].out = out.data();
    }
    StatmountAll(&ranges[t]);
  };
  mountinfo_internal::RunOnThreads(threads, share);
  for (const StatmountRange<Entry>& r : ranges) {
    if (r.err != 0) return StatmountError(r.err, r.ids[r.failed], r.problem);
  }
  // Gather in ID order, leaving out the mounts that went away.
  size_t kept = 0;
  for (StatmountRange<Entry>& r : ranges) {
    for (size_t i = 0; i < r.n; ++i) {
      if (r.gone[i]) continue;
      if (&out[kept] != &r.out[i]) out[kept] = std::move(r.out[i]);
      (*ids)[kept] = r.ids[i];
      ++kept;
    }
  }
  out.resize(kept);
  ids->resize(kept);
  return out;
}

// Adds propagate_from where it can differ from what the listing has (see
// the header): slaves whose master group has no member in this namespace,
// when some other group does. `ids` is parallel to `out`.
template <typename Entry>
absl::Status AddPropagateFrom(std::vector<Entry>* out,
                              const std::vector<uint64_t>& ids, uint64_t ns_id,
                              pid_t pid) {
  absl::flat_hash_set<uint32_t> groups_here;
  for (Entry& e : *out) {
    if (InfoOf(e).shared) groups_here.insert(*InfoOf(e).shared);
  }
  if (groups_here.empty()) return absl::OkStatus();
  std::vector<size_t> need;
  for (size_t i = 0; i < out->size(); ++i) {
    const MountInfo& m = InfoOf((*out)[i]);
    if (m.master && !groups_here.contains(*m.master)) need.push_back(i);
  }
  if (need.empty()) return absl::OkStatus();
  if (ns_id != 0) {
    // statmount(2) computes propagate_from against the CALLER's root
    // (get_dominating_id(m, current->fs->root)), which for another
    // namespace reaches none of its mounts, so the kernel answers 0. The
    // text file computes it against the target's root: take those few
    // fields from there.
    ASSIGN_OR_RETURN(MountTable t, ReadMountInfoOfPid(pid));
    absl::flat_hash_map<int32_t, const MountEntry*> by_id;
    for (const MountEntry& m : t) by_id.emplace(m.id, &m);
    for (size_t i : need) {
      MountInfo& m = InfoOf((*out)[i]);
      auto it = by_id.find(m.id);
      if (it == by_id.end() || !it->second->propagate_from) continue;
      m.propagate_from = it->second->propagate_from;
      m.optional_fields.push_back(
          absl::StrCat("propagate_from:", *m.propagate_from));
      if (m.unbindable) {  // keep show_mountinfo()'s tag order
        std::swap(m.optional_fields[m.optional_fields.size() - 1],
                  m.optional_fields[m.optional_fields.size() - 2]);
      }
    }
    return absl::OkStatus();
  }
  std::vector<uint64_t> buf;
  std::string problem;
  for (size_t i : need) {
    Entry fresh;
    int err = StatmountDecoded(
        ids[i], ns_id,
        kabi::kStatmountMountInfoMask | kabi::kStatmountPropagateFrom, &buf,
        &fresh, &problem);
    if (err == ENOENT) continue;
    if (err != 0) return StatmountError(err, ids[i], problem);
    (*out)[i] = std::move(fresh);
  }
  return absl::OkStatus();
}

absl::Status CheckMaxThreads(int max_threads) {
  if (max_threads >= 0) return absl::OkStatus();
  OpError e;
  e.operation = "list";
  e.stage = Stage::kBadArgument;
  e.value = absl::StrCat(max_threads);
  return MakeOpError(
      e, absl::StrCat("list: max_threads is negative (", max_threads, ")"));
}

// The namespace ID ListOptions::pid names (0 for the caller's).
absl::StatusOr<uint64_t> NsIdOfPid(pid_t pid) {
  if (pid == 0) return uint64_t{0};
  if (!KernelHas(KernelFeature::kMountNamespaceId)) {
    return Unimplemented("mnt_ns_id");
  }
  return MountNamespaceId(pid);
}

// The whole listing of process `pid`'s namespace (0: the caller's) as Entry
// values (MountInfo, or StatmountEntry with the 64-bit IDs).
template <typename Entry>
absl::StatusOr<std::vector<Entry>> ListEntries(pid_t pid, int max_threads) {
  if (!KernelHas(KernelFeature::kStatmount)) return Unimplemented("listmount");
  ASSIGN_OR_RETURN(uint64_t ns_id, NsIdOfPid(pid));
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids,
                   ListMountIds(ns_id, kListmountRoot));
  ASSIGN_OR_RETURN(std::vector<Entry> out,
                   StatmountIds<Entry>(&ids, ns_id, max_threads));
  RETURN_IF_ERROR(AddPropagateFrom(&out, ids, ns_id, pid));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<StatmountEntry>> ListStatmountEntries(
    pid_t pid, int max_threads) {
  RETURN_IF_ERROR(CheckMaxThreads(max_threads));
  return ListEntries<StatmountEntry>(pid, max_threads);
}

absl::StatusOr<std::vector<MountInfo>> ListMounts(const ListOptions& options) {
  RETURN_IF_ERROR(CheckMaxThreads(options.max_threads));
  ListBackend b = ResolveListBackend(options);
  if (b == ListBackend::kStatmount) {
    absl::StatusOr<std::vector<MountInfo>> entries =
        ListEntries<MountInfo>(options.pid, options.max_threads);
    if (entries.ok()) return entries;
    // kAuto: another namespace we may not list (EPERM) is still readable
    // as text with ptrace access.
    std::optional<OpError> e = GetOpError(entries.status());
    bool fallback = options.backend == ListBackend::kAuto && e &&
                    (e->errno_value == EPERM || e->errno_value == ENOSYS);
    if (!fallback) return entries.status();
  }
  absl::StatusOr<MountTable> t =
      options.pid == 0 ? ReadMountInfo() : ReadMountInfoOfPid(options.pid);
  if (!t.ok()) return t.status();
  return t->ToMountInfos();
}

}  // namespace linx
