// The change monitor in the test's private namespace: mount, unmount,
// remount and a propagation change each produce the right event, through
// every wake-up source and both back ends.
#include "mountinfo/monitor.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "mountinfo/statmount.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::StatusIs;

// How long a test waits for an event that must come. Generous on purpose:
// the tests assert that the event arrives, never how fast (TSan and QEMU's
// TCG are many times slower than a native run). A missing event still fails,
// only later.
constexpr absl::Duration kPatience = absl::Seconds(60);

MountInfo Entry(int id, const char* target, const char* opts) {
  MountInfo m;
  m.id = id;
  m.parent_id = 1;
  m.target = target;
  m.vfs_options = opts;
  return m;
}

TEST(DiffMountTablesTest, AddedRemovedChangedByMountId) {
  std::vector<MountInfo> before = {Entry(1, "/", "rw"), Entry(2, "/a", "rw"),
                                   Entry(3, "/b", "rw")};
  std::vector<MountInfo> after = {Entry(1, "/", "rw"), Entry(3, "/b", "ro"),
                                  Entry(4, "/c", "rw")};
  std::vector<MountChange> d = DiffMountTables(before, after);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].kind, MountChange::Kind::kRemoved);
  EXPECT_EQ(d[0].mount().target, "/a");
  EXPECT_EQ(d[1].kind, MountChange::Kind::kChanged);
  EXPECT_EQ(d[1].before.vfs_options, "rw");
  EXPECT_EQ(d[1].after.vfs_options, "ro");
  EXPECT_EQ(d[2].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(d[2].mount().target, "/c");
  EXPECT_TRUE(DiffMountTables(after, after).empty());
  EXPECT_STREQ(MountChangeKindName(MountChange::Kind::kChanged), "changed");
}

// (fanotify wanted, back end)
class MonitorTest
    : public ::testing::TestWithParam<std::tuple<bool, ListBackend>> {
 protected:
  void SetUp() override {
    if (std::get<1>(GetParam()) == ListBackend::kStatmount &&
        !KernelHas(KernelFeature::kStatmount)) {
      LINX_SKIP_OR_FAIL("kernel lacks listmount/statmount");
    }
    if (!std::get<0>(GetParam())) {
      PretendMissingForTesting(KernelFeature::kFanotifyMount, true);
    }
  }
  void TearDown() override {
    PretendMissingForTesting(KernelFeature::kFanotifyMount, false);
  }
  MonitorOptions Options() {
    MonitorOptions o;
    o.backend = std::get<1>(GetParam());
    o.rescan_interval = absl::Milliseconds(200);
    return o;
  }
  // Waits for the next non-empty batch and returns it.
  std::vector<MountChange> Next(MountMonitor& mon) {
    absl::StatusOr<std::vector<MountChange>> c = mon.Wait(kPatience);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : std::vector<MountChange>{};
  }
};

TEST_P(MonitorTest, MountRemountPropagationUnmountEachReported) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("monitor");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MountMonitor> mon,
                       MountMonitor::Open(Options()));
  if (std::get<0>(GetParam())) {
    if (!KernelHas(KernelFeature::kFanotifyMount)) {
      LINX_SKIP_OR_FAIL("kernel lacks fanotify mount events (6.15+)");
    }
    EXPECT_TRUE(mon->using_fanotify());
  } else {
    EXPECT_FALSE(mon->using_fanotify());
  }
  // Nothing happens: a timeout with no changes.
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> none,
                       mon->Wait(absl::Milliseconds(50)));
  EXPECT_TRUE(none.empty());

  ASSERT_EQ(::mount("watched", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct Cleanup {
    std::string p;
    ~Cleanup() { ::umount2(p.c_str(), MNT_DETACH); }
  } cleanup{d};
  std::vector<MountChange> c = Next(*mon);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(c[0].after.target, d);
  EXPECT_EQ(c[0].after.source, "watched");
  const int id = c[0].after.id;

  ASSERT_EQ(
      ::mount(nullptr, d.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
  c = Next(*mon);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kChanged);
  EXPECT_EQ(c[0].after.id, id);
  EXPECT_TRUE(absl::StartsWith(c[0].before.vfs_options, "rw"));
  EXPECT_TRUE(absl::StartsWith(c[0].after.vfs_options, "ro"));

  // Neither poll nor fanotify fire for this one: the rescan finds it.
  ASSERT_EQ(::mount(nullptr, d.c_str(), nullptr, MS_SHARED, nullptr), 0);
  c = Next(*mon);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kChanged);
  EXPECT_FALSE(c[0].before.shared.has_value());
  EXPECT_TRUE(c[0].after.shared.has_value());

  ASSERT_EQ(::umount2(d.c_str(), 0), 0);
  c = Next(*mon);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kRemoved);
  EXPECT_EQ(c[0].before.id, id);
  for (const MountInfo& m : mon->snapshot()) EXPECT_NE(m.id, id);
  if (mon->using_fanotify()) {
    EXPECT_GE(mon->fanotify_events(), 2u);  // attach + detach
  }
}

TEST_P(MonitorTest, WakesWithoutRescanOnMount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("norescan");
  MonitorOptions o = Options();
  o.rescan_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MountMonitor> mon,
                       MountMonitor::Open(o));
  ASSERT_EQ(::mount("fast", d.c_str(), "tmpfs", 0, nullptr), 0);
  struct Cleanup {
    std::string p;
    ~Cleanup() { ::umount2(p.c_str(), MNT_DETACH); }
  } cleanup{d};
  // With no rescan timer only a wake-up (poll or fanotify) can report the
  // mount; without one, Wait times out with an empty batch and this fails.
  std::vector<MountChange> c = Next(*mon);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kAdded);
}

INSTANTIATE_TEST_SUITE_P(
    AllSources, MonitorTest,
    ::testing::Combine(::testing::Bool(),
                       ::testing::Values(ListBackend::kText,
                                         ListBackend::kStatmount)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) ? "fanotify" : "poll") + "_" +
             ListBackendName(std::get<1>(info.param));
    });

// Another process's namespace, watched without entering it.
TEST(MonitorOtherPidTest, SeesMountsInAChildNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("child");
  // A process parked in a copy of our namespace; the mount is made there
  // through nsexec, after the monitor is open.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testing::ParkedChild> child,
                       testing::ParkedChild::Spawn(nullptr, false));
  MonitorOptions o;
  o.pid = child->pid();
  o.rescan_interval = absl::InfiniteDuration();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MountMonitor> mon,
                       MountMonitor::Open(o));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK(RunIn(ns, "mount", [&]() -> absl::Status {
    if (::mount("in-child", d.c_str(), "tmpfs", 0, nullptr) != 0) {
      return ErrnoToStatus(errno, "mount in-child");
    }
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(std::vector<MountChange> c, mon->Wait(kPatience));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, MountChange::Kind::kAdded);
  EXPECT_EQ(c[0].after.source, "in-child");
  // Our own namespace never saw it.
  absl::StatusOr<std::vector<MountInfo>> mine = ListMounts();
  ASSERT_TRUE(mine.ok());
  for (const MountInfo& m : *mine) EXPECT_NE(m.source, "in-child");
}

TEST(MonitorOtherPidTest, MissingPidIsNotFound) {
  MonitorOptions o;
  o.pid = 999999999;
  EXPECT_THAT(MountMonitor::Open(o), ErrnoIs(ENOENT));
  EXPECT_THAT(MountMonitor::Open(o), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace linx
