// ReadMountInfo* against the real kernel. The privileged tests run in the
// private mount namespace of privileged_test_main, create mounts on the
// scratch tmpfs with raw ::mount and read them back.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mountinfo/mountinfo.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::IsOk;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Unmounts (MNT_DETACH) on destruction so a failing test leaves nothing.
class ScopedMount {
 public:
  ScopedMount(const std::string& source, const std::string& target,
              const char* fstype, unsigned long flags, const char* data)
      : target_(target) {
    if (::mount(source.c_str(), target.c_str(), fstype, flags, data) != 0) {
      error_ = errno;
    }
  }
  ScopedMount(ScopedMount&& o) noexcept
      : target_(std::move(o.target_)), error_(std::exchange(o.error_, -1)) {}
  ScopedMount(const ScopedMount&) = delete;
  ~ScopedMount() {
    if (error_ == 0) ::umount2(target_.c_str(), MNT_DETACH);
  }
  bool ok() const { return error_ == 0; }
  int error() const { return error_; }

 private:
  std::string target_;
  int error_ = 0;
};

#define ASSERT_MOUNTED(m) \
  ASSERT_TRUE((m).ok()) << "mount failed: " << ErrnoDescription((m).error())

std::string MkDir(const std::string& path) {
  EXPECT_EQ(::mkdir(path.c_str(), 0755), 0)
      << path << ": " << ErrnoDescription(errno);
  return path;
}

const MountEntry* FindTarget(const MountTable& t, absl::string_view target) {
  const MountEntry* found = nullptr;
  for (const MountEntry& e : t) {
    if (e.target == target) found = &e;  // the last one is on top
  }
  return found;
}

// The mount the scratch directories live on.
const MountEntry* ScratchEntry(const MountTable& t) {
  return FindTarget(t, linx::testing::ScratchRoot());
}

void ExpectDevOf(const MountEntry& e, const std::string& path) {
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
  EXPECT_EQ(e.major, major(st.st_dev)) << path;
  EXPECT_EQ(e.minor, minor(st.st_dev)) << path;
}

// ---- Unprivileged ---------------------------------------------------------

TEST(ReadMountInfoTest, ReadsOwnTableWithARoot) {
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  EXPECT_FALSE(t.empty());
  EXPECT_TRUE(t.skipped().empty());
  EXPECT_NE(FindTarget(t, "/"), nullptr);
  // Same as what the kernel gives through /proc/self for this
  // single-namespace process.
  ASSERT_OK_AND_ASSIGN(MountTable s, ReadMountInfoFile("/proc/self/mountinfo"));
  EXPECT_EQ(s.size(), t.size());
}

TEST(ReadMountInfoTest, BadPathsAreInvalidArgument) {
  EXPECT_THAT(ReadMountInfoFile(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadMountInfoFile(""), StageIs(Stage::kBadArgument));
  EXPECT_THAT(ReadMountInfoFile(absl::string_view("/proc\0/x", 8)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
  EXPECT_THAT(ReadMountInfoText(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadMountInfoOfPid(0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadMountInfoOfPid(-5), StageIs(Stage::kBadArgument));
}

TEST(ReadMountInfoTest, MissingFileIsNotFoundWithErrnoAndStage) {
  absl::StatusOr<MountTable> t = ReadMountInfoFile("/nonexistent/linx/mi");
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kNotFound,
                          HasSubstr("/nonexistent/linx/mi")));
  EXPECT_THAT(t, ErrnoIs(ENOENT));
  EXPECT_THAT(t, StageIs(Stage::kRead));
  // pid_max is at most 2^22, so INT_MAX is never a live process.
  EXPECT_THAT(ReadMountInfoOfPid(INT_MAX), ErrnoIs(ENOENT));
}

TEST(ReadMountInfoTest, ReadingADirectoryFailsWithEisdir) {
  EXPECT_THAT(ReadMountInfoFile("/"), ErrnoIs(EISDIR));
  EXPECT_THAT(ReadMountInfoFile("/"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ReadMountInfoTest, FileStrictAndLenient) {
  std::string dir = MakeScratchDir("file");
  std::string path = dir + "/mi";
  {
    std::ofstream f(path, std::ios::binary);
    f << "1 0 0:1 / / rw - t s rw\n8 1 8-1 / /x rw - t s rw\n";
  }
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfoFile(path));
  EXPECT_EQ(t.size(), 1u);
  ASSERT_EQ(t.skipped().size(), 1u);
  ReadOptions strict;
  strict.parse.strict = true;
  EXPECT_THAT(ReadMountInfoFile(path, strict),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ": mountinfo line 2, field 3 "
                                        "(major:minor): got \"8-1\"")));
  // A tiny initial buffer still reads a regular file whole.
  ReadOptions tiny;
  tiny.initial_buffer_size = 1;
  ASSERT_OK_AND_ASSIGN(std::string text, ReadMountInfoText(path, 1));
  EXPECT_EQ(text, "1 0 0:1 / / rw - t s rw\n8 1 8-1 / /x rw - t s rw\n");
  ASSERT_OK_AND_ASSIGN(MountTable again, ReadMountInfoFile(path, tiny));
  EXPECT_EQ(again.size(), 1u);
}

// ---- Bounds (ReadOptions::max_size, ParseOptions) -------------------------

TEST(ReadMountInfoBoundsTest, CharacterDevicesAreRefusedBeforeAnyRead) {
  for (const char* dev : {"/dev/zero", "/dev/urandom", "/dev/null"}) {
    SCOPED_TRACE(dev);
    absl::StatusOr<MountTable> t = ReadMountInfoFile(dev);
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("is a character device, not a file")));
    EXPECT_THAT(t, StageIs(Stage::kBadArgument));
  }
}

TEST(ReadMountInfoBoundsTest, LargerThanMaxSizeFailsWithEfbig) {
  std::string dir = MakeScratchDir("bound");
  std::string path = dir + "/mi";
  const std::string line = "1 0 0:1 / / rw - t s rw\n";
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 100; ++i) f << line;
  }
  ReadOptions exact;
  exact.max_size = 100 * line.size();
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfoFile(path, exact));
  EXPECT_EQ(t.size(), 100u);
  ReadOptions small;
  small.max_size = 100 * line.size() - 1;
  absl::StatusOr<MountTable> r = ReadMountInfoFile(path, small);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kOutOfRange,
                          HasSubstr("(ReadOptions::max_size)")));
  EXPECT_THAT(r, ErrnoIs(EFBIG));
  EXPECT_THAT(r, StageIs(Stage::kRead));
  // The same bound on a file with no size: procfs, read page by page.
  EXPECT_THAT(ReadMountInfoText("/proc/self/mountinfo", 64, 10),
              ErrnoIs(EFBIG));
  // A multi-GB sparse file is refused from its size, nothing allocated.
  std::string sparse = dir + "/sparse";
  int fd = ::open(sparse.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, off_t{8} << 30), 0);
  ::close(fd);
  EXPECT_THAT(ReadMountInfoFile(sparse), ErrnoIs(EFBIG));
}

TEST(ReadMountInfoBoundsTest, FifoWithoutWriterReadsEmptyInsteadOfBlocking) {
  std::string dir = MakeScratchDir("fifo");
  std::string path = dir + "/fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfoFile(path));
  EXPECT_TRUE(t.empty());
}

TEST(ParseMountInfoBoundsTest, EntriesSkippedLinesAndOptionalFieldsAreBounded) {
  ParseOptions two;
  two.max_entries = 2;
  const std::string three =
      "1 0 0:1 / / rw - t s rw\n"
      "2 1 0:2 / /a rw - t s rw\n"
      "3 1 0:3 / /b rw - t s rw\n";
  EXPECT_THAT(ParseMountInfo(three, two),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("line 3: more than 2 entries "
                                 "(ParseOptions::max_entries)")));
  two.max_entries = 3;
  EXPECT_THAT(ParseMountInfo(three, two), IsOk());

  ParseOptions one_bad;
  one_bad.max_skipped = 1;
  EXPECT_THAT(ParseMountInfo("x\n1 0 0:1 / / rw - t s rw\n", one_bad), IsOk());
  EXPECT_THAT(ParseMountInfo("x\ny\n", one_bad),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("(ParseOptions::max_skipped)")));

  std::string fields;
  for (size_t i = 0; i < kMaxOptionalFieldsPerLine; ++i) fields += "f ";
  absl::StatusOr<MountTable> ok =
      ParseMountInfo("1 0 0:1 / / rw " + fields + "- t s rw\n");
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->size(), 1u);
  absl::StatusOr<MountTable> over =
      ParseMountInfo("1 0 0:1 / / rw " + fields + "g - t s rw\n");
  ASSERT_THAT(over, IsOk());
  EXPECT_EQ(over->size(), 0u);
  ASSERT_EQ(over->skipped().size(), 1u);
  EXPECT_EQ(over->skipped()[0].reason, "more than 64 optional fields");
}

// ---- Privileged: real kernel output ---------------------------------------

TEST(ReadMountInfoKernelTest, HostileNamesRoundTripEveryField) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("names");
  const std::vector<std::string> names = {
      "with space",
      "with\ttab",
      "with\nnewline",
      "back\\slash",
      "#hash",
      "utf8-z\xc4\x99"
      "bowa-\xe2\x80\x9e",
      "all \t\n\\# x",
      "octal-lookalike\\040",
      "dash -",
  };
  std::vector<ScopedMount> mounts;
  for (const std::string& n : names) {
    std::string target = MkDir(dir + "/" + n);
    mounts.emplace_back("src " + n, target, "tmpfs",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0750");
    ASSERT_MOUNTED(mounts.back());
  }
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  EXPECT_TRUE(t.skipped().empty());
  const MountEntry* scratch = ScratchEntry(t);
  ASSERT_NE(scratch, nullptr);
  for (const std::string& n : names) {
    SCOPED_TRACE(n);
    const MountEntry* e = FindTarget(t, dir + "/" + n);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->parent_id, scratch->id);
    EXPECT_NE(e->id, scratch->id);
    ExpectDevOf(*e, dir + "/" + n);
    EXPECT_EQ(e->major, 0u);
    EXPECT_EQ(e->root, "/");
    EXPECT_EQ(e->vfs_options, "rw,nosuid,nodev,noexec,relatime");
    EXPECT_TRUE(e->optional_fields.empty());
    EXPECT_TRUE(e->is_private());
    EXPECT_EQ(e->fstype, "tmpfs");
    EXPECT_EQ(e->source, "src " + n);
    EXPECT_THAT(std::string(e->fs_options), StartsWith("rw,"));
    EXPECT_THAT(std::string(e->fs_options), HasSubstr("size=1024k"));
    EXPECT_THAT(std::string(e->fs_options), HasSubstr("mode=750"));
  }
  // The raw text really is escaped (the parser did the work).
  ASSERT_OK_AND_ASSIGN(std::string raw,
                       ReadMountInfoText("/proc/thread-self/mountinfo"));
  EXPECT_THAT(raw, HasSubstr("with\\040space"));
  EXPECT_THAT(raw, HasSubstr("with\\011tab"));
  EXPECT_THAT(raw, HasSubstr("with\\012newline"));
  EXPECT_THAT(raw, HasSubstr("back\\134slash"));
}

TEST(ReadMountInfoKernelTest, ReadOnlyAndEmptySource) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("ro");
  std::string target = MkDir(dir + "/m");
  ScopedMount m("", target, "tmpfs", MS_RDONLY | MS_NOATIME, "size=2m");
  ASSERT_MOUNTED(m);
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  const MountEntry* e = FindTarget(t, target);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->source, "");
  EXPECT_EQ(e->vfs_options, "ro,noatime");
  EXPECT_THAT(std::string(e->fs_options), StartsWith("ro,size=2048k"));
}

TEST(ReadMountInfoKernelTest, SharedPeersSlaveAndUnbindable) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("prop");
  std::string a = MkDir(dir + "/a"), b = MkDir(dir + "/b"),
              c = MkDir(dir + "/c"), d = MkDir(dir + "/d");
  ScopedMount ma("prop-a", a, "tmpfs", 0, nullptr);
  ASSERT_MOUNTED(ma);
  ASSERT_EQ(::mount(nullptr, a.c_str(), nullptr, MS_SHARED, nullptr), 0);
  ScopedMount mb(a, b, nullptr, MS_BIND, nullptr);  // a peer of a
  ASSERT_MOUNTED(mb);
  ScopedMount mc(a, c, nullptr, MS_BIND, nullptr);
  ASSERT_MOUNTED(mc);
  ASSERT_EQ(::mount(nullptr, c.c_str(), nullptr, MS_SLAVE, nullptr), 0);
  ScopedMount md("prop-d", d, "tmpfs", 0, nullptr);
  ASSERT_MOUNTED(md);
  ASSERT_EQ(::mount(nullptr, d.c_str(), nullptr, MS_UNBINDABLE, nullptr), 0);

  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  const MountEntry *ea = FindTarget(t, a), *eb = FindTarget(t, b),
                   *ec = FindTarget(t, c), *ed = FindTarget(t, d);
  ASSERT_TRUE(ea && eb && ec && ed);
  ASSERT_TRUE(ea->shared.has_value());
  EXPECT_EQ(eb->shared, ea->shared);
  EXPECT_FALSE(ea->master.has_value());
  EXPECT_FALSE(ec->shared.has_value());
  EXPECT_EQ(ec->master, ea->shared);
  EXPECT_EQ(ec->optional_fields.size(), 1u);
  EXPECT_EQ(ec->optional_fields[0], absl::StrCat("master:", *ea->shared));
  EXPECT_TRUE(ed->unbindable);
  EXPECT_FALSE(ed->shared.has_value());
  EXPECT_EQ(ed->optional_fields.size(), 1u);
  EXPECT_EQ(ed->optional_fields[0], "unbindable");
  EXPECT_EQ(eb->source, "prop-a");  // a bind shows the original source
  ExpectDevOf(*eb, b);
  EXPECT_EQ(ea->major, eb->major);
  EXPECT_EQ(ea->minor, eb->minor);
}

TEST(ReadMountInfoKernelTest, DeletedBindSourceAndSubdirRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("del");
  std::string src = dir + "/gone file";
  { std::ofstream(src) << "x"; }
  std::string target = dir + "/target";
  { std::ofstream(target) << ""; }
  std::string sub = MkDir(dir + "/sub dir");
  std::string subt = MkDir(dir + "/subt");
  ScopedMount m(src, target, nullptr, MS_BIND, nullptr);
  ASSERT_MOUNTED(m);
  ScopedMount ms(sub, subt, nullptr, MS_BIND, nullptr);
  ASSERT_MOUNTED(ms);
  ASSERT_EQ(::unlink(src.c_str()), 0) << ErrnoDescription(errno);
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  // Roots are relative to the filesystem: the scratch tmpfs.
  std::string rel = dir.substr(linx::testing::ScratchRoot().size());
  const MountEntry* e = FindTarget(t, target);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->root, rel + "/gone file//deleted");
  const MountEntry* es = FindTarget(t, subt);
  ASSERT_NE(es, nullptr);
  EXPECT_EQ(es->root, rel + "/sub dir");
  EXPECT_EQ(es->source, "linx-scratch");
  EXPECT_EQ(es->fstype, "tmpfs");
}

TEST(ReadMountInfoKernelTest, Overlay) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("ovl");
  std::string l1 = MkDir(dir + "/l1"), l2 = MkDir(dir + "/l2"),
              up = MkDir(dir + "/up"), wk = MkDir(dir + "/wk"),
              mnt = MkDir(dir + "/merged dir");
  std::string data =
      absl::StrCat("lowerdir=", l1, ":", l2, ",upperdir=", up, ",workdir=", wk);
  auto m =
      std::make_unique<ScopedMount>("overlay", mnt, "overlay", 0, data.c_str());
  if (!m->ok() && m->error() == ENODEV) {
    // overlay is a module on Debian; try loading it once.
    if (std::system("modprobe overlay >/dev/null 2>&1") == 0) {
      m = std::make_unique<ScopedMount>("overlay", mnt, "overlay", 0,
                                        data.c_str());
    }
  }
  if (!m->ok() && m->error() == ENODEV) {
    LINX_SKIP_OR_FAIL("overlayfs is not available (ENODEV, modprobe failed)");
  }
  ASSERT_MOUNTED(*m);
  ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo());
  const MountEntry* e = FindTarget(t, mnt);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->fstype, "overlay");
  EXPECT_EQ(e->source, "overlay");
  EXPECT_EQ(e->root, "/");
  EXPECT_EQ(e->major, 0u);
  ExpectDevOf(*e, mnt);
  EXPECT_THAT(std::string(e->fs_options),
              HasSubstr(absl::StrCat("lowerdir=", l1, ":", l2)));
  EXPECT_THAT(std::string(e->fs_options),
              HasSubstr(absl::StrCat("upperdir=", up)));
}

TEST(ReadMountInfoKernelTest, GrowthPathReadsLargeTablesWhole) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("many");
  ScopedMount base("many", dir, "tmpfs", 0, nullptr);
  ASSERT_MOUNTED(base);
  // Long names so the table is well above the default 128 KiB buffer.
  constexpr int kMounts = 1200;
  std::string pad(100, 'p');
  std::vector<ScopedMount> mounts;
  mounts.reserve(kMounts);
  for (int i = 0; i < kMounts; ++i) {
    std::string target = MkDir(absl::StrCat(dir, "/", pad, i));
    mounts.emplace_back(absl::StrCat("m", i), target, "tmpfs", 0, nullptr);
    ASSERT_MOUNTED(mounts.back());
  }
  for (size_t initial : {size_t{1}, size_t{4096}, size_t{128 * 1024}}) {
    SCOPED_TRACE(initial);
    ReadOptions opts;
    opts.initial_buffer_size = initial;
    ASSERT_OK_AND_ASSIGN(MountTable t, ReadMountInfo(opts));
    ASSERT_OK_AND_ASSIGN(
        std::string raw,
        ReadMountInfoText("/proc/thread-self/mountinfo", initial));
    EXPECT_GT(raw.size(), 128u * 1024);
    int found = 0;
    for (const MountEntry& e : t) {
      if (absl::StartsWith(e.target, dir + "/" + pad)) {
        ++found;
        EXPECT_EQ(e.source, absl::StrCat("m", e.target.substr(dir.size() + 1 +
                                                              pad.size())));
      }
    }
    EXPECT_EQ(found, kMounts);
    EXPECT_TRUE(t.skipped().empty());
  }
}

TEST(ReadMountInfoKernelTest, PidTableOfChildInItsOwnNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("pid");
  std::string shared = MkDir(dir + "/shared");
  std::string priv = MkDir(dir + "/private");
  ScopedMount ms("pid-shared", shared, "tmpfs", 0, nullptr);
  ASSERT_MOUNTED(ms);
  ASSERT_EQ(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), 0);
  ASSERT_EQ(::mkdir((shared + "/later").c_str(), 0755), 0);

  // A child parked in a copy of our namespace that keeps the propagation,
  // where `shared` becomes a slave and a tmpfs is mounted at `priv`.
  testing::ParkedChild::Options po;
  po.new_pid_namespace = false;
  po.keep_propagation = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testing::ParkedChild> child,
                       testing::ParkedChild::Spawn(std::move(po)));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK(RunIn(ns, "setup", [&]() -> absl::Status {
    if (::mount(nullptr, shared.c_str(), nullptr, MS_SLAVE, nullptr) != 0) {
      return ErrnoToStatus(errno, "make slave");
    }
    if (::mount("child-only", priv.c_str(), "tmpfs", 0, nullptr) != 0) {
      return ErrnoToStatus(errno, "mount child-only");
    }
    return absl::OkStatus();
  }));
  // A mount made now under the shared mount propagates into the child's
  // slave copy.
  ScopedMount later("propagated", shared + "/later", "tmpfs", 0, nullptr);
  ASSERT_MOUNTED(later);

  ASSERT_OK_AND_ASSIGN(MountTable mine, ReadMountInfo());
  ASSERT_OK_AND_ASSIGN(MountTable theirs, ReadMountInfoOfPid(child->pid()));
  const MountEntry* my_shared = FindTarget(mine, shared);
  ASSERT_NE(my_shared, nullptr);
  ASSERT_TRUE(my_shared->shared.has_value());
  EXPECT_EQ(FindTarget(mine, priv), nullptr) << "child's mount leaked to us";

  const MountEntry* their_shared = FindTarget(theirs, shared);
  ASSERT_NE(their_shared, nullptr);
  EXPECT_FALSE(their_shared->shared.has_value());
  EXPECT_EQ(their_shared->master, my_shared->shared);
  const MountEntry* their_priv = FindTarget(theirs, priv);
  ASSERT_NE(their_priv, nullptr);
  EXPECT_EQ(their_priv->source, "child-only");
  const MountEntry* their_later = FindTarget(theirs, shared + "/later");
  ASSERT_NE(their_later, nullptr);
  EXPECT_EQ(their_later->source, "propagated");
  EXPECT_EQ(their_later->parent_id, their_shared->id);
  // Mount IDs are global across namespaces: the child's copies are new.
  EXPECT_NE(their_shared->id, my_shared->id);
}

TEST(ReadMountInfoKernelTest, ThreadSelfFollowsTheCallingThread) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  // A worker that unshares its own mount namespace sees its own mounts
  // through ReadMountInfo(); the caller does not.
  std::string dir = MakeScratchDir("thread");
  std::string target = MkDir(dir + "/t");
  bool worker_saw = false;
  std::string worker_error;
  std::thread worker([&] {
    if (::unshare(CLONE_FS | CLONE_NEWNS) != 0) {
      worker_error = ErrnoDescription(errno);
      return;
    }
    if (::mount("worker-only", target.c_str(), "tmpfs", 0, nullptr) != 0) {
      worker_error = ErrnoDescription(errno);
      return;
    }
    absl::StatusOr<MountTable> t = ReadMountInfo();
    worker_saw = t.ok() && FindTarget(*t, target) != nullptr &&
                 FindTarget(*t, target)->source == "worker-only";
  });
  worker.join();
  ASSERT_EQ(worker_error, "");
  EXPECT_TRUE(worker_saw);
  ASSERT_OK_AND_ASSIGN(MountTable mine, ReadMountInfo());
  EXPECT_EQ(FindTarget(mine, target), nullptr);
}

}  // namespace
}  // namespace linx
