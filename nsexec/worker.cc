#include "nsexec/worker.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "nsexec/internal/worker_setup.h"

namespace linx {

struct Worker::State {
  State(const Namespace& n, absl::string_view op) : ns(n), operation(op) {}

  Namespace ns;
  std::string operation;
  pthread_t thread{};
  pid_t tid = 0;
  // The process that started the thread: a forked child inherits the
  // Worker object but not its thread.
  pid_t owner = 0;

  // Serialises callers of Run(): one job is in flight at a time.
  std::mutex call_mu;

  // Set-up report, written once by the worker before its first bump of `done`.
  StageErrno setup;

  // The hand-off: two sequence counters that double as futex words. The
  // caller writes `job`, then bumps `posted`; the worker runs it, writes
  // `result`, then bumps `done`. A null job asks the worker to exit.
  const absl::FunctionRef<absl::Status()>* job = nullptr;
  absl::Status result;
  std::atomic<uint32_t> posted{0};
  std::atomic<uint32_t> done{0};
  std::atomic<bool> worker_sleeping{false};
  std::atomic<bool> caller_sleeping{false};
};

namespace {

long Futex(std::atomic<uint32_t>* word, int op, uint32_t val) {
  return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word),
                   op | FUTEX_PRIVATE_FLAG, val, nullptr, nullptr, 0);
}

// How long a waiter polls before it sleeps. A verb takes tens of
// microseconds, and waking a thread that sleeps on a futex costs about as
// much again on a loaded machine (the woken thread waits for the scheduler),
// so the caller polls through a typical verb and the worker through a
// caller's typical gap between verbs. Polling yields the CPU between looks
// (sched_yield) rather than spinning on PAUSE: mount and umount sleep in
// the kernel (umount waits for an RCU grace period), and on a machine with
// more runnable threads than CPUs a pure spinner takes the CPU the worker,
// the RCU machinery or the caller's other threads need. Measured on the
// 2-core machine under load (docs/performance.md): PAUSE spinning 1.3x-4x
// slower than bare verbs, futex only 1.4x-2x, yielding polls 0.95x-1.1x.
constexpr int64_t kSpinNanos = 50 * 1000;

int64_t NowNanos() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Waits until `*word` differs from `old` and returns the new value:
// polls for kSpinNanos, then sleeps on the futex. `sleeping` tells the other
// side that a wake-up is needed; seq_cst on both sides (Dekker) means a bump
// made while we decide to sleep is never missed, and FUTEX_WAIT re-checks
// the word atomically anyway.
uint32_t WaitForChange(std::atomic<uint32_t>* word, uint32_t old,
                       std::atomic<bool>* sleeping) {
  uint32_t v = word->load(std::memory_order_acquire);
  if (v != old) return v;
  int64_t deadline = NowNanos() + kSpinNanos;
  do {
    ::sched_yield();
    v = word->load(std::memory_order_acquire);
    if (v != old) return v;
  } while (NowNanos() < deadline);
  for (;;) {
    sleeping->store(true, std::memory_order_seq_cst);
    v = word->load(std::memory_order_seq_cst);
    if (v == old) {
      // EAGAIN (the word moved), EINTR: re-check either way.
      Futex(word, FUTEX_WAIT, old);
    }
    sleeping->store(false, std::memory_order_relaxed);
    v = word->load(std::memory_order_acquire);
    if (v != old) return v;
  }
}

// Publishes a bump of `*word` and wakes its waiter if it sleeps.
void Bump(std::atomic<uint32_t>* word, std::atomic<bool>* sleeping) {
  word->fetch_add(1, std::memory_order_seq_cst);
  if (sleeping->load(std::memory_order_seq_cst)) Futex(word, FUTEX_WAKE, 1);
}

void* WorkerMain(void* arg) {
  auto* s = static_cast<Worker::State*>(arg);
  s->setup = nsexec_internal::EnterMountNamespace(s->ns.handle().get());
  s->tid = ::gettid();
  bool ok = s->setup.ok();
  // Start() reads `setup` and `tid` after this bump. A worker that could
  // not enter its namespace runs nothing: Start() joins it and reports the
  // stage.
  Bump(&s->done, &s->caller_sleeping);
  if (!ok) return nullptr;

  uint32_t seen = 0;
  for (;;) {
    seen = WaitForChange(&s->posted, seen, &s->worker_sleeping);
    const absl::FunctionRef<absl::Status()>* job = s->job;
    if (job == nullptr) return nullptr;  // ~Worker
    s->result = (*job)();
    Bump(&s->done, &s->caller_sleeping);
  }
}

absl::Status EmptyWorker(absl::string_view operation) {
  absl::Status coded =
      MakeOpError({std::string(operation), Stage::kThread, 0, ""},
                  "thread: this linx::Worker is empty (moved from)");
  absl::Status out(absl::StatusCode::kFailedPrecondition, coded.message());
  coded.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status ForkedWorker(absl::string_view operation) {
  absl::Status coded =
      MakeOpError({std::string(operation), Stage::kThread, 0, ""},
                  "thread: this linx::Worker belongs to the parent process "
                  "(its thread does not exist after fork)");
  absl::Status out(absl::StatusCode::kFailedPrecondition, coded.message());
  coded.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace

absl::StatusOr<Worker> Worker::Start(const Namespace& ns,
                                     absl::string_view operation) {
  auto state = std::make_unique<State>(ns, operation);
  state->owner = ::getpid();
  // pthread_create returns its error; errno is not set.
  int err = ::pthread_create(&state->thread, nullptr, &WorkerMain, state.get());
  if (err != 0) {
    return nsexec_internal::StageError(operation, Stage::kThread, err);
  }
  WaitForChange(&state->done, 0, &state->caller_sleeping);
  StageErrno setup = state->setup;
  if (!setup.ok()) {
    // The thread returns right after reporting; nothing else refers to it.
    ::pthread_join(state->thread, nullptr);
    return nsexec_internal::StageError(operation, setup.stage,
                                       setup.errno_value);
  }
  return Worker(std::move(state));
}

Worker::Worker(std::unique_ptr<State> state) : state_(std::move(state)) {}

Worker::Worker(Worker&& other) noexcept = default;

Worker& Worker::operator=(Worker&& other) noexcept {
  if (this != &other) {
    Stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

Worker::~Worker() { Stop(); }

void Worker::Stop() {
  if (state_ == nullptr) return;
  if (::getpid() != state_->owner) {
    // In a forked child the thread does not exist: nothing to end or join
    // (the parent's Worker still owns it).
    state_.reset();
    return;
  }
  state_->job = nullptr;
  Bump(&state_->posted, &state_->worker_sleeping);
  // The only error pthread_join can give for a joinable thread of ours is
  // EDEADLK (called from the worker itself, i.e. from inside a job), which
  // the header forbids; nothing is left to report it to.
  ::pthread_join(state_->thread, nullptr);
  state_.reset();
}

absl::Status Worker::Run(absl::string_view operation,
                         absl::FunctionRef<absl::Status()> fn) {
  if (state_ == nullptr) return EmptyWorker(operation);
  State* s = state_.get();
  if (::getpid() != s->owner) return ForkedWorker(operation);
  std::lock_guard<std::mutex> call(s->call_mu);
  // `done` only moves when we bump `posted`, so it is stable here.
  uint32_t before = s->done.load(std::memory_order_acquire);
  s->job = &fn;
  Bump(&s->posted, &s->worker_sleeping);
  WaitForChange(&s->done, before, &s->caller_sleeping);
  return std::move(s->result);
}

const Namespace& Worker::ns() const {
  static const Namespace* const kSelf = new Namespace(Namespace::Self());
  return state_ != nullptr ? state_->ns : *kSelf;
}

pid_t Worker::tid() const { return state_ != nullptr ? state_->tid : 0; }

}  // namespace linx
