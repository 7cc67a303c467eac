// LiveMountTable in the test's private mount namespace (and a parked
// child's): random sequences of mount, bind, move, remount, propagation
// change and umount, in bursts, some overflowing the fanotify queue; after
// every Refresh() the live table must equal a fresh full listing from both
// back ends, and the diff it returned must turn the previous table into the
// new one.
#include "mountinfo/live_table.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "mountinfo/monitor.h"
#include "mountinfo/statmount.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"
#include "nsexec/worker.h"

// Skips a test that needs the private sandbox (or fanotify mount events),
// or fails it when CI demands privileged tests run
// (LINX_REQUIRE_PRIVILEGED=1).
#define LINX_LIVE_REQUIRE(cond, why)                                \
  do {                                                              \
    if (!(cond)) {                                                  \
      const char* require = std::getenv("LINX_REQUIRE_PRIVILEGED"); \
      if (require != nullptr && std::string(require) == "1") {      \
        FAIL() << "LINX_REQUIRE_PRIVILEGED=1 but " << why;          \
      }                                                             \
      GTEST_SKIP() << why;                                          \
    }                                                               \
  } while (0)

#define LINX_LIVE_REQUIRE_PRIVILEGED()                  \
  LINX_LIVE_REQUIRE(::linx::testing::Privileged(),      \
                    "needs a private mount namespace: " \
                        << ::linx::testing::PrivilegeSkipReason())

// A kernel without the features is not a missing privilege: skipped with
// the reason whatever LINX_REQUIRE_PRIVILEGED says (the re-list mode is
// tested on every kernel).
#define LINX_LIVE_REQUIRE_EVENTS()                                     \
  do {                                                                 \
    LINX_LIVE_REQUIRE_PRIVILEGED();                                    \
    if (!KernelHas(KernelFeature::kFanotifyMount) ||                   \
        !KernelHas(KernelFeature::kStatmount)) {                       \
      GTEST_SKIP() << "kernel lacks fanotify mount events (6.15+) or " \
                      "statmount (6.13+)";                             \
    }                                                                  \
  } while (0)

namespace linx {
namespace {

using ::linx::testing::MakeScratchDir;
using ::linx::testing::ParkedChild;

std::vector<MountInfo> Fresh(ListBackend backend, pid_t pid = 0) {
  ListOptions o;
  o.backend = backend;
  o.pid = pid;
  absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : std::vector<MountInfo>{};
}

// `before` with `diff` applied, keyed by the 32-bit ID (removals first, as
// the diff lists them, so a reused ID is handled), sorted by ID.
std::vector<MountInfo> Apply(std::vector<MountInfo> before,
                             const std::vector<MountChange>& diff) {
  std::map<int32_t, MountInfo> by_id;
  for (MountInfo& m : before) by_id[m.id] = std::move(m);
  for (const MountChange& c : diff) {
    if (c.kind == MountChange::Kind::kRemoved) by_id.erase(c.before.id);
  }
  for (const MountChange& c : diff) {
    if (c.kind != MountChange::Kind::kRemoved) by_id[c.after.id] = c.after;
  }
  std::vector<MountInfo> out;
  for (auto& [id, m] : by_id) out.push_back(std::move(m));
  return out;
}

std::vector<MountInfo> SortedById(std::vector<MountInfo> v) {
  std::sort(v.begin(), v.end(),
            [](const MountInfo& a, const MountInfo& b) { return a.id < b.id; });
  return v;
}

std::string Describe(const std::vector<MountInfo>& t) {
  std::string out;
  for (const MountInfo& m : t) {
    absl::StrAppend(&out, m.id, " ", m.parent_id, " ", m.target, " ",
                    m.vfs_options, " [");
    for (const std::string& f : m.optional_fields)
      absl::StrAppend(&out, f, " ");
    absl::StrAppend(&out, "] ", m.fstype, " ", m.source, " ", m.fs_options,
                    "\n");
  }
  return out;
}

// Random mount operations on a small pool of directories under `base` (a
// tmpfs of its own). Every operation may fail (EINVAL for a move under a
// shared parent, EBUSY, ENOENT for a path inside a mount that went away):
// the kernel is the reference, not a model.
class Mutator {
 public:
  Mutator(std::string base, uint32_t seed, bool propagation)
      : base_(std::move(base)), rng_(seed), propagation_(propagation) {}

  std::string Path() {
    std::string p = absl::StrCat(base_, "/d", Below(12));
    if (Below(3) == 0) absl::StrAppend(&p, "/sub");
    return p;
  }

  // One random operation; returns what it did, for failure messages.
  std::string Step() {
    std::string a = Path();
    std::string b = Path();
    int kind = static_cast<int>(Below(propagation_ ? 9 : 7));
    errno = 0;
    std::string did = Do(kind, a, b);
    if (errno == 0) ++succeeded_[std::min(kind, 7)];
    return did;
  }

  // How many operations of each kind succeeded: mount (0-1), bind (2),
  // move (3), bind remount (4), superblock remount (5), umount (6),
  // propagation (7).
  int Succeeded(int kind) const {
    return kind == 0 ? succeeded_[0] + succeeded_[1] : succeeded_[kind];
  }

 private:
  std::string Do(int kind, const std::string& a, const std::string& b) {
    switch (kind) {
      case 0:
      case 1: {
        std::string data = absl::StrCat("size=", 64 + Below(64), "k");
        if (::mount("live", a.c_str(), "tmpfs", 0, data.c_str()) == 0) {
          ::mkdir((a + "/sub").c_str(), 0755);
          errno = 0;
        }
        return "mount tmpfs " + a;
      }
      case 2: {
        unsigned long f = MS_BIND | (Below(2) ? MS_REC : 0);
        ::mount(a.c_str(), b.c_str(), nullptr, f, nullptr);
        return absl::StrCat("bind ", a, " ", b, (f & MS_REC) ? " rec" : "");
      }
      case 3:
        ::mount(a.c_str(), b.c_str(), nullptr, MS_MOVE, nullptr);
        return "move " + a + " " + b;
      case 4: {
        unsigned long f = MS_REMOUNT | MS_BIND;
        if (Below(2)) f |= MS_RDONLY;
        if (Below(2)) f |= MS_NOSUID;
        if (Below(2)) f |= MS_NOEXEC;
        ::mount(nullptr, a.c_str(), nullptr, f, nullptr);
        return absl::StrCat("remount bind ", a, " flags ", f);
      }
      case 5: {
        // A superblock remount: tmpfs size (options only) or ro/rw (flags).
        std::string data = absl::StrCat("size=", 64 + Below(64), "k");
        unsigned long f = MS_REMOUNT | (Below(4) == 0 ? MS_RDONLY : 0);
        ::mount(nullptr, a.c_str(), nullptr, f, data.c_str());
        return absl::StrCat("remount ", a, " ", data, " flags ", f);
      }
      case 6:
        ::umount2(a.c_str(), Below(3) == 0 ? MNT_DETACH : 0);
        return "umount " + a;
      default: {
        static constexpr unsigned long kTypes[] = {MS_SHARED, MS_SLAVE,
                                                   MS_PRIVATE, MS_UNBINDABLE};
        unsigned long f = kTypes[Below(4)] | (Below(3) == 0 ? MS_REC : 0);
        ::mount(nullptr, a.c_str(), nullptr, f, nullptr);
        return absl::StrCat("propagation ", a, " ", f);
      }
    }
  }

  uint32_t Below(uint32_t n) { return rng_() % n; }
  std::string base_;
  std::mt19937 rng_;
  bool propagation_;
  int succeeded_[8] = {};
};

// A fresh tmpfs at a new scratch directory with the pool's directories.
std::string MakeBase(const char* hint) {
  std::string base = MakeScratchDir(hint);
  EXPECT_EQ(::mount("live-base", base.c_str(), "tmpfs", 0, "size=1m"), 0)
      << std::strerror(errno);
  for (int i = 0; i < 12; ++i) {
    std::string d = absl::StrCat(base, "/d", i);
    ::mkdir(d.c_str(), 0755);
    ::mkdir((d + "/sub").c_str(), 0755);
  }
  return base;
}

// Runs `rounds` bursts of up to `burst` random operations on `live`,
// checking after every Refresh() that the table equals fresh listings and
// that the diff leads from the old table to the new one.
void RunProperty(LiveMountTable* live, Mutator* mut, int rounds, int burst,
                 uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<MountInfo> prev = live->mounts();
  for (int round = 0; round < rounds; ++round) {
    int n = 1 + static_cast<int>(rng() % burst);
    std::string did;
    for (int i = 0; i < n; ++i) absl::StrAppend(&did, mut->Step(), "\n");
    absl::StatusOr<std::vector<MountChange>> diff = live->Refresh();
    ASSERT_TRUE(diff.ok()) << diff.status();
    std::vector<MountInfo> now = live->mounts();
    std::vector<MountInfo> want = Fresh(ListBackend::kStatmount);
    ASSERT_EQ(now, want) << "round " << round << " after:\n"
                         << did << "live:\n"
                         << Describe(now) << "fresh:\n"
                         << Describe(want);
    ASSERT_EQ(now, Fresh(ListBackend::kText)) << "round " << round;
    ASSERT_EQ(SortedById(Apply(prev, *diff)), SortedById(now))
        << "round " << round << " after:\n"
        << did;
    prev = std::move(now);
  }
}

TEST(LiveMountTableTest, OneMountUmountRemountGiveOneDiffEntryEach) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-one");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  EXPECT_EQ(live->mode(), LiveMountTable::Mode::kEvents);
  EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
  EXPECT_TRUE(d.empty());

  std::string dir = base + "/d0";
  ASSERT_EQ(::mount("live-one", dir.c_str(), "tmpfs", 0, "size=64k"), 0);
  ASSERT_OK_AND_ASSIGN(d, live->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(d[0].after.target, dir);
  EXPECT_EQ(d[0].after.source, "live-one");
  EXPECT_GE(live->stats().events, 1u);

  ASSERT_EQ(::mount(nullptr, dir.c_str(), nullptr,
                    MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
            0);
  ASSERT_OK_AND_ASSIGN(d, live->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kChanged);
  EXPECT_EQ(d[0].before.vfs_options.substr(0, 2), "rw");
  EXPECT_EQ(d[0].after.vfs_options.substr(0, 2), "ro");

  // A superblock remount that changes only an option.
  ASSERT_EQ(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY,
                    "size=128k"),
            0);
  ASSERT_OK_AND_ASSIGN(d, live->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kChanged);
  EXPECT_NE(d[0].before.fs_options, d[0].after.fs_options);

  ASSERT_EQ(::umount2(dir.c_str(), 0), 0);
  ASSERT_OK_AND_ASSIGN(d, live->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kRemoved);
  EXPECT_EQ(d[0].before.target, dir);
  EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  ::umount2(base.c_str(), MNT_DETACH);
}

TEST(LiveMountTableTest, MovedMountTakesItsDescendantsAlong) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-move");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  std::string a = base + "/d1", b = base + "/d2";
  ASSERT_EQ(::mount("outer", a.c_str(), "tmpfs", 0, "size=64k"), 0);
  ASSERT_EQ(::mkdir((a + "/in").c_str(), 0755), 0);
  ASSERT_EQ(::mount("inner", (a + "/in").c_str(), "tmpfs", 0, "size=64k"), 0);
  ASSERT_OK(live->Refresh().status());
  ASSERT_EQ(::mount(a.c_str(), b.c_str(), nullptr, MS_MOVE, nullptr), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
  EXPECT_EQ(d.size(), 2u);
  for (const MountChange& c : d) EXPECT_EQ(c.kind, MountChange::Kind::kChanged);
  EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  ::umount2(base.c_str(), MNT_DETACH);
}

// Every kind of change the kernel notifies, in bursts of up to 8 between
// Refresh() calls, no periodic sweep: under kOnPoke the events and the poke
// alone keep the table exact.
TEST(LiveMountTableTest, PropertyEventsAndPokesKeepTheTableExact) {
  LINX_LIVE_REQUIRE_EVENTS();
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  o.sweep_policy = SweepPolicy::kOnPoke;
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  ASSERT_EQ(live->mode(), LiveMountTable::Mode::kEvents);
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    // A fresh base per seed; the old one is detached with everything below
    // it (one detach event per mount).
    std::string base = MakeBase("live-prop");
    Mutator mut(base, seed, /*propagation=*/false);
    RunProperty(live.get(), &mut, 150, 8, seed);
    for (int kind : {0, 2, 3, 4, 5, 6}) {
      EXPECT_GT(mut.Succeeded(kind), 0) << kind;
    }
    std::fprintf(stderr, "live table: %zu mounts after seed %u\n", live->size(),
                 seed);
    ASSERT_EQ(::umount2(base.c_str(), MNT_DETACH), 0);
    ASSERT_OK(live->Refresh().status());
    EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  }
  EXPECT_EQ(live->stats().relists, 0u);
  EXPECT_GT(live->stats().events, 0u);
}

// Propagation changes are invisible to poll and fanotify: with a sweep on
// every Refresh() they are found too (shared, slave, unbindable, and the
// propagate_from the full listing computes).
TEST(LiveMountTableTest, PropertyWithPropagationChangesWhenSweeping) {
  LINX_LIVE_REQUIRE_EVENTS();
  LiveTableOptions o;
  o.sweep_interval = absl::ZeroDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  for (uint32_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE(seed);
    std::string base = MakeBase("live-propagation");
    Mutator mut(base, seed, /*propagation=*/true);
    RunProperty(live.get(), &mut, 150, 8, seed);
    for (int kind : {0, 2, 3, 4, 5, 6, 7}) {
      EXPECT_GT(mut.Succeeded(kind), 0) << kind;
    }
    std::fprintf(stderr, "live table: %zu mounts after seed %u\n", live->size(),
                 seed);
    // Detaching a tree with shared and slave members in one go.
    ASSERT_EQ(::umount2(base.c_str(), MNT_DETACH), 0);
    ASSERT_OK(live->Refresh().status());
    EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  }
  EXPECT_EQ(live->stats().relists, 0u);
}

// One operation per Refresh() under the default policy
// (kOnUnexplainedPoke): exact at every Refresh() too, since no remount
// shares a window with an attach/detach.
TEST(LiveMountTableTest, PropertyOneChangePerRefreshWithTheDefaultPolicy) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-cheap");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_EQ(o.sweep_policy, SweepPolicy::kOnUnexplainedPoke);
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  Mutator mut(base, 21, /*propagation=*/false);
  RunProperty(live.get(), &mut, 300, 1, 21);
  ::umount2(base.c_str(), MNT_DETACH);
}

// What the default policy guarantees for bursts that mix remounts with
// attaches and detaches: after every Refresh() the same mounts with the same
// parents, mount points and roots as a fresh listing (attach, detach and
// move are always exact), and after a sweep everything; the diffs always
// turn the previous table into the current one.
TEST(LiveMountTableTest, PropertyDefaultPolicyInBurstsIsExactAfterASweep) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-burst");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  Mutator mut(base, 31, /*propagation=*/false);
  std::mt19937 rng(31);
  std::vector<MountInfo> prev = live->mounts();
  auto shape = [](const std::vector<MountInfo>& t) {
    std::vector<std::string> out;
    for (const MountInfo& m : t) {
      out.push_back(absl::StrCat(m.id, " ", m.parent_id, " ", m.target, " ",
                                 m.root, " ", m.fstype, " ", m.source));
    }
    return out;
  };
  uint64_t sweeps_before = live->stats().sweeps;
  for (int round = 0; round < 150; ++round) {
    int n = 1 + static_cast<int>(rng() % 8);
    std::string did;
    for (int i = 0; i < n; ++i) absl::StrAppend(&did, mut.Step(), "\n");
    bool sweep = round % 5 == 4;
    ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh(sweep));
    std::vector<MountInfo> now = live->mounts();
    std::vector<MountInfo> want = Fresh(ListBackend::kStatmount);
    if (sweep) {
      ASSERT_EQ(now, want) << "round " << round << " after:\n" << did;
    } else {
      ASSERT_EQ(shape(now), shape(want)) << "round " << round << " after:\n"
                                         << did;
    }
    ASSERT_EQ(SortedById(Apply(prev, d)), SortedById(now)) << "round " << round;
    prev = std::move(now);
  }
  for (int kind : {0, 2, 3, 4, 5, 6}) EXPECT_GT(mut.Succeeded(kind), 0) << kind;
  EXPECT_GE(live->stats().sweeps - sweeps_before, 30u);
  ::umount2(base.c_str(), MNT_DETACH);
}

// A remount in the same window as a mount: kOnPoke reports both at once;
// the default reports the mount at once and the remount by the next
// periodic sweep (sweep_interval), never later.
TEST(LiveMountTableTest, RemountBesideAMountIsFoundByTheNextSweep) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-beside");
  for (SweepPolicy policy :
       {SweepPolicy::kOnPoke, SweepPolicy::kOnUnexplainedPoke}) {
    bool exact = policy == SweepPolicy::kOnPoke;
    SCOPED_TRACE(exact ? "kOnPoke" : "kOnUnexplainedPoke");
    std::string a = base + "/d6", b = base + "/d7";
    ASSERT_EQ(::mount("beside-b", b.c_str(), "tmpfs", 0, "size=64k"), 0);
    LiveTableOptions o;
    o.sweep_policy = policy;
    o.sweep_interval = absl::Milliseconds(300);
    ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
    ASSERT_EQ(::mount("beside-a", a.c_str(), "tmpfs", 0, "size=64k"), 0);
    ASSERT_EQ(::mount(nullptr, b.c_str(), nullptr,
                      MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
              0);
    ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
    // Opening the table and the first Refresh() took well under 300 ms
    // unless the machine stalled; then the periodic sweep ran already.
    bool swept = live->stats().sweeps > 0;
    ASSERT_EQ(d.size(), exact || swept ? 2u : 1u);
    // Added and changed mounts come in table order (b is older than a).
    const MountChange& added = d.back();
    EXPECT_EQ(added.kind, MountChange::Kind::kAdded);
    EXPECT_EQ(added.after.target, a);
    if (d.size() == 2) {
      EXPECT_EQ(d[0].kind, MountChange::Kind::kChanged);
      EXPECT_EQ(d[0].after.target, b);
    }
    if (exact) {
      EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
    }
    // Wait() returns when the sweep is due; the Refresh() after it is exact.
    absl::Time t0 = absl::Now();
    ASSERT_OK(live->Wait(absl::Seconds(10)));
    EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
    ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d2, live->Refresh());
    if (!exact && !swept) {
      ASSERT_EQ(d2.size(), 1u);
      EXPECT_EQ(d2[0].kind, MountChange::Kind::kChanged);
      EXPECT_EQ(d2[0].after.target, b);
      EXPECT_EQ(d2[0].after.vfs_options.substr(0, 2), "ro");
    }
    EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
    ASSERT_EQ(::umount2(a.c_str(), 0), 0);
    ASSERT_EQ(::umount2(b.c_str(), 0), 0);
  }
  ::umount2(base.c_str(), MNT_DETACH);
}

// A table of 600+ mounts, so the sweep and the full listing run on several
// threads (never fewer than 256 mounts a thread): remounts of binds and of
// the superblock, umounts, all found by a forced sweep, on any thread count.
TEST(LiveMountTableTest, SweepOnSeveralThreadsFindsEveryRemount) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-threads");
  std::string src = base + "/d8";
  ASSERT_EQ(::mount("threads", src.c_str(), "tmpfs", 0, "size=1m"), 0);
  std::vector<std::string> binds;
  for (int i = 0; i < 600; ++i) {
    std::string d = absl::StrCat(src, "/b", i);
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
    binds.push_back(d);
  }
  for (const std::string& d : binds) {
    ASSERT_EQ(::mount(src.c_str(), d.c_str(), nullptr, MS_BIND, nullptr), 0)
        << d;
  }
  for (int threads : {1, 3, 0}) {
    SCOPED_TRACE(threads);
    LiveTableOptions o;
    o.sweep_interval = absl::InfiniteDuration();
    o.max_threads = threads;
    ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
    EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
    std::mt19937 rng(61 + threads);
    std::vector<MountInfo> prev = live->mounts();
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < 10; ++i) {
        const std::string& d = binds[rng() % binds.size()];
        unsigned long f = MS_REMOUNT | MS_BIND;
        if (rng() % 2) f |= MS_RDONLY;
        if (rng() % 2) f |= MS_NOEXEC;
        ::mount(nullptr, d.c_str(), nullptr, f, nullptr);
      }
      if (round % 3 == 0) {
        std::string data = absl::StrCat("size=", 1024 + round, "k");
        ASSERT_EQ(
            ::mount(nullptr, src.c_str(), nullptr, MS_REMOUNT, data.c_str()),
            0);
      }
      ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh(true));
      std::vector<MountInfo> now = live->mounts();
      ASSERT_EQ(now, Fresh(ListBackend::kStatmount)) << "round " << round;
      ASSERT_EQ(SortedById(Apply(prev, d)), SortedById(now));
      prev = std::move(now);
    }
  }
  ::umount2(base.c_str(), MNT_DETACH);
}

// More events than the fanotify queue holds (16384 by default): the
// overflow is seen and the table re-listed, correctly.
TEST(LiveMountTableTest, QueueOverflowFallsBackToAFullRelist) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-overflow");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  o.sweep_policy = SweepPolicy::kOnPoke;  // the bursts below mix remounts
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  std::vector<MountInfo> prev = live->mounts();
  std::string dir = base + "/d3";
  for (int i = 0; i < 9000; ++i) {
    ASSERT_EQ(::mount("burst", dir.c_str(), "tmpfs", 0, "size=64k"), 0);
    ASSERT_EQ(::umount2(dir.c_str(), 0), 0);
  }
  Mutator mut(base, 31, false);
  for (int i = 0; i < 20; ++i) mut.Step();
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
  EXPECT_GE(live->stats().overflows, 1u);
  EXPECT_EQ(live->stats().relists, 1u);
  std::vector<MountInfo> now = live->mounts();
  EXPECT_EQ(now, Fresh(ListBackend::kStatmount));
  EXPECT_EQ(SortedById(Apply(prev, d)), SortedById(now));
  // And back to events afterwards.
  RunProperty(live.get(), &mut, 30, 4, 32);
  EXPECT_EQ(live->stats().relists, 1u);
  ::umount2(base.c_str(), MNT_DETACH);
}

// The fallback for kernels without fanotify mount events: same answers.
TEST(LiveMountTableTest, PropertyRelistModeGivesTheSameAnswers) {
  LINX_LIVE_REQUIRE_PRIVILEGED();
  std::string base = MakeBase("live-relist");
  LiveTableOptions o;
  o.use_events = false;
  o.sweep_interval = absl::ZeroDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  EXPECT_EQ(live->mode(), LiveMountTable::Mode::kRelist);
  Mutator mut(base, 41, /*propagation=*/true);
  RunProperty(live.get(), &mut, 60, 6, 41);
  ::umount2(base.c_str(), MNT_DETACH);
}

// Another process's namespace, changed from inside through a Worker.
TEST(LiveMountTableTest, PropertyInAParkedChildsNamespace) {
  LINX_LIVE_REQUIRE_EVENTS();
  if (!KernelHas(KernelFeature::kMountNamespaceId)) {
    GTEST_SKIP() << "kernel lacks NS_GET_MNTNS_ID (6.11+)";
  }
  std::string base = MakeBase("live-child");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  LiveTableOptions o;
  o.pid = child->pid();
  o.sweep_interval = absl::InfiniteDuration();
  o.sweep_policy = SweepPolicy::kOnPoke;  // bursts mix remounts and mounts
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  EXPECT_EQ(live->mode(), LiveMountTable::Mode::kEvents);
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
  Mutator mut(base, 51, /*propagation=*/false);
  std::vector<MountInfo> prev = live->mounts();
  EXPECT_EQ(prev, Fresh(ListBackend::kStatmount, child->pid()));
  for (int round = 0; round < 100; ++round) {
    std::string did;
    ASSERT_OK(worker.Run("mutate", [&] {
      for (int i = 0; i < 3; ++i) absl::StrAppend(&did, mut.Step(), "\n");
      return absl::OkStatus();
    }));
    ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
    std::vector<MountInfo> now = live->mounts();
    ASSERT_EQ(now, Fresh(ListBackend::kStatmount, child->pid()))
        << "round " << round << "\n"
        << did;
    ASSERT_EQ(now, Fresh(ListBackend::kText, child->pid()));
    ASSERT_EQ(SortedById(Apply(prev, d)), SortedById(now));
    prev = std::move(now);
  }
  ::umount2(base.c_str(), MNT_DETACH);
}

TEST(LiveMountTableTest, WaitWakesOnAMountAndRefreshSeesIt) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-wait");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  std::string dir = base + "/d4";
  ASSERT_EQ(::mount(nullptr, base.c_str(), nullptr,
                    MS_REMOUNT | MS_BIND | MS_NOSUID, nullptr),
            0);
  absl::Time t0 = absl::Now();
  ASSERT_OK(live->Wait(absl::Seconds(10)));
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  // Wait() consumed the poke; Refresh() must still sweep for the remount.
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, live->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kChanged);
  EXPECT_EQ(d[0].after.target, base);
  ::umount2(base.c_str(), MNT_DETACH);
}

// A statmount failing half-way through a Refresh() leaves the table as it
// was (nothing partly applied); the next Refresh() re-lists and reports
// everything that changed meanwhile.
TEST(LiveMountTableTest, FailedRefreshChangesNothingAndTheNextOneRelists) {
  LINX_LIVE_REQUIRE_EVENTS();
  std::string base = MakeBase("live-fail");
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(auto live, LiveMountTable::Open(o));
  std::vector<MountInfo> before = live->mounts();
  std::string dir = base + "/d5";
  ASSERT_EQ(::mount("live-fail", dir.c_str(), "tmpfs", 0, "size=64k"), 0);
  PretendMissingForTesting(KernelFeature::kStatmount, true);
  absl::StatusOr<std::vector<MountChange>> d = live->Refresh();
  PretendMissingForTesting(KernelFeature::kStatmount, false);
  EXPECT_THAT(d, ::linx::testing::StageIs(Stage::kRead));
  EXPECT_THAT(d, ::linx::testing::ErrnoIs(ENOSYS));
  EXPECT_EQ(live->mounts(), before);
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d2, live->Refresh());
  EXPECT_EQ(live->stats().relists, 1u);
  ASSERT_EQ(d2.size(), 1u);
  EXPECT_EQ(d2[0].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(d2[0].after.target, dir);
  EXPECT_EQ(live->mounts(), Fresh(ListBackend::kStatmount));
  ::umount2(base.c_str(), MNT_DETACH);
}

// A kernel without fanotify mount events: the same API in re-list mode.
TEST(LiveMountTableTest, WithoutFanotifyMountEventsItRelists) {
  LINX_LIVE_REQUIRE_PRIVILEGED();
  PretendMissingForTesting(KernelFeature::kFanotifyMount, true);
  absl::StatusOr<std::unique_ptr<LiveMountTable>> live = LiveMountTable::Open();
  PretendMissingForTesting(KernelFeature::kFanotifyMount, false);
  ASSERT_OK(live.status());
  EXPECT_EQ((*live)->mode(), LiveMountTable::Mode::kRelist);
  std::string base = MakeBase("live-nofan");
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> d, (*live)->Refresh());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(d[0].after.target, base);
  EXPECT_EQ((*live)->stats().relists, 1u);
  // Nothing changed, no sweep due: no listing at all.
  ASSERT_OK_AND_ASSIGN(d, (*live)->Refresh());
  EXPECT_TRUE(d.empty());
  ::umount2(base.c_str(), MNT_DETACH);
}

TEST(LiveMountTableTest, BadPidIsBadArgumentAndMissingPidNotFound) {
  LiveTableOptions threads;
  threads.max_threads = -1;
  EXPECT_THAT(LiveMountTable::Open(threads),
              ::linx::testing::StageIs(Stage::kBadArgument));
  LiveTableOptions o;
  o.pid = -3;
  EXPECT_THAT(LiveMountTable::Open(o),
              ::linx::testing::StageIs(Stage::kBadArgument));
  o.pid = 0x3fffffff;
  EXPECT_THAT(LiveMountTable::Open(o),
              ::linx::testing::StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace linx
