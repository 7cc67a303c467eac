// FindMount, IsMountPoint and the table queries, on real tables built in the
// test's private mount namespace, through every back end.
#include "mountinfo/query.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/statmount.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::ScopedMounts;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;

// The ways FindMount can answer; each test runs them all.
enum class Path { kStatmount, kTextById, kTextByPath };

std::string PathName(Path p) {
  switch (p) {
    case Path::kStatmount:
      return "statmount";
    case Path::kTextById:
      return "text_by_id";
    case Path::kTextByPath:
      return "text_by_path";
  }
  return "?";
}

class QueryTest : public ::testing::TestWithParam<Path> {
 protected:
  void SetUp() override {
    if (GetParam() == Path::kStatmount &&
        !(KernelHas(KernelFeature::kStatmount) &&
          KernelHas(KernelFeature::kStatxMountIdUnique))) {
      LINX_SKIP_OR_FAIL("kernel lacks statx STATX_MNT_ID_UNIQUE + statmount");
    }
    if (GetParam() == Path::kTextByPath) {
      PretendMissingForTesting(KernelFeature::kStatxMountId, true);
      PretendMissingForTesting(KernelFeature::kStatxMountIdUnique, true);
    }
    options_.backend = GetParam() == Path::kStatmount ? ListBackend::kStatmount
                                                      : ListBackend::kText;
  }
  void TearDown() override {
    PretendMissingForTesting(KernelFeature::kStatxMountId, false);
    PretendMissingForTesting(KernelFeature::kStatxMountIdUnique, false);
  }
  absl::StatusOr<MountInfo> Find(const std::string& p) {
    return FindMount(p, options_);
  }
  void ExpectMountPoint(const std::string& p, bool want) {
    absl::StatusOr<bool> got = IsMountPoint(p, options_);
    ASSERT_TRUE(got.ok()) << p << ": " << got.status();
    EXPECT_EQ(*got, want) << p;
  }
  FindOptions options_;
};

TEST_P(QueryTest, FindMountReturnsTheInnermostMount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("find");
  ScopedMounts m;
  m.Mount("outer", d, "tmpfs");
  std::string in = MakeSubdir(d, "in ner");
  m.Mount("inner", in, "tmpfs");
  std::string deep = MakeSubdir(in, "deep");
  std::string file = deep + "/f";
  ASSERT_EQ(::close(::creat(file.c_str(), 0644)), 0);

  ASSERT_OK_AND_ASSIGN(MountInfo a, Find(file));
  EXPECT_EQ(a.target, in);
  EXPECT_EQ(a.source, "inner");
  ASSERT_OK_AND_ASSIGN(MountInfo b, Find(in));
  EXPECT_EQ(b.target, in);
  ASSERT_OK_AND_ASSIGN(MountInfo c, Find(d + "/"));
  EXPECT_EQ(c.target, d);
  EXPECT_EQ(c.source, "outer");
  // The answer is the same entry the table lists, field by field.
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  std::vector<MountInfo> table = t.ToMountInfos();
  const MountInfo* listed = FindMountById(table, a.id);
  ASSERT_NE(listed, nullptr);
  EXPECT_EQ(*listed, a);
}

TEST_P(QueryTest, FindMountFollowsSymlinksAndDotDot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("symlink");
  ScopedMounts m;
  m.Mount("outer", d, "tmpfs");
  std::string in = MakeSubdir(d, "in");
  m.Mount("inner", in, "tmpfs");
  std::string link = d + "/link";
  ASSERT_EQ(::symlink("in", link.c_str()), 0);
  ASSERT_OK_AND_ASSIGN(MountInfo a, Find(link));
  EXPECT_EQ(a.source, "inner");
  ASSERT_OK_AND_ASSIGN(MountInfo b, Find(in + "/.."));
  EXPECT_EQ(b.source, "outer");
}

TEST_P(QueryTest, FindMountSeesStackedAndShadowingMountsLikeTheKernel) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("stack");
  ScopedMounts m;
  m.Mount("base", d, "tmpfs");
  std::string a = MakeSubdir(d, "a");
  std::string ab = MakeSubdir(a, "b");
  m.Mount("deep", ab, "tmpfs");
  // Over-mount a: a/b is now hidden; the path walk enters the new mount.
  m.Mount("over", a, "tmpfs");
  std::string ab2 = MakeSubdir(a, "b");
  ASSERT_OK_AND_ASSIGN(MountInfo x, Find(ab2));
  EXPECT_EQ(x.source, "over");
  // Two mounts stacked on one point: the top one answers.
  std::string s = MakeSubdir(d, "s");
  m.Mount("bottom", s, "tmpfs");
  m.Mount("top", s, "tmpfs");
  ASSERT_OK_AND_ASSIGN(MountInfo y, Find(s));
  EXPECT_EQ(y.source, "top");
}

TEST_P(QueryTest, FindMountErrors) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("errors");
  EXPECT_THAT(Find(d + "/missing"), ErrnoIs(ENOENT));
  EXPECT_THAT(Find(d + "/missing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Find(""), StageIs(Stage::kBadArgument));
  EXPECT_THAT(Find(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Find(std::string("a\0b", 3)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string file = d + "/file";
  ASSERT_EQ(::close(::creat(file.c_str(), 0644)), 0);
  EXPECT_THAT(Find(file + "/x"), ErrnoIs(ENOTDIR));
}

TEST_P(QueryTest, IsMountPoint) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("ismp");
  ScopedMounts m;
  m.Mount("t", d, "tmpfs");
  std::string sub = MakeSubdir(d, "sub");
  std::string mp = MakeSubdir(d, "mp");
  m.Mount("t2", mp, "tmpfs");
  std::string link = d + "/link";
  ASSERT_EQ(::symlink("mp", link.c_str()), 0);
  ExpectMountPoint(d, true);
  ExpectMountPoint(mp, true);
  ExpectMountPoint(link, true);
  ExpectMountPoint(sub, false);
  ExpectMountPoint("/", true);
  EXPECT_THAT(IsMountPoint(d + "/nope", options_), ErrnoIs(ENOENT));
  // A bind mount of a directory onto itself is a mount point too.
  m.Mount(sub, sub, nullptr, MS_BIND);
  ExpectMountPoint(sub, true);
}

INSTANTIATE_TEST_SUITE_P(AllPaths, QueryTest,
                         ::testing::Values(Path::kStatmount, Path::kTextById,
                                           Path::kTextByPath),
                         [](const auto& info) { return PathName(info.param); });

TEST(QueryTableTest, ChildrenDescendantsPeersMastersSlaves) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("tree");
  ScopedMounts m;
  m.Mount("root", d, "tmpfs");
  std::string a = MakeSubdir(d, "a");
  std::string b = MakeSubdir(d, "b");
  std::string c = MakeSubdir(d, "c");
  m.Mount("a", a, "tmpfs");
  m.Mount("", a, nullptr, MS_SHARED);
  std::string a1 = MakeSubdir(a, "a1");
  m.Mount("a1", a1, "tmpfs");
  m.Mount(a, b, nullptr, MS_BIND);  // peer of a (a1 is not copied: no rec)
  m.Mount(a, c, nullptr, MS_BIND);
  m.Mount("", c, nullptr, MS_SLAVE);  // c receives from a and b

  for (ListBackend backend : {ListBackend::kText, ListBackend::kAuto}) {
    SCOPED_TRACE(ListBackendName(backend));
    ListOptions lo;
    lo.backend = backend;
    ASSERT_OK_AND_ASSIGN(std::vector<MountInfo> t, ListMounts(lo));
    const MountInfo* root = FindMountInTable(t, d);
    const MountInfo* ma = FindMountInTable(t, a);
    const MountInfo* mb = FindMountInTable(t, b);
    const MountInfo* mc = FindMountInTable(t, c);
    const MountInfo* ma1 = FindMountInTable(t, a1 + "/x/y");
    ASSERT_TRUE(root && ma && mb && mc && ma1);
    EXPECT_EQ(root->source, "root");
    EXPECT_EQ(ma1->source, "a1");
    EXPECT_EQ(mb->target, b);

    std::vector<const MountInfo*> kids = ChildrenOf(t, root->id);
    ASSERT_EQ(kids.size(), 3u);
    EXPECT_EQ(kids[0], ma);
    EXPECT_EQ(kids[1], mb);
    EXPECT_EQ(kids[2], mc);
    std::vector<const MountInfo*> all = DescendantsOf(t, root->id);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0], ma);
    EXPECT_EQ(all[1], ma1);  // depth first: a's child before a's sibling
    EXPECT_EQ(DescendantsOf(t, ma1->id).size(), 0u);

    std::vector<const MountInfo*> peers = PeersOf(t, ma->id);
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0], mb);
    EXPECT_TRUE(PeersOf(t, mc->id).empty());
    std::vector<const MountInfo*> masters = MastersOf(t, mc->id);
    ASSERT_EQ(masters.size(), 2u);
    EXPECT_EQ(masters[0], ma);
    EXPECT_EQ(masters[1], mb);
    std::vector<const MountInfo*> slaves = SlavesOf(t, mb->id);
    ASSERT_EQ(slaves.size(), 1u);
    EXPECT_EQ(slaves[0], mc);
    EXPECT_TRUE(MastersOf(t, ma->id).empty());
    ASSERT_TRUE(ma->shared.has_value());
    EXPECT_EQ(PeerGroupMembers(t, *ma->shared).size(), 2u);
  }
}

// Pure: a hand-written table, no kernel.
TEST(FindMountInTableTest, WalksLikeThePathWalk) {
  std::vector<MountInfo> t(6);
  auto set = [&](size_t i, int id, int parent, const char* target) {
    t[i].id = id;
    t[i].parent_id = parent;
    t[i].target = target;
  };
  set(0, 20, 1, "/");      // namespace root (parent not listed)
  set(1, 21, 20, "/a/b");  // later hidden by 23
  set(2, 22, 20, "/ab");   // a prefix of "/ab" is not "/a"
  set(3, 23, 20, "/a");    // over-mounts /a
  set(4, 24, 23, "/a");    // stacked on 23
  set(5, 25, 20, "/c");
  EXPECT_EQ(FindMountInTable(t, "/a/b/x")->id, 24);
  EXPECT_EQ(FindMountInTable(t, "/ab")->id, 22);
  EXPECT_EQ(FindMountInTable(t, "/abc")->id, 20);
  EXPECT_EQ(FindMountInTable(t, "/c")->id, 25);
  EXPECT_EQ(FindMountInTable(t, "/")->id, 20);
  EXPECT_EQ(FindMountInTable(t, "relative"), nullptr);
  EXPECT_EQ(FindMountById(t, 25)->target, "/c");
  EXPECT_EQ(FindMountById(t, 99), nullptr);
}

}  // namespace
}  // namespace linx
