// The verbs with a root: an untrusted image's symlinks and ".." never put a
// file, a directory or a mount outside the root. Each case builds a rootfs
// and a "host" sentinel directory beside it on the scratch tmpfs of this
// test's private mount namespace, runs a verb with InRoot, and checks the
// kernel's mount table and the host directory afterwards.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/command.h"
#include "mount/mount.h"
#include "mount/testing/mount_test_util.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::FindMount;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::ReadFile;
using ::linx::testing::StageIs;
using ::linx::testing::StatvfsFlags;
using ::linx::testing::Table;
using ::linx::testing::TableText;
using ::linx::testing::WriteFile;
using ::testing::HasSubstr;

// scratch/<name>/{rootfs,host}: the image and what it must never reach.
struct Layout {
  std::string top, rootfs, host;
};

Layout MakeLayout(const std::string& name) {
  Layout l;
  l.top = MakeScratchDir(name);
  l.rootfs = MakeSubdir(l.top, "rootfs");
  l.host = MakeSubdir(l.top, "host");
  MakeSubdir(l.host, "etc");
  return l;
}

void Symlink(const std::string& to, const std::string& at) {
  ASSERT_EQ(::symlink(to.c_str(), at.c_str()), 0) << at;
}

// Every entry under `dir`, recursively ("" when empty).
std::string Tree(const std::string& dir) {
  std::string out;
  std::string cmd = absl::StrCat("find '", dir, "' -mindepth 1 | sort");
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

// Mount points of the table under `dir`.
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const MountInfo& m : Table()) {
    if (absl::StartsWith(m.target, dir + "/") || m.target == dir) {
      out.push_back(m.target);
    }
  }
  return out;
}

// Detaches every mount under `dir`, deepest first.
void Cleanup(const std::string& dir) {
  std::vector<std::string> m = MountsUnder(dir);
  for (auto it = m.rbegin(); it != m.rend(); ++it) {
    ::umount2(it->c_str(), MNT_DETACH);
  }
}

InRoot Root(const Layout& l) {
  InRoot r;
  r.dir = l.rootfs;
  return r;
}

// The measured escape: rootfs/dev -> ../host/etc made
// `bind /dev/null ROOTFS/dev/null --create` create a file and a mount in
// host/etc. Inside the root, "../host/etc" is ROOTFS/host/etc, which does
// not exist: nothing is created, nothing is mounted.
TEST(InRootVerbsTest, RelativeSymlinkOutOfTheRootCannotPlaceABind) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("rel-escape");
  Symlink("../host/etc", l.rootfs + "/dev");
  std::string before = TableText();
  BindOptions o;
  o.root = Root(l);
  o.create = true;
  absl::Status s = Bind("/dev/null", "/dev/null", o);
  EXPECT_THAT(s, StageIs(Stage::kResolve));
  EXPECT_THAT(s, ErrnoIs(ENOENT));
  EXPECT_EQ(Tree(l.host), l.host + "/etc\n");
  EXPECT_EQ(TableText(), before);
  // Without a root, the same request lands outside (the bug being fixed):
  // the string is walked as given.
  BindOptions plain;
  plain.create = true;
  ASSERT_OK(Bind("/dev/null", l.rootfs + "/dev/null", plain));
  EXPECT_TRUE(FindMount(l.host + "/etc/null").has_value());
  Cleanup(l.top);
}

// A symlink whose target exists inside the root is followed, inside.
TEST(InRootVerbsTest, SymlinksThatStayInsideAreFollowedInside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("in-root-link");
  MakeSubdir(MakeSubdir(l.rootfs, "host"), "etc");
  Symlink("../host/etc", l.rootfs + "/dev");  // relative
  Symlink("/host", l.rootfs + "/abs");        // absolute = ROOTFS/host
  BindOptions o;
  o.root = Root(l);
  o.create = true;
  ASSERT_OK(Bind("/dev/null", "/dev/null", o));
  EXPECT_TRUE(FindMount(l.rootfs + "/host/etc/null").has_value());
  MountOptions m;
  m.root = Root(l);
  m.mkdir = true;
  ASSERT_OK(Mount("none", "/abs/../abs/new/dir", "tmpfs", m));
  EXPECT_TRUE(FindMount(l.rootfs + "/host/new/dir").has_value());
  EXPECT_EQ(Tree(l.host), l.host + "/etc\n");
  Cleanup(l.top);
}

TEST(InRootVerbsTest, DotDotChainsStopAtTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("dotdot");
  MountOptions m;
  m.root = Root(l);
  m.mkdir = true;
  ASSERT_OK(Mount("none", "../../../../host/etc/x", "tmpfs", m));
  EXPECT_TRUE(FindMount(l.rootfs + "/host/etc/x").has_value());
  EXPECT_EQ(Tree(l.host), l.host + "/etc\n");
  Cleanup(l.top);
}

TEST(InRootVerbsTest, AbsoluteSymlinkToAHostDeviceResolvesInside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("abs-dev");
  MakeSubdir(l.rootfs, "dev");
  Symlink("/dev/sda", l.rootfs + "/dev/console");  // ROOTFS/dev/sda: none
  BindOptions o;
  o.root = Root(l);
  std::string before = TableText();
  EXPECT_THAT(Bind("/dev/null", "/dev/console", o), ErrnoIs(ENOENT));
  EXPECT_EQ(TableText(), before);
}

TEST(InRootVerbsTest, MagicLinksAreRefused) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("magic");
  std::string proc = MakeSubdir(l.rootfs, "proc");
  ASSERT_EQ(::mount("proc", proc.c_str(), "proc", 0, nullptr), 0);
  Symlink("/proc/self/root", l.rootfs + "/evil");
  std::string before = TableText();
  MountOptions m;
  m.root = Root(l);
  absl::Status s = Mount("none", "/evil/tmp", "tmpfs", m);
  EXPECT_THAT(s, ErrnoIs(ELOOP));
  EXPECT_THAT(s, StageIs(Stage::kResolve));
  EXPECT_THAT(Mount("none", "/proc/self/cwd", "tmpfs", m), ErrnoIs(ELOOP));
  EXPECT_EQ(TableText(), before);
  Cleanup(l.top);
}

TEST(InRootVerbsTest, LoopsAndLongChainsFailWithEloop) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("loops");
  Symlink("b", l.rootfs + "/a");
  Symlink("a", l.rootfs + "/b");
  for (int i = 0; i < 45; ++i) {
    Symlink(absl::StrCat("c", i + 1), l.rootfs + absl::StrCat("/c", i));
  }
  MakeSubdir(l.rootfs, "c45");
  MountOptions m;
  m.root = Root(l);
  EXPECT_THAT(Mount("none", "/a", "tmpfs", m), ErrnoIs(ELOOP));
  EXPECT_THAT(Mount("none", "/c0", "tmpfs", m), ErrnoIs(ELOOP));
  ASSERT_OK(Mount("none", "/c10", "tmpfs", m));  // 35 links: within 40
  EXPECT_TRUE(FindMount(l.rootfs + "/c45").has_value());
  Cleanup(l.top);
}

// umount, remount and move with a root never reach a mount outside it.
TEST(InRootVerbsTest, UmountRemountAndMoveStayInside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("other-verbs");
  std::string outside = MakeSubdir(l.host, "mnt");
  ASSERT_EQ(::mount("outside", outside.c_str(), "tmpfs", 0, nullptr), 0);
  Symlink("../host/mnt", l.rootfs + "/rel");
  Symlink("/../../host/mnt", l.rootfs + "/abs");
  UmountOptions u;
  u.root = Root(l);
  RemountOptions r;
  r.root = Root(l);
  r.flags = {MountFlag::kRo};
  MoveOptions mv;
  mv.root = Root(l);
  for (const char* link : {"/rel", "/abs"}) {
    SCOPED_TRACE(link);
    EXPECT_THAT(Umount(link, u), ErrnoIs(ENOENT));
    EXPECT_THAT(Remount(link, r), ErrnoIs(ENOENT));
    EXPECT_THAT(Move(link, "/", mv), ErrnoIs(ENOENT));
  }
  EXPECT_TRUE(FindMount(outside).has_value());
  EXPECT_EQ(StatvfsFlags(outside) & ST_RDONLY, 0u);
  // Inside, all three work on what the path resolves to.
  std::string a = MakeSubdir(l.rootfs, "a");
  MakeSubdir(l.rootfs, "b");
  Symlink("/a", l.rootfs + "/to-a");
  ASSERT_EQ(::mount("inside", a.c_str(), "tmpfs", 0, nullptr), 0);
  ASSERT_OK(Remount("/to-a", r));
  EXPECT_NE(StatvfsFlags(a) & ST_RDONLY, 0u);
  ASSERT_OK(Move("/to-a", "/b", mv));
  EXPECT_TRUE(FindMount(l.rootfs + "/b").has_value());
  EXPECT_FALSE(FindMount(a).has_value());
  ASSERT_OK(Umount("b", u));
  EXPECT_FALSE(FindMount(l.rootfs + "/b").has_value());
  Cleanup(l.top);
}

TEST(InRootVerbsTest, RecursiveUmountOfATreeInside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("tree");
  MountOptions m;
  m.root = Root(l);
  m.mkdir = true;
  ASSERT_OK(Mount("none", "/t", "tmpfs", m));
  ASSERT_OK(Mount("none", "/t/x/y", "tmpfs", m));
  ASSERT_OK(Mount("none", "/t/z", "tmpfs", m));
  Symlink("/t", l.rootfs + "/link");
  UmountOptions u;
  u.root = Root(l);
  u.recursive = true;
  ASSERT_OK(Umount("/link", u));
  EXPECT_TRUE(MountsUnder(l.rootfs).empty());
}

// The fd-based paths do what the classic ones do: flags, data, the
// kernel's own message, a read-only bind, propagation.
TEST(InRootVerbsTest, NewMountsAndBindsCarryEveryFlag) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("flags");
  MountOptions m;
  m.root = Root(l);
  m.mkdir = true;
  m.flags = {MountFlag::kNosuid, MountFlag::kNodev, MountFlag::kShared};
  m.data = "size=1m,mode=0700";
  ASSERT_OK(Mount("rootfs-tmp", "/tmp", "tmpfs", m));
  std::optional<MountInfo> t = FindMount(l.rootfs + "/tmp");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->source, "rootfs-tmp");
  EXPECT_TRUE(t->shared.has_value());
  EXPECT_NE(StatvfsFlags(l.rootfs + "/tmp") & ST_NOSUID, 0u);
  EXPECT_NE(StatvfsFlags(l.rootfs + "/tmp") & ST_NODEV, 0u);
  EXPECT_THAT(t->fs_options, HasSubstr("size=1024k"));
  EXPECT_THAT(t->fs_options, HasSubstr("mode=700"));
  // The kernel's words reach the caller.
  MountOptions bad = m;
  bad.data = "size=bogus";
  absl::Status s = Mount("none", "/bad", "tmpfs", bad);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(std::string(s.message()), HasSubstr("tmpfs: Bad value for"));
  EXPECT_NE(::access((l.rootfs + "/bad").c_str(), F_OK), 0)
      << "the directory made for it is removed again";
  // A read-only bind of a host file onto a placeholder in the root.
  std::string file = l.top + "/data";
  ASSERT_TRUE(WriteFile(file, "payload"));
  BindOptions b;
  b.root = Root(l);
  b.mkdir = true;
  b.create = true;
  b.flags = {MountFlag::kRo};
  ASSERT_OK(Bind(file, "/etc/data", b));
  EXPECT_EQ(ReadFile(l.rootfs + "/etc/data"), "payload");
  EXPECT_NE(StatvfsFlags(l.rootfs + "/etc/data") & ST_RDONLY, 0u);
  // A source inside the root.
  BindOptions inner;
  inner.root = Root(l);
  inner.source_in_root = true;
  inner.mkdir = true;
  ASSERT_OK(Bind("/tmp", "/mirror", inner));
  EXPECT_TRUE(FindMount(l.rootfs + "/mirror").has_value());
  Cleanup(l.top);
}

// A path bound onto itself read-only and recursively (linx apply's
// readonlyPaths): one resolution, inside the root, the whole tree ro; an
// escaping symlink finds nothing to bind.
TEST(InRootVerbsTest, APathBoundOntoItselfStaysInsideAndIsReadOnly) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("self-bind");
  std::string sub = MakeSubdir(MakeSubdir(l.rootfs, "ro"), "sub");
  ASSERT_EQ(::mount("sub", sub.c_str(), "tmpfs", 0, nullptr), 0);
  Symlink("../host/etc", l.rootfs + "/out");
  BindCommand self{"/ro", "/ro", {}};
  self.options.root = Root(l);
  self.options.source_in_root = true;
  self.options.flags = {MountFlag::kRo, MountFlag::kRec};
  ASSERT_OK(Execute(self));
  EXPECT_NE(StatvfsFlags(l.rootfs + "/ro") & ST_RDONLY, 0u);
  EXPECT_NE(StatvfsFlags(sub) & ST_RDONLY, 0u) << "the submount stayed rw";
  std::string before = TableText();
  BindCommand out = self;
  out.source = out.target = "/out";
  EXPECT_THAT(Execute(out), ErrnoIs(ENOENT));
  EXPECT_EQ(TableText(), before);
  EXPECT_EQ(Tree(l.host), l.host + "/etc\n");
  Cleanup(l.top);
}

// A tree the caller cloned (BindCommand::source_tree) is attached as it is,
// onto the target resolved inside the root.
TEST(InRootVerbsTest, ACallerClonedTreeIsAttachedInsideTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("source-tree");
  ASSERT_TRUE(WriteFile(l.rootfs + "/secret", "image"));
  Symlink("/secret", l.rootfs + "/link");
  int fd = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/dev/null",
                                      1 /* OPEN_TREE_CLONE */ | O_CLOEXEC));
  ASSERT_GE(fd, 0) << std::strerror(errno);
  BindCommand b{"/dev/null", "/link", {}};
  b.options.root = Root(l);
  b.source_tree = std::make_shared<UniqueFd>(fd);
  ASSERT_OK(Execute(b));
  struct stat st;
  ASSERT_EQ(::stat((l.rootfs + "/secret").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_TRUE(FindMount(l.rootfs + "/secret").has_value());
  BindCommand both = b;
  both.options.source_in_root = true;
  EXPECT_THAT(Execute(both), StageIs(Stage::kBadArgument));
  Cleanup(l.top);
}

// Execute with an undo journal, then Undo: the mount table and the
// directory tree are exactly what they were before.
TEST(InRootVerbsTest, UndoTakesBackMountsBindsMovesAndWhatWasCreated) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("undo");
  MakeSubdir(l.rootfs, "existing");
  std::string file = l.top + "/payload";
  ASSERT_TRUE(WriteFile(file, "x"));
  std::string table_before = TableText();
  std::string tree_before = Tree(l.top);
  std::vector<UndoRecord> undo;
  MountCommand tmp{"none", "/run/deep/tmp", "tmpfs", {}};
  tmp.options.root = Root(l);
  tmp.options.mkdir = true;
  tmp.options.flags = {MountFlag::kNosuid, MountFlag::kPrivate};
  ASSERT_OK(Execute(tmp, &undo));
  BindCommand file_bind{file, "/etc/hosts", {}};
  file_bind.options.root = Root(l);
  file_bind.options.mkdir = true;
  file_bind.options.create = true;
  file_bind.options.flags = {MountFlag::kRo};
  ASSERT_OK(Execute(file_bind, &undo));
  MountCommand moved{"none", "/existing", "tmpfs", {}};
  moved.options.root = Root(l);
  ASSERT_OK(Execute(moved, &undo));
  MoveCommand mv{"/existing", "/run/deep/tmp", {}};
  mv.options.root = Root(l);
  ASSERT_OK(Execute(mv, &undo));
  ASSERT_EQ(undo.size(), 4u);
  EXPECT_NE(TableText(), table_before);
  EXPECT_NE(Tree(l.top), tree_before);
  ASSERT_OK(Undo(undo));
  EXPECT_EQ(TableText(), table_before);
  EXPECT_EQ(Tree(l.top), tree_before);
}

// Undo takes back only the mount the command made: when another mount was
// stacked on it, or it was unmounted and its parent now shows at the path,
// the record fails with ESTALE and nothing is detached (before, the parent
// scratch mount itself would have been). With a root and without.
TEST(InRootVerbsTest, UndoLeavesAMountThatIsNoLongerItsOwn) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("undo-own");
  for (bool in_root : {true, false}) {
    SCOPED_TRACE(in_root ? "in root" : "plain path");
    std::string a = MakeSubdir(l.rootfs, in_root ? "a" : "pa");
    std::string b = MakeSubdir(l.rootfs, in_root ? "b" : "pb");
    std::string table_before = TableText();
    std::vector<UndoRecord> undo;
    MountCommand ma{"ours-a", in_root ? "/a" : a, "tmpfs", {}};
    MountCommand mb{"ours-b", in_root ? "/b" : b, "tmpfs", {}};
    if (in_root) ma.options.root = mb.options.root = Root(l);
    ASSERT_OK(Execute(ma, &undo));
    ASSERT_OK(Execute(mb, &undo));
    ASSERT_EQ(undo.size(), 2u);
    EXPECT_NE(undo[0].mount_id, 0u);
    EXPECT_NE(undo[0].mount_id, undo[1].mount_id);
    // Someone else stacks a mount on ours at a, and unmounts ours at b.
    ASSERT_EQ(::mount("theirs", a.c_str(), "tmpfs", 0, nullptr), 0);
    ASSERT_EQ(::umount2(b.c_str(), 0), 0);
    std::string table_then = TableText();
    absl::Status s = Undo(undo);
    EXPECT_THAT(s, ErrnoIs(ESTALE));
    EXPECT_THAT(s, StageIs(Stage::kResolve));
    EXPECT_EQ(TableText(), table_then);  // nothing detached
    // With theirs gone, ours is the one at a again: undone.
    ASSERT_EQ(::umount2(a.c_str(), 0), 0);
    std::vector<UndoRecord> only_a = {undo[0]};
    ASSERT_OK(Undo(only_a));
    EXPECT_EQ(TableText(), table_before);
  }
}

// A race: while a thread keeps exchanging a directory of the rootfs with a
// symlink pointing outside, binds with mkdir and create run into it. Every
// one either fails or lands inside; nothing is ever created or mounted
// outside.
TEST(InRootVerbsTest, SymlinkExchangeRaceNeverEscapes) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  Layout l = MakeLayout("race");
  std::string dir = MakeSubdir(l.rootfs, "d");
  std::string swap = l.rootfs + "/swap";
  Symlink("../../host/etc", swap);  // outside, if it were followed naively
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop.load()) {
      ::renameat2(AT_FDCWD, dir.c_str(), AT_FDCWD, swap.c_str(),
                  RENAME_EXCHANGE);
    }
  });
  int landed = 0, refused = 0;
  for (int i = 0; i < 1500; ++i) {
    BindOptions b;
    b.root = Root(l);
    b.mkdir = true;
    b.create = true;
    std::string target = absl::StrCat("/d/sub", i % 7, "/f", i);
    absl::Status s = Bind("/dev/null", target, b);
    if (s.ok()) {
      ++landed;
      // Undo it through the same root, so the table stays small.
      UmountOptions u;
      u.root = Root(l);
      u.flags = {UmountFlag::kDetach};
      absl::Status us = Umount(target, u);
      if (!us.ok()) Cleanup(l.rootfs);
    } else {
      ++refused;
    }
    ASSERT_TRUE(MountsUnder(l.host).empty()) << "iteration " << i;
  }
  stop.store(true);
  swapper.join();
  EXPECT_EQ(Tree(l.host), l.host + "/etc\n");
  EXPECT_GT(landed, 0);
  RecordProperty("landed", landed);
  RecordProperty("refused", refused);
  Cleanup(l.top);
}

}  // namespace
}  // namespace linx
