// UmountTree on real trees in the test's private mount namespace (and in a
// parked child's), read back from the kernel.
#include "mount/umount_tree.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "mount/mount.h"
#include "mount/testing/mount_test_util.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::ParkedChild;
using ::linx::testing::ScopedMount;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::linx::testing::Table;

void Tmpfs(const std::string& src, const std::string& dst) {
  ASSERT_EQ(::mount(src.c_str(), dst.c_str(), "tmpfs", 0, nullptr), 0)
      << dst << ": " << strerror(errno);
}

// Mount points at or under `dir` in this thread's (or pid's) table.
std::vector<std::string> Under(const std::string& dir, pid_t pid = 0) {
  std::vector<std::string> out;
  for (const MountInfo& m : Table(pid)) {
    if (m.target == dir || m.target.rfind(dir + "/", 0) == 0) {
      out.push_back(m.target + " (" + m.source + ")");
    }
  }
  return out;
}

class HookGuard {
 public:
  explicit HookGuard(std::function<void(int)> f) {
    SetUmountTreePassHookForTesting(std::move(f));
  }
  ~HookGuard() { SetUmountTreePassHookForTesting(nullptr); }
};

TEST(UmountTreeTest, UnmountsTheWholeTreeDeepestFirst) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("tree");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("covered", t);  // stays: the root is stacked on it
  Tmpfs("root", t);
  std::string a = MakeSubdir(t, "a");
  std::string ab = MakeSubdir(a, "b");
  Tmpfs("a", a);
  std::string ab2 = MakeSubdir(a, "b");
  Tmpfs("ab", ab2);
  std::string abc = MakeSubdir(ab2, "c");
  Tmpfs("abc", abc);
  Tmpfs("ab-top", ab2);  // stacked on ab
  std::string s = MakeSubdir(t, "s");
  std::string sx = MakeSubdir(s, "x");
  Tmpfs("sx", sx);     // hidden by the next one
  Tmpfs("s-over", s);  // over-mounts s, hiding s/x
  ASSERT_EQ(Under(t).size(), 8u);
  (void)ab;

  ASSERT_OK(UmountTree(t));
  std::vector<std::string> left = Under(t);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0], t + " (covered)");
  EXPECT_EQ(Under(d).size(), 2u);  // base and covered
}

TEST(UmountTreeTest, UmountWithRecursiveOptionTakesTheTree) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("recursive");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  std::string c = MakeSubdir(t, "c");
  Tmpfs("c", c);
  Tmpfs("cd", MakeSubdir(c, "d"));
  ASSERT_EQ(Under(t).size(), 3u);

  // Without the option the busy parent refuses, and nothing moves.
  EXPECT_THAT(Umount(t), ErrnoIs(EBUSY));
  EXPECT_EQ(Under(t).size(), 3u);

  UmountOptions r;
  r.recursive = true;
  ASSERT_OK(Umount(t, r));
  EXPECT_TRUE(Under(t).empty());
  EXPECT_EQ(Under(d).size(), 1u);  // base
}

TEST(UmountTreeTest, FollowsSymlinksToTheTarget) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("link");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  Tmpfs("child", MakeSubdir(t, "c"));
  std::string link = d + "/link";
  ASSERT_EQ(::symlink("t", link.c_str()), 0);
  ASSERT_OK(UmountTree(link));
  EXPECT_TRUE(Under(t).empty());
}

TEST(UmountTreeTest, NotAMountPointIsUmountsOwnError) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("notmp");
  EXPECT_THAT(UmountTree(d), ErrnoIs(EINVAL));
  EXPECT_THAT(UmountTree(d), StageIs(Stage::kUmount));
  EXPECT_THAT(UmountTree(d + "/missing"), ErrnoIs(ENOENT));
  EXPECT_THAT(UmountTree(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(UmountTreeTest, BusyMountStopsWithEbusyKeepingWhatItUnmounted) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("busy");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  std::string busy = MakeSubdir(t, "busy");
  Tmpfs("busy", busy);
  std::string deep = MakeSubdir(busy, "deep");
  Tmpfs("deep", deep);
  std::string f = busy + "/open-file";
  int fd = ::open(f.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  absl::Status s = UmountTree(t);
  ::close(fd);
  EXPECT_THAT(s, ErrnoIs(EBUSY));
  EXPECT_THAT(s, StageIs(Stage::kUmount));
  EXPECT_NE(std::string(s.message()).find("umount -R " + t), std::string::npos)
      << s;
  std::vector<std::string> left = Under(t);
  ASSERT_EQ(left.size(), 2u);  // deep went first; busy and t stay
  EXPECT_EQ(left[0], t + " (t)");
  EXPECT_EQ(left[1], busy + " (busy)");
  ASSERT_OK(UmountTree(t));  // not busy any more
  EXPECT_TRUE(Under(t).empty());
}

TEST(UmountTreeTest, RetriesWhenAMountAppearsUnderneath) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("race");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  std::string sub = MakeSubdir(t, "sub");
  Tmpfs("sub", sub);
  std::vector<int> passes;
  HookGuard hook([&](int pass) {
    passes.push_back(pass);
    // After the table was read: a newcomer the first pass does not know.
    if (pass == 1) Tmpfs("late", MakeSubdir(sub, "late"));
  });
  ASSERT_OK(UmountTree(t));
  EXPECT_TRUE(Under(t).empty());
  EXPECT_EQ(passes, (std::vector<int>{1, 2}));
}

TEST(UmountTreeTest, GivesUpAfterBoundedPassesWithTheExactError) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("endless");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  int passes = 0;
  HookGuard hook([&](int pass) {
    passes = pass;
    Tmpfs("again", MakeSubdir(t, "n" + std::to_string(pass)));
  });
  absl::Status s = UmountTree(t);
  EXPECT_EQ(passes, kUmountTreeMaxPasses);
  EXPECT_THAT(s, ErrnoIs(EBUSY));
  EXPECT_NE(std::string(s.message()).find("gave up after"), std::string::npos)
      << s;
  SetUmountTreePassHookForTesting(nullptr);
  ASSERT_OK(UmountTree(t));
  EXPECT_TRUE(Under(t).empty());
}

TEST(UmountTreeTest, DetachTakesTheTreeInOneCall) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("detach");
  ScopedMount guard(d);
  Tmpfs("base", d);
  std::string t = MakeSubdir(d, "t");
  Tmpfs("t", t);
  std::string busy = MakeSubdir(t, "busy");
  Tmpfs("busy", busy);
  std::string f = busy + "/open-file";
  int fd = ::open(f.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  UmountOptions o;
  o.flags = {UmountFlag::kDetach};
  EXPECT_OK(UmountTree(t, o));
  ::close(fd);
  EXPECT_TRUE(Under(t).empty());
}

TEST(UmountTreeTest, InAnotherNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("otherns");
  std::string t = MakeSubdir(d, "t");
  std::string c = MakeSubdir(d, "t-child");  // made inside t once t is mounted
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  MountOptions mo;
  mo.in = ns;
  ASSERT_OK(Mount("t", t, "tmpfs", mo));
  ASSERT_OK(RunIn(ns, "mkdir", [&]() -> absl::Status {
    if (::mkdir((t + "/c").c_str(), 0755) != 0) {
      return absl::InternalError(strerror(errno));
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(Mount("c", t + "/c", "tmpfs", mo));
  ASSERT_EQ(Under(t, child->pid()).size(), 2u);
  EXPECT_TRUE(Under(t).empty());
  UmountOptions o;
  o.in = ns;
  ASSERT_OK(UmountTree(t, o));
  EXPECT_TRUE(Under(t, child->pid()).empty());
  (void)c;
  // A relative target into another namespace is Umount's bad_argument.
  EXPECT_THAT(UmountTree("rel", o), StageIs(Stage::kBadArgument));
}

}  // namespace
}  // namespace linx
