#include "mountinfo/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "mountinfo/internal/kernel.h"

namespace linx {
namespace {

absl::Status MonitorError(Stage stage, int err, const std::string& what) {
  OpError e;
  e.operation = "monitor";
  e.stage = stage;
  e.errno_value = err;
  e.value = what;
  return MakeOpError(
      e, absl::StrCat("monitor: ", what, ": ", ErrnoDescription(err)));
}

}  // namespace

const char* MountChangeKindName(MountChange::Kind kind) {
  switch (kind) {
    case MountChange::Kind::kAdded:
      return "added";
    case MountChange::Kind::kRemoved:
      return "removed";
    case MountChange::Kind::kChanged:
      return "changed";
  }
  return "changed";
}

std::vector<MountChange> DiffMountTables(absl::Span<const MountInfo> before,
                                         absl::Span<const MountInfo> after) {
  absl::flat_hash_map<int32_t, const MountInfo*> old_by_id, new_by_id;
  for (const MountInfo& m : before) old_by_id.emplace(m.id, &m);
  for (const MountInfo& m : after) new_by_id.emplace(m.id, &m);
  std::vector<MountChange> out;
  for (const MountInfo& m : before) {
    if (!new_by_id.contains(m.id)) {
      MountChange c;
      c.kind = MountChange::Kind::kRemoved;
      c.before = m;
      out.push_back(std::move(c));
    }
  }
  for (const MountInfo& m : after) {
    auto it = old_by_id.find(m.id);
    if (it == old_by_id.end()) {
      MountChange c;
      c.kind = MountChange::Kind::kAdded;
      c.after = m;
      out.push_back(std::move(c));
    } else if (*it->second != m) {
      MountChange c;
      c.kind = MountChange::Kind::kChanged;
      c.before = *it->second;
      c.after = m;
      out.push_back(std::move(c));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MountMonitor>> MountMonitor::Open(
    const MonitorOptions& options) {
  std::unique_ptr<MountMonitor> m(new MountMonitor());
  m->options_ = options;
  std::string dir = options.pid == 0 ? std::string("/proc/thread-self")
                                     : absl::StrCat("/proc/", options.pid);
  std::string path = dir + "/mountinfo";
  m->mountinfo_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!m->mountinfo_.valid()) {
    int err = errno;
    return MonitorError(Stage::kOpenNs, err, path);
  }
  if (options.use_fanotify && KernelHas(KernelFeature::kFanotifyMount)) {
    m->fanotify_ = kabi::WatchMountEvents(dir);
  }
  // Arm the poll state: the first poll(2) after open reports "changed"
  // only if the namespace changed since; consume that now.
  struct pollfd p = {m->mountinfo_.get(), POLLPRI, 0};
  (void)RetryOnEintr([&] { return ::poll(&p, 1, 0); });
  ASSIGN_OR_RETURN(m->snapshot_, m->Snapshot());
  m->next_rescan_ = absl::Now() + options.rescan_interval;
  return m;
}

absl::StatusOr<std::vector<MountInfo>> MountMonitor::Snapshot() const {
  ListOptions lo;
  lo.backend = options_.backend;
  lo.pid = options_.pid;
  return ListMounts(lo);
}

void MountMonitor::DrainFanotify() {
  alignas(8) char buf[4096];
  for (;;) {
    ssize_t n =
        RetryOnEintr([&] { return ::read(fanotify_.get(), buf, sizeof buf); });
    if (n <= 0) return;
    size_t off = 0;
    while (off + sizeof(fanotify_event_metadata) <= static_cast<size_t>(n)) {
      const auto* meta =
          reinterpret_cast<const fanotify_event_metadata*>(buf + off);
      if (meta->event_len < sizeof(*meta) ||
          off + meta->event_len > static_cast<size_t>(n)) {
        break;
      }
      if (meta->mask & (kabi::kFanMntAttach | kabi::kFanMntDetach)) {
        ++fanotify_events_;
      }
      off += meta->event_len;
    }
  }
}

absl::StatusOr<std::vector<MountChange>> MountMonitor::Wait(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::Time now = absl::Now();
    absl::Time until = std::min(deadline, next_rescan_);
    int ms = 0;
    if (until > now) {
      absl::Duration left = until - now;
      ms = left >= absl::Milliseconds(1 << 30)
               ? (1 << 30)
               : static_cast<int>(absl::ToInt64Milliseconds(
                     absl::Ceil(left, absl::Milliseconds(1))));
    }
    struct pollfd fds[2] = {{mountinfo_.get(), POLLPRI, 0},
                            {fanotify_.get(), POLLIN, 0}};
    int nfds = fanotify_.valid() ? 2 : 1;
    int r = ::poll(fds, nfds, ms);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      return MonitorError(Stage::kRead, err, "poll");
    }
    bool woke = r > 0;
    if (nfds == 2 && (fds[1].revents & POLLIN)) DrainFanotify();
    now = absl::Now();
    if (now >= next_rescan_) {
      woke = true;
      next_rescan_ = now + options_.rescan_interval;
    }
    if (woke) {
      ASSIGN_OR_RETURN(std::vector<MountInfo> table, Snapshot());
      std::vector<MountChange> changes = DiffMountTables(snapshot_, table);
      if (!changes.empty()) {
        snapshot_ = std::move(table);
        return changes;
      }
    }
    if (now >= deadline) return std::vector<MountChange>{};
  }
}

}  // namespace linx
