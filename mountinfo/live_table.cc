#include "mountinfo/live_table.h"

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
#include "mountinfo/statmount.h"

namespace linx {
namespace {

absl::Status LiveError(Stage stage, int err, const std::string& what) {
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

Numeric NumericOf(const kabi::Statmount* sm) {
  Numeric n;
  n.attr = sm->mnt_attr;
  n.propagation = sm->mnt_propagation;
  n.peer_group = sm->mnt_peer_group;
  n.master = sm->mnt_master;
  n.sb_flags = sm->sb_flags;
  n.parent = sm->mnt_parent_id;
  return n;
}

uint64_t DevOf(const MountInfo& m) {
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

struct Rec {
  MountInfo info;
  Numeric num;
  SbState sb;
};

}  // namespace

struct LiveMountTable::State {
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
    if (buf.size() < 1024) buf.resize(1024);
    kabi::MntIdReq req;
    req.size = ns_id != 0 ? kabi::kMntIdReqSizeVer1 : kabi::kMntIdReqSizeVer0;
    req.mnt_id = id;
    req.param = mask;
    req.mnt_ns_id = ns_id;
    for (;;) {
      auto* sm = reinterpret_cast<kabi::Statmount*>(buf.data());
      if (kabi::SysStatmount(&req, sm, buf.size() * sizeof(uint64_t), 0) == 0) {
        return 0;
      }
      int err = errno;
      if (err != EOVERFLOW || buf.size() >= (size_t{1} << 24)) return err;
      buf.resize(buf.size() * 2);
    }
  }

  const kabi::Statmount* Reply() const {
    return reinterpret_cast<const kabi::Statmount*>(buf.data());
  }

  // The superblock part of the last reply (mask had SB_BASIC | MNT_OPTS).
  SbState SbOfReply() const {
    const kabi::Statmount* sm = Reply();
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

  // Reads mount `id` in full. nullopt when it is gone.
  absl::StatusOr<std::optional<Rec>> Fetch(uint64_t id,
                                           bool with_propagate_from) {
    uint64_t mask = kabi::kStatmountMountInfoMask;
    if (with_propagate_from) mask |= kabi::kStatmountPropagateFrom;
    ++stats.statmounts;
    int err = Statmount(id, mask);
    if (err == ENOENT) return std::optional<Rec>();
    if (err != 0)
      return LiveError(Stage::kRead, err, absl::StrCat("statmount ", id));
    absl::StatusOr<StatmountEntry> e = ParseStatmount(
        absl::string_view(reinterpret_cast<const char*>(buf.data()),
                          buf.size() * sizeof(uint64_t)));
    if (!e.ok()) {
      return LiveError(
          Stage::kRead, EBADMSG,
          absl::StrCat("statmount ", id, ": ", e.status().message()));
    }
    Rec r;
    r.info = std::move(e->info);
    r.num = NumericOf(Reply());
    r.sb = SbOfReply();
    return std::optional<Rec>(std::move(r));
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
  std::map<uint64_t, Rec> out;
  for (uint64_t id : ids) {
    ASSIGN_OR_RETURN(std::optional<Rec> r, Fetch(id, false));
    if (r) out.emplace_hint(out.end(), id, std::move(*r));
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
  std::vector<uint64_t> differ;
  std::vector<uint64_t> gone;
  absl::flat_hash_map<uint64_t, bool> sb_differs;  // dev → remounted
  for (const auto& [id, rec] : table) {
    int err = Statmount(id, kNumericMask);
    if (err == ENOENT) {
      gone.push_back(id);
      continue;
    }
    if (err != 0) {
      return LiveError(Stage::kRead, err, absl::StrCat("statmount ", id));
    }
    if (NumericOf(Reply()) != rec.num) {
      differ.push_back(id);
      continue;
    }
    uint64_t dev = DevOf(rec.info);
    auto sb = sb_differs.find(dev);
    if (sb == sb_differs.end()) {
      // One mount per superblock: its options (a remount of the superblock
      // that changes no flag, such as tmpfs size=, shows only here).
      err = Statmount(id, kabi::kStatmountSbBasic | kabi::kStatmountMntOpts);
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

absl::StatusOr<std::unique_ptr<LiveMountTable>> LiveMountTable::Open(
    const LiveTableOptions& options) {
  if (options.pid < 0) {
    OpError e;
    e.operation = "live_table";
    e.stage = Stage::kBadArgument;
    e.value = absl::StrCat(options.pid);
    return MakeOpError(e, absl::StrCat("live_table: bad pid ", options.pid));
  }
  auto s = std::make_unique<State>();
  s->options = options;
  std::string dir = options.pid == 0 ? std::string("/proc/thread-self")
                                     : absl::StrCat("/proc/", options.pid);
  std::string path = dir + "/mountinfo";
  s->mountinfo.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!s->mountinfo.valid()) {
    int err = errno;
    return LiveError(Stage::kOpenNs, err, path);
  }
  // Arm the poll: the first poll(2) after open reports the namespace's
  // state as "changed"; consume that before the first listing.
  s->PollPoked();

  bool events =
      options.use_events && KernelHas(KernelFeature::kStatmount) &&
      KernelHas(KernelFeature::kFanotifyMount) &&
      (options.pid == 0 || KernelHas(KernelFeature::kMountNamespaceId));
  if (events && options.pid != 0) {
    absl::StatusOr<uint64_t> id = MountNamespaceId(options.pid);
    if (id.ok()) {
      s->ns_id = *id;
    } else {
      events = false;
    }
  }
  if (events) {
    UniqueFd fan(::fanotify_init(
        kabi::kFanReportMnt | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY));
    std::string ns_path = dir + "/ns/mnt";
    UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    // Marked before the first listing: an event for a mount the listing
    // already has is applied again, harmlessly (statmount reads the state
    // as it is then).
    if (fan.valid() && ns.valid() &&
        ::fanotify_mark(fan.get(), FAN_MARK_ADD | kabi::kFanMarkMntns,
                        kabi::kFanMntAttach | kabi::kFanMntDetach, ns.get(),
                        nullptr) == 0) {
      s->fanotify = std::move(fan);
      s->mode = Mode::kEvents;
    }
  }
  if (s->mode == Mode::kEvents) {
    absl::StatusOr<std::map<uint64_t, Rec>> t = s->FullListing();
    if (t.ok()) {
      s->table = std::move(*t);
      s->RebuildIndexes();
      absl::Status pf = s->FixPropagateFrom();
      s->touched.clear();
      if (pf.ok()) {
        s->next_sweep = absl::Now() + options.sweep_interval;
        s->stats.statmounts = 0;
        return std::unique_ptr<LiveMountTable>(
            new LiveMountTable(std::move(s)));
      }
    }
    // statmount refused (EPERM over another namespace...): re-list instead.
    s->fanotify.reset();
    s->table.clear();
    s->RebuildIndexes();
    s->mode = Mode::kRelist;
  }
  ListOptions lo;
  lo.pid = options.pid;
  ASSIGN_OR_RETURN(s->listing, ListMounts(lo));
  s->next_sweep = absl::Now() + options.sweep_interval;
  return std::unique_ptr<LiveMountTable>(new LiveMountTable(std::move(s)));
}

absl::StatusOr<std::vector<MountChange>> LiveMountTable::Refresh(
    bool force_sweep) {
  State& s = *state_;
  ++s.stats.refreshes;
  absl::Time now = absl::Now();
  bool sweep_due = force_sweep || now >= s.next_sweep;

  if (s.mode == Mode::kRelist) {
    bool poked = s.PollPoked();
    if (!poked && !sweep_due && !s.need_relist)
      return std::vector<MountChange>{};
    ListOptions lo;
    lo.pid = s.options.pid;
    ++s.stats.relists;
    absl::StatusOr<std::vector<MountInfo>> t = ListMounts(lo);
    if (!t.ok()) {
      s.need_relist = true;
      return t.status();
    }
    s.need_relist = false;
    s.next_sweep = now + s.options.sweep_interval;
    std::vector<MountChange> diff = DiffMountTables(s.listing, *t);
    s.listing = std::move(*t);
    return diff;
  }

  std::vector<uint64_t> ids;
  bool events_ok = s.ReadEvents(&ids);
  bool poked = s.PollPoked();
  s.touched.clear();
  absl::Status st;
  if (!events_ok || s.need_relist) {
    // Overflow, or the last Refresh() failed: a full, correct listing.
    ++s.stats.relists;
    absl::StatusOr<std::map<uint64_t, Rec>> t = s.FullListing();
    if (!t.ok()) {
      s.need_relist = true;
      return t.status();
    }
    for (const auto& [id, rec] : s.table) {
      if (!t->count(id)) s.Erase(id);
    }
    for (auto& [id, rec] : *t) {
      auto it = s.table.find(id);
      if (it == s.table.end() || !(it->second.info == rec.info) ||
          it->second.num != rec.num || !(it->second.sb == rec.sb)) {
        s.Put(id, std::move(rec));
      }
    }
    s.next_sweep = now + s.options.sweep_interval;
  } else {
    st = s.ApplyEvents(ids);
    bool sweep = sweep_due ||
                 (poked && (s.options.sweep_policy == SweepPolicy::kOnPoke ||
                            ids.empty()));
    if (st.ok() && sweep) {
      st = s.Sweep();
      s.next_sweep = now + s.options.sweep_interval;
    }
  }
  if (st.ok() && !s.touched.empty() && s.TouchedPropagation()) {
    st = s.FixPropagateFrom();
  }
  if (!st.ok()) {
    s.Undo();
    s.need_relist = true;
    return st;
  }
  s.need_relist = false;

  std::vector<MountChange> diff;
  for (auto& [id, old] : s.touched) {
    if (old && !s.table.count(id)) {
      MountChange c;
      c.kind = MountChange::Kind::kRemoved;
      c.before = std::move(old->info);
      diff.push_back(std::move(c));
    }
  }
  for (auto& [id, old] : s.touched) {
    auto it = s.table.find(id);
    if (it == s.table.end()) continue;
    if (!old) {
      MountChange c;
      c.kind = MountChange::Kind::kAdded;
      c.after = it->second.info;
      diff.push_back(std::move(c));
    } else if (old->info != it->second.info) {
      MountChange c;
      c.kind = MountChange::Kind::kChanged;
      c.before = std::move(old->info);
      c.after = it->second.info;
      diff.push_back(std::move(c));
    }
  }
  s.touched.clear();
  return diff;
}

absl::Status LiveMountTable::Wait(absl::Duration timeout) {
  State& s = *state_;
  absl::Time now = absl::Now();
  absl::Time until = now + timeout;
  if (s.options.sweep_interval != absl::InfiniteDuration()) {
    until = std::min(until, s.next_sweep);
  }
  int ms = 0;
  if (until > now) {
    absl::Duration left = until - now;
    ms = left >= absl::Milliseconds(1 << 30)
             ? (1 << 30)
             : static_cast<int>(absl::ToInt64Milliseconds(
                   absl::Ceil(left, absl::Milliseconds(1))));
  }
  struct pollfd fds[2] = {{s.mountinfo.get(), POLLPRI, 0},
                          {s.fanotify.get(), POLLIN, 0}};
  int nfds = s.fanotify.valid() ? 2 : 1;
  int r = RetryOnEintr([&] { return ::poll(fds, nfds, ms); });
  if (r < 0) {
    int err = errno;
    return LiveError(Stage::kRead, err, "poll");
  }
  // poll(2) consumed the mountinfo poke; Refresh() must still see it.
  if (fds[0].revents & (POLLPRI | POLLERR)) s.poked = true;
  return absl::OkStatus();
}

std::vector<MountInfo> LiveMountTable::mounts() const {
  if (state_->mode == Mode::kRelist) return state_->listing;
  std::vector<MountInfo> out;
  out.reserve(state_->table.size());
  for (const auto& [id, rec] : state_->table) out.push_back(rec.info);
  return out;
}

size_t LiveMountTable::size() const {
  return state_->mode == Mode::kRelist ? state_->listing.size()
                                       : state_->table.size();
}

LiveMountTable::Mode LiveMountTable::mode() const { return state_->mode; }

const LiveMountTable::Stats& LiveMountTable::stats() const {
  return state_->stats;
}

}  // namespace linx
