// The state behind a LiveMountTable and the helpers of its two halves:
// live_table.cc (Open, Refresh, Wait) and live_table_state.cc (reading the
// kernel: events, listings, sweeps). Private to mountinfo/.
#ifndef LINX_MOUNTINFO_INTERNAL_LIVE_TABLE_STATE_H_
#define LINX_MOUNTINFO_INTERNAL_LIVE_TABLE_STATE_H_

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/live_table.h"
#include "mountinfo/statmount.h"

namespace linx {
namespace live_internal {

inline absl::Status LiveError(Stage stage, int err, const std::string& what) {
  OpError e;
  e.operation = "live_table";
  e.stage = stage;
  e.errno_value = err;
  e.value = what;
  return MakeOpError(
      e, absl::StrCat("live_table: ", what, ": ", ErrnoDescription(err)));
}

// The numbers the sweep compares: everything statmount(2) reports without
// strings that a MountInfo is built from, and the parent (a move).
struct Numeric {
  uint64_t attr = 0;
  uint64_t propagation = 0;
  uint64_t peer_group = 0;
  uint64_t master = 0;
  uint32_t sb_flags = 0;
  uint64_t parent = 0;
  bool operator==(const Numeric& o) const {
    return attr == o.attr && propagation == o.propagation &&
           peer_group == o.peer_group && master == o.master &&
           sb_flags == o.sb_flags && parent == o.parent;
  }
  bool operator!=(const Numeric& o) const { return !(*this == o); }
};

inline Numeric NumericOf(const kabi::Statmount* sm) {
  Numeric n;
  n.attr = sm->mnt_attr;
  n.propagation = sm->mnt_propagation;
  n.peer_group = sm->mnt_peer_group;
  n.master = sm->mnt_master;
  n.sb_flags = sm->sb_flags;
  n.parent = sm->mnt_parent_id;
  return n;
}

inline uint64_t DevOf(const MountInfo& m) {
  return (static_cast<uint64_t>(m.major) << 32) | m.minor;
}

// What a superblock looks like to the sweep: its flags and its options.
struct SbState {
  uint32_t flags = 0;
  std::string opts;
  bool operator==(const SbState& o) const {
    return flags == o.flags && opts == o.opts;
  }
};

// One statmount(2) of mount `id` (in namespace `ns_id`, 0: the calling
// thread's) with `mask` into `*buf`, grown on EOVERFLOW: 0, ENOENT (gone),
// or another errno. `*buf` is the caller's, so threads can call it at once.
inline int StatmountInto(uint64_t id, uint64_t ns_id, uint64_t mask,
                         std::vector<uint64_t>* buf) {
  if (buf->size() < 1024) buf->resize(1024);
  kabi::MntIdReq req;
  req.size = ns_id != 0 ? kabi::kMntIdReqSizeVer1 : kabi::kMntIdReqSizeVer0;
  req.mnt_id = id;
  req.param = mask;
  req.mnt_ns_id = ns_id;
  for (;;) {
    auto* sm = reinterpret_cast<kabi::Statmount*>(buf->data());
    if (kabi::SysStatmount(&req, sm, buf->size() * sizeof(uint64_t), 0) == 0) {
      return 0;
    }
    int err = errno;
    if (err != EOVERFLOW || buf->size() >= (size_t{1} << 24)) return err;
    buf->resize(buf->size() * 2);
  }
}

struct Rec {
  MountInfo info;
  Numeric num;
  SbState sb;
};

// The superblock part of a statmount(2) reply in `buf` (asked with
// SB_BASIC | MNT_OPTS).
inline SbState SbOfReply(const std::vector<uint64_t>& buf) {
  const auto* sm = reinterpret_cast<const kabi::Statmount*>(buf.data());
  SbState s;
  s.flags = sm->sb_flags;
  if ((sm->mask & kabi::kStatmountMntOpts) &&
      sm->mnt_opts < buf.size() * sizeof(uint64_t) - sizeof(*sm)) {
    const char* p =
        reinterpret_cast<const char*>(sm) + sizeof(*sm) + sm->mnt_opts;
    size_t room = buf.size() * sizeof(uint64_t) - sizeof(*sm) - sm->mnt_opts;
    s.opts.assign(p, strnlen(p, room));
  }
  return s;
}

// Reads mount `id` (namespace `ns_id`, 0: the calling thread's) in full
// with the reply buffer `*buf`: nullopt when it is gone. Threads may call
// it at once, each with its own buffer.
inline absl::StatusOr<std::optional<Rec>> FetchInto(
    uint64_t id, uint64_t ns_id, bool with_propagate_from,
    std::vector<uint64_t>* buf) {
  uint64_t mask = kabi::kStatmountMountInfoMask;
  if (with_propagate_from) mask |= kabi::kStatmountPropagateFrom;
  int err = StatmountInto(id, ns_id, mask, buf);
  if (err == ENOENT) return std::optional<Rec>();
  if (err != 0) {
    return LiveError(Stage::kRead, err, absl::StrCat("statmount ", id));
  }
  absl::StatusOr<StatmountEntry> e = ParseStatmount(
      absl::string_view(reinterpret_cast<const char*>(buf->data()),
                        buf->size() * sizeof(uint64_t)));
  if (!e.ok()) {
    return LiveError(
        Stage::kRead, EBADMSG,
        absl::StrCat("statmount ", id, ": ", e.status().message()));
  }
  Rec r;
  r.info = std::move(e->info);
  r.num = NumericOf(reinterpret_cast<const kabi::Statmount*>(buf->data()));
  r.sb = SbOfReply(*buf);
  return std::optional<Rec>(std::move(r));
}

}  // namespace live_internal

using live_internal::DevOf;
using live_internal::FetchInto;
using live_internal::LiveError;
using live_internal::NumericOf;
using live_internal::StatmountInto;

struct LiveMountTable::State {
  using Rec = live_internal::Rec;
  using SbState = live_internal::SbState;
  using Numeric = live_internal::Numeric;
  LiveTableOptions options;
  Mode mode = Mode::kRelist;
  UniqueFd mountinfo;
  UniqueFd fanotify;
  uint64_t ns_id = 0;
  Stats stats;
  absl::Time next_sweep = absl::InfinitePast();
  bool poked = false;        // a poke seen by Wait(), not yet handled
  bool need_relist = false;  // the last Refresh() failed half-way

  // Mode::kEvents: the table by unique ID (the kernel's order).
  std::map<uint64_t, Rec> table;
  // Mode::kRelist: the last listing.
  std::vector<MountInfo> listing;

  // Indexes over `table`, kept by Put/Erase so that one change costs O(1)
  // bookkeeping: how many children each mount has, and the superblock
  // state (flags, options) last read for each device.
  absl::flat_hash_map<uint64_t, uint32_t> children;
  absl::flat_hash_map<uint64_t, SbState> sb_by_dev;

  std::vector<uint64_t> buf;

  // The old records of the mounts the current Refresh() touched (nullopt:
  // the mount was not in the table), for the diff and for undoing.
  std::map<uint64_t, std::optional<Rec>> touched;

  void Unindex(const Rec& r) {
    auto it = children.find(r.num.parent);
    if (it != children.end() && --it->second == 0) children.erase(it);
  }
  void Index(const Rec& r) {
    ++children[r.num.parent];
    sb_by_dev[DevOf(r.info)] = r.sb;
  }
  void RebuildIndexes() {
    children.clear();
    sb_by_dev.clear();
    for (const auto& [id, rec] : table) Index(rec);
  }
  void Put(uint64_t id, Rec rec) {
    auto it = table.find(id);
    if (!touched.count(id)) {
      touched.emplace(id, it == table.end() ? std::nullopt
                                            : std::optional<Rec>(it->second));
    }
    Index(rec);
    if (it == table.end()) {
      table.emplace(id, std::move(rec));
    } else {
      Unindex(it->second);
      it->second = std::move(rec);
    }
  }
  void Erase(uint64_t id) {
    auto it = table.find(id);
    if (it == table.end()) return;
    if (!touched.count(id)) touched.emplace(id, it->second);
    Unindex(it->second);
    table.erase(it);
  }
  void Undo() {
    for (auto& [id, old] : touched) {
      if (old) {
        table[id] = std::move(*old);
      } else {
        table.erase(id);
      }
    }
    touched.clear();
    RebuildIndexes();
  }
  // Whether the touched mounts can change any mount's propagate_from as the
  // full listing computes it: that depends only on the set of peer groups
  // with a member here and on each mount's master, so only a touched mount
  // that is (or was) shared or a slave matters.
  bool TouchedPropagation() const {
    for (const auto& [id, old] : touched) {
      if (old && (old->info.shared || old->info.master)) return true;
      auto it = table.find(id);
      if (it != table.end() &&
          (it->second.info.shared || it->second.info.master)) {
        return true;
      }
    }
    return false;
  }

  // One statmount(2) of `id` into `buf` with `mask`: 0, ENOENT (gone), or
  // another errno.
  int Statmount(uint64_t id, uint64_t mask) {
    return StatmountInto(id, ns_id, mask, &buf);
  }

  const kabi::Statmount* Reply() const {
    return reinterpret_cast<const kabi::Statmount*>(buf.data());
  }
  SbState SbOfReply() const { return live_internal::SbOfReply(buf); }

  // Reads mount `id` in full. nullopt when it is gone.
  absl::StatusOr<std::optional<Rec>> Fetch(uint64_t id,
                                           bool with_propagate_from) {
    ++stats.statmounts;
    return FetchInto(id, ns_id, with_propagate_from, &buf);
  }

  // Re-reads `id` and stores what the kernel says now (erasing it if gone).
  absl::Status Reread(uint64_t id) {
    ASSIGN_OR_RETURN(std::optional<Rec> r, Fetch(id, false));
    if (r) {
      Put(id, std::move(*r));
    } else {
      Erase(id);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::map<uint64_t, Rec>> FullListing();
  absl::Status ApplyEvents(const std::vector<uint64_t>& ids);
  absl::Status Sweep();
  absl::Status FixPropagateFrom();
  bool ReadEvents(std::vector<uint64_t>* ids);
  bool PollPoked();
};

}  // namespace linx

#endif  // LINX_MOUNTINFO_INTERNAL_LIVE_TABLE_STATE_H_
