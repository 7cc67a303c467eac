// LiveMountTable::State: reading the kernel (fanotify events, listings,
// numeric sweeps) for mountinfo/live_table.cc.
#include "mountinfo/internal/live_table_state.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/internal/parallel.h"
#include "mountinfo/live_table.h"
#include "mountinfo/statmount.h"

namespace linx {

using live_internal::Numeric;
using live_internal::Rec;
using live_internal::SbState;

// Drains the fanotify group. Returns false on overflow or an unreadable
// queue (the caller re-lists).
bool LiveMountTable::State::ReadEvents(std::vector<uint64_t>* ids) {
  alignas(8) char ev[8192];
  bool ok = true;
  for (;;) {
    ssize_t n =
        RetryOnEintr([&] { return ::read(fanotify.get(), ev, sizeof ev); });
    if (n < 0) {
      if (errno == EAGAIN) return ok;
      return false;
    }
    if (n == 0) return ok;
    size_t off = 0;
    while (off + sizeof(fanotify_event_metadata) <= static_cast<size_t>(n)) {
      fanotify_event_metadata meta;
      std::memcpy(&meta, ev + off, sizeof meta);
      if (meta.event_len < sizeof(meta) || meta.metadata_len < sizeof(meta) ||
          off + meta.event_len > static_cast<size_t>(n)) {
        return false;
      }
      if (meta.mask & FAN_Q_OVERFLOW) {
        ++stats.overflows;
        ok = false;
      } else if (meta.mask & (kabi::kFanMntAttach | kabi::kFanMntDetach)) {
        ++stats.events;
        bool found = false;
        size_t info = off + meta.metadata_len;
        while (info + 4 <= off + meta.event_len) {
          uint8_t type = static_cast<uint8_t>(ev[info]);
          uint16_t len;
          std::memcpy(&len, ev + info + 2, sizeof len);
          if (len < 4 || info + len > off + meta.event_len) break;
          if (type == kabi::kFanEventInfoTypeMnt &&
              len >= kabi::kFanInfoMntIdOffset + sizeof(uint64_t)) {
            uint64_t id;
            std::memcpy(&id, ev + info + kabi::kFanInfoMntIdOffset, sizeof id);
            ids->push_back(id);
            found = true;
          }
          info += len;
        }
        if (!found) ok = false;
      }
      off += meta.event_len;
    }
  }
}

bool LiveMountTable::State::PollPoked() {
  if (!mountinfo.valid()) return true;  // nothing to poll: assume a change
  // Each poll(2) of a mountinfo file reports POLLPRI once per change of the
  // namespace's event counter since the previous poll of this open file
  // (fs/proc_namespace.c mounts_poll), so it is a level we consume.
  struct pollfd p = {mountinfo.get(), POLLPRI, 0};
  int r = RetryOnEintr([&] { return ::poll(&p, 1, 0); });
  bool now = r > 0 && (p.revents & (POLLPRI | POLLERR));
  bool was = poked;
  poked = false;
  return now || was;
}

absl::StatusOr<std::map<uint64_t, Rec>> LiveMountTable::State::FullListing() {
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, ListMountIds(ns_id));
  size_t n = ids.size();
  std::vector<absl::StatusOr<std::optional<Rec>>> recs(n);
  size_t threads = mountinfo_internal::ThreadsFor(n, options.max_threads);
  auto share = [&](size_t t) {
    std::vector<uint64_t> reply;
    for (size_t i = n * t / threads, e = n * (t + 1) / threads; i < e; ++i) {
      recs[i] = FetchInto(ids[i], ns_id, false, &reply);
      if (!recs[i].ok()) return;
    }
  };
  mountinfo_internal::RunOnThreads(threads, share);
  stats.statmounts += n;
  std::map<uint64_t, Rec> out;
  for (size_t i = 0; i < n; ++i) {
    // A share stops at its first failure; the first by ID order wins.
    if (!recs[i].ok()) return recs[i].status();
    if (*recs[i]) out.emplace_hint(out.end(), ids[i], std::move(**recs[i]));
  }
  return out;
}

absl::Status LiveMountTable::State::ApplyEvents(
    const std::vector<uint64_t>& ids) {
  std::vector<uint64_t> roots;  // moved mounts, removed mounts with children
  absl::flat_hash_set<uint64_t> removed_groups;
  absl::flat_hash_set<uint64_t> done;
  absl::flat_hash_set<uint64_t> remounted_devs;
  for (uint64_t id : ids) {
    if (!done.insert(id).second) continue;
    auto old = table.find(id);
    ASSIGN_OR_RETURN(std::optional<Rec> r, Fetch(id, false));
    if (!r) {
      if (old != table.end()) {
        if (old->second.num.peer_group != 0) {
          removed_groups.insert(old->second.num.peer_group);
        }
        Erase(id);
        if (children.contains(id)) roots.push_back(id);
      }
      continue;
    }
    if (old != table.end() && (old->second.num.parent != r->num.parent ||
                               old->second.info.target != r->info.target)) {
      roots.push_back(id);
    }
    // A superblock whose options or flags differ from what was last read
    // for its device was remounted: all its mounts are re-read below.
    auto sb = sb_by_dev.find(DevOf(r->info));
    if (sb != sb_by_dev.end() && !(sb->second == r->sb)) {
      remounted_devs.insert(sb->first);
    }
    Put(id, std::move(*r));
  }
  std::vector<uint64_t> reread;
  // Slaves of a peer group that lost a member may have a new master; a
  // moved mount's descendants moved with it (their mount points changed
  // without an event of their own); children of a removed mount may have
  // gone too. Each needs one pass over the table, and only then.
  if (!remounted_devs.empty() || !removed_groups.empty()) {
    for (const auto& [id, rec] : table) {
      if (done.contains(id)) continue;
      if (remounted_devs.contains(DevOf(rec.info)) ||
          (rec.num.master != 0 && removed_groups.contains(rec.num.master))) {
        reread.push_back(id);
      }
    }
  }
  if (!roots.empty()) {
    absl::flat_hash_map<uint64_t, std::vector<uint64_t>> kids;
    for (const auto& [id, rec] : table) kids[rec.num.parent].push_back(id);
    std::vector<uint64_t> stack = roots;
    absl::flat_hash_set<uint64_t> seen;
    while (!stack.empty()) {
      uint64_t p = stack.back();
      stack.pop_back();
      auto it = kids.find(p);
      if (it == kids.end()) continue;
      for (uint64_t c : it->second) {
        if (!seen.insert(c).second) continue;
        reread.push_back(c);
        stack.push_back(c);
      }
    }
  }
  std::sort(reread.begin(), reread.end());
  reread.erase(std::unique(reread.begin(), reread.end()), reread.end());
  for (uint64_t id : reread) {
    if (done.contains(id)) continue;
    RETURN_IF_ERROR(Reread(id));
  }
  return absl::OkStatus();
}

absl::Status LiveMountTable::State::Sweep() {
  ++stats.sweeps;
  constexpr uint64_t kNumericMask =
      kabi::kStatmountSbBasic | kabi::kStatmountMntBasic;
  // One numeric statmount(2) per mount, spread over threads (the kernel's
  // cost per call is the whole sweep; mountinfo_internal::RunOnThreads).
  struct Probe {
    Numeric num;
    int err = 0;
  };
  std::vector<uint64_t> ids;
  ids.reserve(table.size());
  for (const auto& [id, rec] : table) ids.push_back(id);
  size_t n = ids.size();
  std::vector<Probe> probes(n);
  size_t threads = mountinfo_internal::ThreadsFor(n, options.max_threads);
  auto share = [&](size_t t) {
    std::vector<uint64_t> reply;
    for (size_t i = n * t / threads, e = n * (t + 1) / threads; i < e; ++i) {
      probes[i].err = StatmountInto(ids[i], ns_id, kNumericMask, &reply);
      if (probes[i].err == 0) {
        probes[i].num =
            NumericOf(reinterpret_cast<const kabi::Statmount*>(reply.data()));
      }
    }
  };
  mountinfo_internal::RunOnThreads(threads, share);

  std::vector<uint64_t> differ;
  std::vector<uint64_t> gone;
  absl::flat_hash_map<uint64_t, bool> sb_differs;  // dev → remounted
  size_t i = 0;
  for (const auto& [id, rec] : table) {
    const Probe& probe = probes[i++];
    if (probe.err == ENOENT) {
      gone.push_back(id);
      continue;
    }
    if (probe.err != 0) {
      return LiveError(Stage::kRead, probe.err, absl::StrCat("statmount ", id));
    }
    if (probe.num != rec.num) {
      differ.push_back(id);
      continue;
    }
    uint64_t dev = DevOf(rec.info);
    auto sb = sb_differs.find(dev);
    if (sb == sb_differs.end()) {
      // One mount per superblock: its options (a remount of the superblock
      // that changes no flag, such as tmpfs size=, shows only here).
      int err =
          Statmount(id, kabi::kStatmountSbBasic | kabi::kStatmountMntOpts);
      if (err == ENOENT) {
        gone.push_back(id);
        continue;
      }
      if (err != 0) {
        return LiveError(Stage::kRead, err, absl::StrCat("statmount ", id));
      }
      sb = sb_differs.emplace(dev, !(SbOfReply() == rec.sb)).first;
    }
    if (sb->second) differ.push_back(id);
  }
  // Mounts of a remounted superblock seen before it was found to differ.
  for (const auto& [id, rec] : table) {
    auto sb = sb_differs.find(DevOf(rec.info));
    if (sb != sb_differs.end() && sb->second) differ.push_back(id);
  }
  std::sort(differ.begin(), differ.end());
  differ.erase(std::unique(differ.begin(), differ.end()), differ.end());
  for (uint64_t id : gone) Erase(id);
  for (uint64_t id : differ) RETURN_IF_ERROR(Reread(id));
  return absl::OkStatus();
}

// The full listing asks for propagate_from only where it can differ from
// the master (statmount.h): a slave whose master group has no member here,
// while some group does. Recomputed after every change, since membership
// decides it.
absl::Status LiveMountTable::State::FixPropagateFrom() {
  absl::flat_hash_set<uint32_t> groups_here;
  for (const auto& [id, rec] : table) {
    if (rec.info.shared) groups_here.insert(*rec.info.shared);
  }
  std::vector<uint64_t> need, clear;
  for (const auto& [id, rec] : table) {
    const MountInfo& m = rec.info;
    bool wants =
        !groups_here.empty() && m.master && !groups_here.contains(*m.master);
    if (wants) {
      need.push_back(id);
    } else if (m.propagate_from) {
      clear.push_back(id);
    }
  }
  for (uint64_t id : clear) RETURN_IF_ERROR(Reread(id));
  if (need.empty()) return absl::OkStatus();
  if (ns_id == 0) {
    for (uint64_t id : need) {
      ASSIGN_OR_RETURN(std::optional<Rec> r, Fetch(id, true));
      if (!r) {
        Erase(id);
        continue;
      }
      auto it = table.find(id);
      if (it != table.end() && it->second.info == r->info) continue;
      Put(id, std::move(*r));
    }
    return absl::OkStatus();
  }
  // Another namespace: statmount computes propagate_from against the
  // caller's root, reaching none of that namespace's mounts (always 0);
  // the text file computes it against the target's root. As ListMounts().
  ASSIGN_OR_RETURN(MountTable t, ReadMountInfoOfPid(options.pid));
  absl::flat_hash_map<int32_t, const MountEntry*> by_id;
  for (const MountEntry& m : t) by_id.emplace(m.id, &m);
  for (uint64_t id : need) {
    auto rit = table.find(id);
    if (rit == table.end()) continue;
    Rec rec = rit->second;
    MountInfo& m = rec.info;
    std::optional<uint32_t> want;
    auto it = by_id.find(m.id);
    if (it != by_id.end()) want = it->second->propagate_from;
    if (want == m.propagate_from) continue;
    m.optional_fields.erase(
        std::remove_if(m.optional_fields.begin(), m.optional_fields.end(),
                       [](const std::string& f) {
                         return f.rfind("propagate_from:", 0) == 0;
                       }),
        m.optional_fields.end());
    m.propagate_from = want;
    if (want) {
      m.optional_fields.push_back(absl::StrCat("propagate_from:", *want));
      if (m.unbindable) {  // keep show_mountinfo()'s tag order
        std::swap(m.optional_fields[m.optional_fields.size() - 1],
                  m.optional_fields[m.optional_fields.size() - 2]);
      }
    }
    Put(id, std::move(rec));
  }
  return absl::OkStatus();
}

LiveMountTable::LiveMountTable(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

LiveMountTable::~LiveMountTable() = default;

}  // namespace linx
