#include "mountinfo/live_table.h"

#include <fcntl.h>
#include <poll.h>
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
#include "mountinfo/internal/live_table_state.h"
#include "mountinfo/statmount.h"

namespace linx {

using live_internal::Numeric;
using live_internal::Rec;
using live_internal::SbState;

absl::StatusOr<std::unique_ptr<LiveMountTable>> LiveMountTable::Open(
    const LiveTableOptions& options) {
  if (options.pid < 0 || options.max_threads < 0) {
    bool pid = options.pid < 0;
    OpError e;
    e.operation = "live_table";
    e.stage = Stage::kBadArgument;
    e.value = absl::StrCat(pid ? options.pid : options.max_threads);
    return MakeOpError(
        e, absl::StrCat("live_table: ", pid ? "bad pid " : "bad max_threads ",
                        e.value));
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
    // Marked before the first listing: an event for a mount the listing
    // already has is applied again, harmlessly (statmount reads the state
    // as it is then).
    UniqueFd fan = kabi::WatchMountEvents(dir);
    if (fan.valid()) {
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
  lo.max_threads = options.max_threads;
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
    lo.max_threads = s.options.max_threads;
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
