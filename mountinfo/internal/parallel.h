// Spreading independent statmount(2) calls over threads: the listing
// (statmount_list.cc) and the live table's sweep (live_table_state.cc).
// Private to mountinfo/.
#ifndef LINX_MOUNTINFO_INTERNAL_PARALLEL_H_
#define LINX_MOUNTINFO_INTERNAL_PARALLEL_H_

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "base/signals.h"

namespace linx {
namespace mountinfo_internal {

// At most this many threads when the caller leaves the choice to us, and
// never fewer than kMinCallsPerThread calls per thread: below that a
// thread's creation costs more than its share.
constexpr size_t kAutoMaxThreads = 4;
constexpr size_t kMinCallsPerThread = 256;

// Threads for `n` calls: `max_threads` (0: the CPUs this thread may run on,
// at most kAutoMaxThreads), but never fewer than kMinCallsPerThread calls a
// thread.
inline size_t ThreadsFor(size_t n, int max_threads) {
  size_t want = 1;
  if (max_threads > 0) {
    want = static_cast<size_t>(max_threads);
  } else {
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
      want = std::min<size_t>(static_cast<size_t>(CPU_COUNT(&set)),
                              kAutoMaxThreads);
    }
  }
  return std::max<size_t>(1, std::min(want, n / kMinCallsPerThread));
}

template <typename Fn>
struct ThreadShare {
  Fn* fn;
  size_t index;
};

template <typename Fn>
void* RunThreadShare(void* arg) {
  auto* s = static_cast<ThreadShare<Fn>*>(arg);
  (*s->fn)(s->index);
  return nullptr;
}

// Calls fn(0) .. fn(threads - 1), fn(0) on the calling thread and the rest
// on threads created and joined here, so fn(i) for i > 0 must touch only
// its own share. The threads start with asynchronous signals blocked (a
// process-directed signal never reaches a thread the caller does not know
// about) and share the caller's mount namespace and root (pthread_create
// shares both), so a mount ID means the same mount to each. A share whose
// thread cannot be created (EAGAIN) runs on the calling thread.
template <typename Fn>
void RunOnThreads(size_t threads, Fn& fn) {
  std::vector<ThreadShare<Fn>> shares(threads);
  std::vector<pthread_t> tids(threads);
  std::vector<char> spawned(threads, 0);
  sigset_t async = AsyncSignals(), old;
  ::pthread_sigmask(SIG_SETMASK, &async, &old);
  for (size_t t = 1; t < threads; ++t) {
    shares[t] = {&fn, t};
    spawned[t] = ::pthread_create(&tids[t], nullptr, &RunThreadShare<Fn>,
                                  &shares[t]) == 0;
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (threads > 0) fn(0);
  for (size_t t = 1; t < threads; ++t) {
    if (spawned[t]) {
      ::pthread_join(tids[t], nullptr);
    } else {
      fn(t);
    }
  }
}

}  // namespace mountinfo_internal
}  // namespace linx

#endif  // LINX_MOUNTINFO_INTERNAL_PARALLEL_H_
