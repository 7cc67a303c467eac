// Privileged tests for in-root resolution: a hostile-root corpus, each case
// run with every combination of mkdir/create_file and on both resolution
// paths (openat2, and the component walk forced by the test hook). Every
// case runs in the private mount namespace of privileged_test_main on a
// scratch tmpfs; the "host" beside each root is its own tmpfs, and a scan of
// everything outside the root proves nothing was created there.
#include "mount/in_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/internal/in_root_hooks.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::IsOk;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::ScopedMounts;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::HasSubstr;

// ---- helpers ---------------------------------------------------------------

// path → "type mode size [mtime]" for everything under `dir` (not crossing
// into other mounts when `same_fs`), `dir` itself as "".
using Tree = std::map<std::string, std::string>;

void Scan(const std::string& dir, const std::string& rel, bool mtimes,
          bool same_fs, dev_t dev, const std::vector<std::string>& skip,
          Tree* out) {
  struct stat st {};
  std::string full = rel.empty() ? dir : absl::StrCat(dir, "/", rel);
  if (::lstat(full.c_str(), &st) != 0) {
    (*out)[rel] = absl::StrCat("lstat failed: ", ErrnoName(errno));
    return;
  }
  std::string v = absl::StrCat(st.st_mode, " ", st.st_size, " ", st.st_ino);
  if (mtimes)
    absl::StrAppend(&v, " ", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
  (*out)[rel] = v;
  if (!S_ISDIR(st.st_mode)) return;
  if (same_fs && st.st_dev != dev) return;
  DIR* d = ::opendir(full.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child = rel.empty() ? name : absl::StrCat(rel, "/", name);
    bool skipped = false;
    for (const std::string& s : skip) skipped |= (child == s);
    if (skipped) continue;
    Scan(dir, child, mtimes, same_fs, dev, skip, out);
  }
  ::closedir(d);
}

std::string Dump(const Tree& t) {
  std::string out;
  for (const auto& [k, v] : t) absl::StrAppend(&out, "  /", k, ": ", v, "\n");
  return out;
}

// One throwaway world: <dir>/root (the untrusted root, on the scratch tmpfs)
// and <dir>/host (a tmpfs of its own, with sentinels), plus <dir> itself.
class World {
 public:
  World() {
    dir_ = MakeScratchDir("inroot");
    root_ = absl::StrCat(dir_, "/root");
    host_ = absl::StrCat(dir_, "/host");
    EXPECT_EQ(::mkdir(root_.c_str(), 0755), 0);
    EXPECT_EQ(::mkdir(host_.c_str(), 0755), 0);
    mounts_.Mount("linx-host", host_, "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755,size=4m");
    for (const char* d : {"etc", "dev", "sub"}) {
      EXPECT_EQ(::mkdir(absl::StrCat(host_, "/", d).c_str(), 0755), 0);
    }
    for (const char* f : {"etc/passwd", "dev/null", "sub/file"}) {
      EXPECT_TRUE(Write(absl::StrCat(host_, "/", f), "host sentinel"));
    }
  }

  const std::string& dir() const { return dir_; }
  const std::string& root() const { return root_; }
  const std::string& host() const { return host_; }
  ScopedMounts& mounts() { return mounts_; }

  // "@HOST@" → the host's absolute path, "@ROOT@" → the root's.
  std::string Expand(absl::string_view s) const {
    return absl::StrReplaceAll(s, {{"@HOST@", host_}, {"@ROOT@", root_}});
  }

  // Builds the root from "d:path", "f:path", "l:path=target",
  // "proc:path" (a bind of the real /proc), "tmpfs:path".
  void Build(const std::vector<std::string>& ops) {
    for (const std::string& raw : ops) {
      std::string op = Expand(raw);
      size_t colon = op.find(':');
      ASSERT_NE(colon, std::string::npos) << op;
      std::string kind = op.substr(0, colon);
      std::string arg = op.substr(colon + 1);
      if (kind == "l") {
        size_t eq = arg.find('=');
        ASSERT_NE(eq, std::string::npos) << op;
        std::string at = absl::StrCat(root_, "/", arg.substr(0, eq));
        ASSERT_EQ(::symlink(arg.substr(eq + 1).c_str(), at.c_str()), 0)
            << at << ": " << ErrnoDescription(errno);
        continue;
      }
      std::string at = absl::StrCat(root_, "/", arg);
      if (kind == "d") {
        MkdirAll(at);
      } else if (kind == "f") {
        ASSERT_TRUE(Write(at, "root file")) << at;
      } else if (kind == "proc") {
        MkdirAll(at);
        mounts_.Mount("/proc", at, nullptr, MS_BIND | MS_REC);
      } else if (kind == "tmpfs") {
        MkdirAll(at);
        mounts_.Mount("linx-inner", at, "tmpfs", 0, "size=1m");
      } else {
        FAIL() << "unknown op " << op;
      }
    }
  }

  // Everything outside the root: <dir> and <host> with mtimes.
  Tree Outside() const {
    Tree t;
    struct stat st {};
    ::lstat(dir_.c_str(), &st);
    Scan(dir_, "", /*mtimes=*/true, /*same_fs=*/false, st.st_dev, {"root"}, &t);
    return t;
  }
  // The root's own tree (no mtimes, not into mounts).
  Tree Inside() const {
    Tree t;
    struct stat st {};
    ::lstat(root_.c_str(), &st);
    Scan(root_, "", /*mtimes=*/false, /*same_fs=*/true, st.st_dev, {}, &t);
    return t;
  }

  static bool Write(const std::string& path, const std::string& content) {
    UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    return fd.valid() && ::write(fd.get(), content.data(), content.size()) ==
                             static_cast<ssize_t>(content.size());
  }
  static void MkdirAll(const std::string& path) {
    std::string cur;
    for (absl::string_view part :
         absl::StrSplit(path, '/', absl::SkipEmpty())) {
      absl::StrAppend(&cur, "/", part);
      ::mkdir(cur.c_str(), 0755);
    }
  }

 private:
  std::string dir_, root_, host_;
  ScopedMounts mounts_;
};

// Proves, independently of in_root.cc, that `fd` is the object at
// root + canonical, and that this path has no symlink component.
void ExpectIsInRootObject(const std::string& root, const std::string& canon,
                          int fd) {
  ASSERT_FALSE(canon.empty());
  ASSERT_EQ(canon.front(), '/') << canon;
  std::string cur = root;
  for (absl::string_view part : absl::StrSplit(canon, '/', absl::SkipEmpty())) {
    ASSERT_NE(part, ".") << canon;
    ASSERT_NE(part, "..") << canon;
    absl::StrAppend(&cur, "/", part);
    struct stat st {};
    ASSERT_EQ(::lstat(cur.c_str(), &st), 0) << cur;
    ASSERT_FALSE(S_ISLNK(st.st_mode)) << cur << " is a symlink";
  }
  struct stat want {
  }, got{};
  ASSERT_EQ(::stat(cur.c_str(), &want), 0) << cur;
  ASSERT_EQ(::fstat(fd, &got), 0);
  EXPECT_EQ(got.st_dev, want.st_dev) << cur;
  EXPECT_EQ(got.st_ino, want.st_ino) << cur;
}

// ---- the corpus ------------------------------------------------------------

struct Want {
  int err;           // 0: success
  std::string path;  // canonical path on success
};
Want Ok(std::string p) { return {0, std::move(p)}; }
Want Err(int e) { return {e, ""}; }

struct Case {
  std::string name;
  std::vector<std::string> setup;
  std::string path;
  // Outcome without options, with mkdir, with create_file, with both.
  Want plain, mkdir, create, both;
};

std::vector<Case> Corpus() {
  std::vector<Case> c;
  auto all = [](Want w) { return std::vector<Want>{w, w, w, w}; };
  auto add = [&](std::string name, std::vector<std::string> setup,
                 std::string path, std::vector<Want> w) {
    c.push_back({std::move(name), std::move(setup), std::move(path), w[0], w[1],
                 w[2], w[3]});
  };
  // Symlinks out of the root: absolute, to the host's real path.
  add("abs_link_to_host_path", {"l:dev=@HOST@/etc"}, "/dev/null",
      all(Err(ENOENT)));
  add("abs_link_to_root_host_path", {"d:etc", "l:cfg=@ROOT@/etc"}, "cfg/x",
      all(Err(ENOENT)));
  add("abs_link_last_component", {"d:dev", "l:dev/null=@HOST@/dev/null"},
      "/dev/null", all(Err(ENOENT)));
  // Relative symlinks climbing out: clamped at the root.
  add("rel_link_up_to_host", {"l:dev=../host/etc"}, "dev/null",
      all(Err(ENOENT)));
  add("rel_link_far_up", {"l:dev=../../../../../../../../host/etc"}, "dev/null",
      all(Err(ENOENT)));
  add("rel_link_up_lands_in_root", {"d:host/etc", "l:dev=../host/etc"},
      "dev/null",
      {Err(ENOENT), Ok("/host/etc/null"), Ok("/host/etc/null"),
       Ok("/host/etc/null")});
  // ".." chains in the path itself.
  add("dotdot_chain", {}, "../../../host/etc/passwd",
      {Err(ENOENT), Ok("/host/etc/passwd"), Err(ENOENT),
       Ok("/host/etc/passwd")});
  add("dotdot_only", {}, "../../..", all(Ok("/")));
  add("dotdot_after_link", {"d:a/b/c", "l:x=a/b/c"}, "x/../../../..",
      all(Ok("/")));
  add("dotdot_after_link_lands", {"d:a/b/c", "l:x=a/b/c"}, "x/..",
      all(Ok("/a/b")));
  add("link_full_of_dotdot", {"d:etc", "l:up=../../../../../.."}, "up/etc",
      all(Ok("/etc")));
  // Loops and long chains.
  add("loop", {"l:l1=l2", "l:l2=l1"}, "l1", all(Err(ELOOP)));
  add("self_loop", {"l:s=s"}, "s/x", all(Err(ELOOP)));
  {
    std::vector<std::string> s40{"d:target"}, s41{"d:target"};
    for (int i = 0; i < 40; ++i) {
      s40.push_back(absl::StrCat(
          "l:c", i, "=", i == 39 ? "target" : absl::StrCat("c", i + 1)));
    }
    for (int i = 0; i < 41; ++i) {
      s41.push_back(absl::StrCat(
          "l:c", i, "=", i == 40 ? "target" : absl::StrCat("c", i + 1)));
    }
    add("chain_of_40_resolves", s40, "c0", all(Ok("/target")));
    add("chain_of_41_is_eloop", s41, "c0", all(Err(ELOOP)));
  }
  // Dangling links: never created through.
  add("dangling", {"l:dangle=nowhere"}, "dangle", all(Err(ENOENT)));
  add("dangling_parent", {"l:dangle=nowhere"}, "dangle/x", all(Err(ENOENT)));
  add("dangling_abs_to_host_newdir", {"l:etc=@HOST@/newdir"}, "etc/x",
      all(Err(ENOENT)));
  add("dangling_into_existing_dir", {"d:etc", "l:cfg=etc/missing"}, "cfg",
      all(Err(ENOENT)));
  // Magic links, through a bind of the real /proc inside the root.
  add("magic_proc_self_root", {"proc:proc"}, "/proc/self/root/etc",
      all(Err(ELOOP)));
  add("magic_proc_self_cwd", {"proc:proc"}, "/proc/self/cwd", all(Err(ELOOP)));
  add("magic_proc_self_fd", {"proc:proc"}, "/proc/self/fd/0/x",
      all(Err(ELOOP)));
  add("magic_proc_1_root", {"proc:proc"}, "/proc/1/root/etc/passwd",
      all(Err(ELOOP)));
  add("magic_planted_link", {"proc:proc", "l:esc=/proc/self/root"},
      "esc/etc/passwd", all(Err(ELOOP)));
  add("magic_planted_fd_link",
      {"proc:proc", "d:dev", "l:dev/null=/proc/self/fd/2"}, "/dev/null",
      all(Err(ELOOP)));
  add("magic_planted_without_proc", {"l:esc=/proc/self/root"}, "esc/etc",
      all(Err(ENOENT)));
  // A /proc that is a tmpfs with procfs-looking links: plain symlinks,
  // resolved inside the root like any other.
  add("fake_proc_tmpfs",
      {"tmpfs:proc", "d:proc/self", "d:etc", "l:proc/self/root=../../.."},
      "/proc/self/root/etc", all(Ok("/etc")));
  // A target that is a symlink to a host device.
  add("link_to_host_device", {"d:dev", "l:dev/console=/dev/null"},
      "/dev/console", all(Err(ENOENT)));
  add("rel_link_to_host_device",
      {"d:dev", "l:dev/console=../../../../../../dev/null"}, "/dev/console",
      all(Err(ENOENT)));
  add("link_to_device_lands_on_root_file",
      {"d:dev", "f:dev/null", "l:dev/console=/dev/null"}, "/dev/console",
      all(Ok("/dev/null")));
  // Legitimate in-root symlinks.
  add("usrmerge_relative", {"d:usr/lib", "l:lib=usr/lib"}, "/lib/x",
      {Err(ENOENT), Ok("/usr/lib/x"), Ok("/usr/lib/x"), Ok("/usr/lib/x")});
  add("usrmerge_absolute", {"d:usr/lib", "l:lib64=/usr/lib"}, "lib64",
      all(Ok("/usr/lib")));
  add("link_in_subdir_with_dotdot", {"d:a/c", "l:a/b=../a/c"}, "a/b",
      all(Ok("/a/c")));
  add("link_to_slash", {"l:r=/"}, "r/r/r", all(Ok("/")));
  add("mount_inside_root", {"tmpfs:mnt", "d:etc"}, "mnt/../etc",
      all(Ok("/etc")));
  add("create_on_inner_mount", {"tmpfs:mnt"}, "mnt/x",
      {Err(ENOENT), Ok("/mnt/x"), Ok("/mnt/x"), Ok("/mnt/x")});
  // Shapes of the path itself.
  add("root_itself", {}, "/", all(Ok("/")));
  add("dot", {}, ".", all(Ok("/")));
  add("separators", {"d:a/b"}, "//a/./b//", all(Ok("/a/b")));
  add("relative_and_absolute_agree", {"d:a/b"}, "a/b", all(Ok("/a/b")));
  add("file_in_middle", {"f:file"}, "file/x", all(Err(ENOTDIR)));
  add("trailing_slash_on_file", {"f:file"}, "file/", all(Err(ENOTDIR)));
  add("existing_dir_kept", {"d:a"}, "a", all(Ok("/a")));
  add("existing_file_kept", {"f:a"}, "a", all(Ok("/a")));
  add("missing_deep", {}, "a/b/c",
      {Err(ENOENT), Ok("/a/b/c"), Err(ENOENT), Ok("/a/b/c")});
  return c;
}

class InRootCorpusTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { mount_internal::SetForceNoOpenat2(GetParam()); }
  void TearDown() override { mount_internal::SetForceNoOpenat2(false); }
};

TEST_P(InRootCorpusTest, NothingEscapesAndEveryCaseLandsWhereExpected) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  int checked = 0;
  for (const Case& kase : Corpus()) {
    for (int variant = 0; variant < 4; ++variant) {
      InRootOptions opts;
      opts.mkdir = (variant & 1) != 0;
      opts.create_file = (variant & 2) != 0;
      const Want& want = variant == 0   ? kase.plain
                         : variant == 1 ? kase.mkdir
                         : variant == 2 ? kase.create
                                        : kase.both;
      SCOPED_TRACE(absl::StrCat(kase.name, " path=\"", kase.path, "\" mkdir=",
                                opts.mkdir, " create_file=", opts.create_file,
                                GetParam() ? " [walk]" : " [openat2]"));
      World w;
      ASSERT_NO_FATAL_FAILURE(w.Build(kase.setup));
      Tree outside_before = w.Outside();
      Tree inside_before = w.Inside();
      ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));

      absl::StatusOr<InRootPath> r =
          ResolveInRoot(root.get(), w.Expand(kase.path), opts);
      if (want.err != 0) {
        EXPECT_THAT(r, ErrnoIs(want.err));
        EXPECT_THAT(r, StageIs(Stage::kResolve));
        if (!r.ok()) {
          EXPECT_THAT(std::string(r.status().message()),
                      HasSubstr(absl::StrCat("in root \"", w.root(), "\"")));
        }
        // A failed call leaves the root as it was.
        EXPECT_EQ(Dump(w.Inside()), Dump(inside_before));
      } else {
        ASSERT_THAT(r, IsOk());
        EXPECT_EQ(r->path, want.path);
        ExpectIsInRootObject(w.root(), r->path, r->fd.get());
        EXPECT_OK(CheckInsideRoot(root.get(), r->fd.get()));
        for (const Created& c : r->created) {
          struct stat st {};
          std::string at = w.root() + c.path;
          ASSERT_EQ(::lstat(at.c_str(), &st), 0) << at;
          EXPECT_EQ(S_ISDIR(st.st_mode), c.directory) << at;
          EXPECT_EQ(S_ISREG(st.st_mode), !c.directory) << at;
        }
        if (!r->created.empty()) {
          EXPECT_EQ(r->created.back().path, r->path);
          EXPECT_EQ(r->created.back().directory, !opts.create_file);
        }
        RemoveCreated(root.get(), r->created);
        EXPECT_EQ(Dump(w.Inside()), Dump(inside_before))
            << "RemoveCreated did not restore the root";
      }
      EXPECT_EQ(Dump(w.Outside()), Dump(outside_before))
          << "something changed outside the root";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * static_cast<int>(Corpus().size()));
}

TEST_P(InRootCorpusTest, BadInputIsInvalidArgument) {
  // Needs no privilege: the argument is refused before any syscall.
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root.valid());
  const std::string cases[] = {"", std::string("a\0b", 3),
                               std::string(PATH_MAX, 'a')};
  for (const std::string& p : cases) {
    SCOPED_TRACE(p.size());
    for (bool mkdir : {false, true}) {
      InRootOptions opts;
      opts.mkdir = mkdir;
      absl::StatusOr<InRootPath> r = ResolveInRoot(root.get(), p, opts);
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
      EXPECT_THAT(r, StageIs(Stage::kBadArgument));
    }
    EXPECT_THAT(OpenRoot(p), StageIs(Stage::kBadArgument));
  }
  EXPECT_STREQ(StageName(Stage::kResolve), "resolve");
}

// The deepest path that fits is resolved (and created); a symlink that makes
// the resolved path longer than PATH_MAX is ENAMETOOLONG with nothing left
// behind, and no more than ~PATH_MAX/2 fds are ever held.
TEST_P(InRootCorpusTest, DeepPathsAreBoundedByPathMax) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  std::string d, e;  // 2000 bytes each
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&d, "/d");
    absl::StrAppend(&e, "/e");
  }
  ASSERT_NO_FATAL_FAILURE(
      w.Build({absl::StrCat("d:", d), absl::StrCat("l:twice=", d.substr(1))}));
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  Tree before = w.Inside();
  InRootOptions opts;
  opts.mkdir = true;
  ASSERT_OK_AND_ASSIGN(InRootPath r, ResolveInRoot(root.get(), e, opts));
  EXPECT_EQ(r.path, e);
  EXPECT_EQ(r.created.size(), 1000u);
  ExpectIsInRootObject(w.root(), r.path, r.fd.get());
  RemoveCreated(root.get(), r.created);
  EXPECT_EQ(Dump(w.Inside()), Dump(before));
  // 4005 bytes as given, 6000 once the link is expanded: the walk creates
  // what fits, fails, and removes it all again.
  absl::StatusOr<InRootPath> too_long =
      ResolveInRoot(root.get(), absl::StrCat("twice", e, e), opts);
  EXPECT_THAT(too_long, ErrnoIs(ENAMETOOLONG));
  EXPECT_EQ(Dump(w.Inside()), Dump(before));
}

TEST_P(InRootCorpusTest, ErrorNamesPathRootAndComponent) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_NO_FATAL_FAILURE(w.Build({"l:dev=../host/etc"}));
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  InRootOptions opts;
  opts.mkdir = true;
  opts.create_file = true;
  absl::StatusOr<InRootPath> r = ResolveInRoot(root.get(), "dev/null", opts);
  ASSERT_THAT(r, ErrnoIs(ENOENT));
  std::string msg(r.status().message());
  EXPECT_THAT(msg, HasSubstr("resolve \"dev/null\""));
  EXPECT_THAT(msg, HasSubstr(absl::StrCat("in root \"", w.root(), "\"")));
  EXPECT_THAT(msg, HasSubstr("(component \"host\")"));
  EXPECT_THAT(msg, HasSubstr("dangling symlink"));
  std::optional<OpError> e = GetOpError(r.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->operation, "resolve");
  EXPECT_EQ(e->value, "dev/null");
}

TEST_P(InRootCorpusTest, OpenRootOfMissingDirFailsWithEnoent) {
  EXPECT_THAT(OpenRoot("/nonexistent-linx-root/x"), ErrnoIs(ENOENT));
  EXPECT_THAT(OpenRoot("/proc/self/status"), ErrnoIs(ENOTDIR));
}

// ---- RemoveCreated
// -----------------------------------------------------------

TEST_P(InRootCorpusTest, RemoveCreatedNeverFollowsASwappedInSymlink) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  InRootOptions opts;
  opts.mkdir = true;
  opts.create_file = true;
  ASSERT_OK_AND_ASSIGN(InRootPath r,
                       ResolveInRoot(root.get(), "a/sub/file", opts));
  ASSERT_EQ(r.created.size(), 3u);
  EXPECT_EQ(r.created[0].path, "/a");
  EXPECT_EQ(r.created[1].path, "/a/sub");
  EXPECT_EQ(r.created[2].path, "/a/sub/file");
  // The image replaces /a by a symlink to the host, whose sub/file exists.
  std::string a = w.root() + "/a";
  ASSERT_EQ(::rename(a.c_str(), (w.root() + "/moved").c_str()), 0);
  ASSERT_EQ(::symlink(w.host().c_str(), a.c_str()), 0);
  Tree outside = w.Outside();
  RemoveCreated(root.get(), r.created);
  EXPECT_EQ(Dump(w.Outside()), Dump(outside));
  struct stat st {};
  EXPECT_EQ(::lstat((w.host() + "/sub/file").c_str(), &st), 0);
  // The symlink at /a is not a directory: left alone too.
  EXPECT_EQ(::lstat(a.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(InRootCorpusTest, RemoveCreatedKeepsANonEmptyDirectory) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  InRootOptions opts;
  opts.mkdir = true;
  ASSERT_OK_AND_ASSIGN(InRootPath r, ResolveInRoot(root.get(), "/a/b", opts));
  ASSERT_TRUE(World::Write(w.root() + "/a/keep", "x"));
  RemoveCreated(root.get(), r.created);
  struct stat st {};
  EXPECT_NE(::lstat((w.root() + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(::lstat((w.root() + "/a/keep").c_str(), &st), 0);
}

TEST_P(InRootCorpusTest, RemoveCreatedLeavesASameNamedReplacement) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  InRootOptions opts;
  opts.mkdir = true;
  opts.create_file = true;
  ASSERT_OK_AND_ASSIGN(InRootPath r, ResolveInRoot(root.get(), "d/f", opts));
  ASSERT_EQ(r.created.size(), 2u);
  struct stat made {};
  ASSERT_EQ(::fstat(r.fd.get(), &made), 0);
  EXPECT_EQ(r.created[1].ino, made.st_ino);
  EXPECT_EQ(r.created[1].dev, made.st_dev);
  // The image replaces the file by one of its own under the same name.
  std::string f = w.root() + "/d/f";
  ASSERT_EQ(::rename(f.c_str(), (w.root() + "/moved").c_str()), 0);
  ASSERT_TRUE(World::Write(f, "image's own"));
  RemoveCreated(root.get(), r.created);
  struct stat st {};
  EXPECT_EQ(::lstat(f.c_str(), &st), 0) << "removed a file it did not make";
  EXPECT_EQ(::lstat((w.root() + "/d").c_str(), &st), 0);
}

// The two paths differ on purpose in one place: /proc/self is a plain
// procfs symlink that openat2(RESOLVE_NO_MAGICLINKS) follows, while the walk
// refuses every procfs symlink. This also proves which path ran.
TEST_P(InRootCorpusTest, ProcSelfIsFollowedByOpenat2AndRefusedByTheWalk) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_NO_FATAL_FAILURE(w.Build({"proc:proc"}));
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  absl::StatusOr<InRootPath> r =
      ResolveInRoot(root.get(), "/proc/self/mountinfo", {});
  if (GetParam()) {
    EXPECT_THAT(r, ErrnoIs(ELOOP));
    if (!r.ok()) {
      EXPECT_THAT(std::string(r.status().message()),
                  HasSubstr("(component \"self\")"));
    }
  } else {
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->path, absl::StrCat("/proc/", ::getpid(), "/mountinfo"));
    ExpectIsInRootObject(w.root(), r->path, r->fd.get());
  }
}

// Container seccomp profiles often answer openat2 with EPERM. ResolveInRoot
// must then walk instead, with the same results. The filter is installed on
// a throwaway thread only (seccomp filters are per thread without TSYNC).
TEST(InRootSeccompTest, Openat2RefusedWithEpermFallsBackToTheWalk) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_NO_FATAL_FAILURE(
      w.Build({"d:usr/lib", "l:lib=usr/lib", "l:esc=../host"}));
  Tree outside = w.Outside();
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  int probe_errno = 0;
  absl::StatusOr<InRootPath> landed = absl::UnknownError("not run");
  absl::StatusOr<InRootPath> escaped = absl::UnknownError("not run");
  std::thread t([&] {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      probe_errno = -errno;
      return;
    }
    sys::OpenHow how;
    how.flags = O_PATH | O_CLOEXEC;
    if (sys::Openat2(root.get(), ".", &how) < 0) probe_errno = errno;
    InRootOptions opts;
    opts.mkdir = true;
    landed = ResolveInRoot(root.get(), "lib/x", opts);
    escaped = ResolveInRoot(root.get(), "esc/sub/x", opts);
  });
  t.join();
  ASSERT_EQ(probe_errno, EPERM) << "the filter did not refuse openat2";
  ASSERT_THAT(landed, IsOk());
  EXPECT_EQ(landed->path, "/usr/lib/x");
  ExpectIsInRootObject(w.root(), landed->path, landed->fd.get());
  EXPECT_THAT(escaped, ErrnoIs(ENOENT));
  EXPECT_EQ(Dump(w.Outside()), Dump(outside));
}

// ---- CheckInsideRoot
// -----------------------------------------------------------

UniqueFd OpenPath(const std::string& p) {
  return UniqueFd(::open(p.c_str(), O_PATH | O_CLOEXEC));
}

TEST_P(InRootCorpusTest, CheckInsideRootAcceptsWhatIsUnderTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_NO_FATAL_FAILURE(w.Build({"d:a/b", "f:a/file", "tmpfs:mnt",
                                   "d:mnt/deep", "f:bindme", "d:binddir"}));
  w.mounts().Mount(w.host() + "/etc/passwd", w.root() + "/bindme", nullptr,
                   MS_BIND);
  w.mounts().Mount(w.host() + "/sub", w.root() + "/binddir", nullptr, MS_BIND);
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  for (const char* p : {"", "/a", "/a/b", "/a/file", "/mnt", "/mnt/deep",
                        "/bindme", "/binddir", "/binddir/file"}) {
    SCOPED_TRACE(p);
    UniqueFd fd = OpenPath(w.root() + p);
    ASSERT_TRUE(fd.valid());
    EXPECT_OK(CheckInsideRoot(root.get(), fd.get()));
  }
}

TEST_P(InRootCorpusTest, CheckInsideRootRefusesWhatIsOutside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  ASSERT_NO_FATAL_FAILURE(w.Build({"d:a/b"}));
  std::string out = w.dir() + "/out";
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  // The same directory, bind-mounted outside: same dev/ino, other mount.
  w.mounts().Mount(w.root() + "/a", out, nullptr, MS_BIND);
  ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
  for (std::string p : {w.host(), w.host() + "/etc", w.host() + "/etc/passwd",
                        w.dir(), out, out + "/b", std::string("/")}) {
    SCOPED_TRACE(p);
    UniqueFd fd = OpenPath(p);
    ASSERT_TRUE(fd.valid());
    absl::Status s = CheckInsideRoot(root.get(), fd.get());
    EXPECT_THAT(s, ErrnoIs(EXDEV));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(s, StageIs(Stage::kResolve));
  }
  // A detached copy of a subtree of the root is not under the root.
  UniqueFd tree(sys::OpenTree(AT_FDCWD, (w.root() + "/a").c_str(),
                              sys::kOpenTreeClone | O_CLOEXEC));
  ASSERT_TRUE(tree.valid()) << ErrnoDescription(errno);
  EXPECT_THAT(CheckInsideRoot(root.get(), tree.get()), ErrnoIs(EXDEV));
}

// ---- mounting onto what was resolved
// -----------------------------------------

// The CVE-2021-30465 shape end to end: resolve the target, then let the
// image swap a directory on the way for a symlink to the host, then mount.
// A mount made onto the fd (move_mount with MOVE_MOUNT_T_EMPTY_PATH, or
// mount(2) onto ProcFdPath) lands where the fd is: inside the root.
TEST_P(InRootCorpusTest, MountOntoTheResolvedFdIgnoresALaterSwap) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  for (bool use_proc_path : {false, true}) {
    SCOPED_TRACE(use_proc_path ? "mount(2) onto ProcFdPath" : "move_mount");
    World w;
    ASSERT_NO_FATAL_FAILURE(w.Build({"d:dev"}));
    ASSERT_TRUE(World::Write(w.dir() + "/payload", "payload"));
    ASSERT_OK_AND_ASSIGN(UniqueFd root, OpenRoot(w.root()));
    InRootOptions opts;
    opts.create_file = true;
    ASSERT_OK_AND_ASSIGN(InRootPath target,
                         ResolveInRoot(root.get(), "/dev/null", opts));
    // The swap: root/dev moves to root/dev2, root/dev -> ../host/dev.
    ASSERT_EQ(
        ::rename((w.root() + "/dev").c_str(), (w.root() + "/dev2").c_str()), 0);
    ASSERT_EQ(::symlink("../host/dev", (w.root() + "/dev").c_str()), 0);
    Tree outside = w.Outside();
    if (use_proc_path) {
      ASSERT_OK_AND_ASSIGN(std::string p, ProcFdPath(target.fd.get()));
      ASSERT_EQ(::mount((w.dir() + "/payload").c_str(), p.c_str(), nullptr,
                        MS_BIND, nullptr),
                0)
          << ErrnoDescription(errno);
    } else {
      UniqueFd tree(sys::OpenTree(AT_FDCWD, (w.dir() + "/payload").c_str(),
                                  sys::kOpenTreeClone | O_CLOEXEC));
      ASSERT_TRUE(tree.valid()) << ErrnoDescription(errno);
      ASSERT_EQ(
          sys::MoveMount(tree.get(), "", target.fd.get(), "",
                         sys::kMoveMountFEmptyPath | sys::kMoveMountTEmptyPath),
          0)
          << ErrnoDescription(errno);
    }
    std::string landed = w.root() + "/dev2/null";
    // The new mount is on the in-root file: reading it gives the payload.
    char buf[16] = {};
    UniqueFd rd(::open(landed.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(rd.valid());
    EXPECT_EQ(::read(rd.get(), buf, sizeof(buf) - 1), 7);
    EXPECT_STREQ(buf, "payload");
    // The post-mount check accepts the new mount point.
    UniqueFd mp(::open(landed.c_str(), O_PATH | O_CLOEXEC));
    EXPECT_OK(CheckInsideRoot(root.get(), mp.get()));
    // The host's dev/null is untouched and not a mount point.
    EXPECT_EQ(Dump(w.Outside()), Dump(outside));
    char hb[32] = {};
    UniqueFd hn(::open((w.host() + "/dev/null").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(hn.valid());
    EXPECT_EQ(::read(hn.get(), hb, sizeof(hb) - 1), 13);
    EXPECT_STREQ(hb, "host sentinel");
    EXPECT_EQ(::umount2(landed.c_str(), MNT_DETACH), 0);
  }
}

// ---- ProcFdPath
// ----------------------------------------------------------------

// Runs `fn` on a thread with a mount namespace of its own (unshare(2) with
// CLONE_NEWNS implies CLONE_FS there), so it may replace /proc without
// touching anyone else; the namespace dies with the thread.
absl::Status InOwnMountNamespace(const std::function<absl::Status()>& fn) {
  absl::Status out;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNS) != 0) {
      out = ErrnoToStatus(errno, "unshare(CLONE_NEWNS)");
      return;
    }
    out = fn();
  });
  t.join();
  return out;
}

// This thread's own fd directory, not through the thread-self symlink.
std::string FdDirOfThisThread() {
  return absl::StrCat("/proc/", ::getpid(), "/task/", ::gettid(), "/fd");
}

TEST_P(InRootCorpusTest, ProcFdPathOnRealProcReopensToTheFd) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  UniqueFd fd = OpenPath(w.root());
  ASSERT_OK_AND_ASSIGN(std::string p, ProcFdPath(fd.get()));
  EXPECT_EQ(p, absl::StrCat("/proc/thread-self/fd/", fd.get()));
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(p.c_str(), &a), 0);
  ASSERT_EQ(::fstat(fd.get(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
}

TEST_P(InRootCorpusTest, ProcFdPathRefusesAFakeProc) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  World w;
  UniqueFd fd = OpenPath(w.root());
  ASSERT_TRUE(fd.valid());
  const bool walk = GetParam();
  struct Fake {
    const char* name;
    std::function<absl::Status()> install;
  };
  const Fake fakes[] = {
      // A tmpfs whose thread-self/fd/N is a symlink to the host's /etc.
      {"tmpfs",
       [&]() -> absl::Status {
         if (::mount("fakeproc", "/proc", "tmpfs", 0, "size=1m") != 0) {
           return ErrnoToStatus(errno, "mount tmpfs on /proc");
         }
         std::string fddir = "/proc/thread-self/fd";
         World::MkdirAll(fddir);
         std::string link = absl::StrCat(fddir, "/", fd.get());
         if (::symlink(w.host().c_str(), link.c_str()) != 0) {
           return ErrnoToStatus(errno, "symlink");
         }
         return absl::OkStatus();
       }},
      // A bind of a procfs subdirectory (same magic, not procfs's root).
      {"bind_of_proc_sys",
       [&]() -> absl::Status {
         if (::mount("/proc/sys", "/proc", nullptr, MS_BIND, nullptr) != 0) {
           return ErrnoToStatus(errno, "bind /proc/sys on /proc");
         }
         return absl::OkStatus();
       }},
      // A real procfs root, but thread-self/fd covered by a tmpfs.
      {"covered_fd_dir",
       [&]() -> absl::Status {
         std::string fddir = FdDirOfThisThread();
         if (::mount("cover", fddir.c_str(), "tmpfs", 0, "size=1m") != 0) {
           return ErrnoToStatus(errno, "mount tmpfs on fd dir");
         }
         return absl::OkStatus();
       }},
  };
  for (const Fake& f : fakes) {
    SCOPED_TRACE(f.name);
    absl::Status s = InOwnMountNamespace([&]() -> absl::Status {
      mount_internal::SetForceNoOpenat2(walk);
      RETURN_IF_ERROR(f.install());
      absl::StatusOr<std::string> p = ProcFdPath(fd.get());
      if (p.ok()) return absl::InternalError("accepted: " + *p);
      return p.status();
    });
    EXPECT_THAT(s, ErrnoIs(EXDEV));
    EXPECT_THAT(s, StageIs(Stage::kResolve));
  }
}

INSTANTIATE_TEST_SUITE_P(BothPaths, InRootCorpusTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Walk" : "Openat2";
                         });

}  // namespace
}  // namespace linx
