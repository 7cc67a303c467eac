// The listmount/statmount back end against the text parser, on real tables
// built in the test's private mount namespace.
#include "mountinfo/statmount.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/mountinfo.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::ScopedMounts;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::HasSubstr;

#define SKIP_UNLESS_STATMOUNT()                              \
  do {                                                       \
    if (!KernelHas(KernelFeature::kStatmount)) {             \
      LINX_SKIP_OR_FAIL(                                     \
          "kernel lacks listmount/statmount with sb_source " \
          "(Linux 6.13+)");                                  \
    }                                                        \
  } while (0)

void ExpectSameTables(const std::vector<MountInfo>& text,
                      const std::vector<MountInfo>& sm) {
  ASSERT_EQ(text.size(), sm.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const MountInfo& a = text[i];
    const MountInfo& b = sm[i];
    SCOPED_TRACE(absl::StrCat("entry ", i, ": ", FormatMountInfoLine(a)));
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.parent_id, b.parent_id);
    EXPECT_EQ(a.major, b.major);
    EXPECT_EQ(a.minor, b.minor);
    EXPECT_EQ(a.root, b.root);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.vfs_options, b.vfs_options);
    EXPECT_EQ(a.optional_fields, b.optional_fields);
    EXPECT_EQ(a.shared, b.shared);
    EXPECT_EQ(a.master, b.master);
    EXPECT_EQ(a.propagate_from, b.propagate_from);
    EXPECT_EQ(a.unbindable, b.unbindable);
    EXPECT_EQ(a.fstype, b.fstype);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.fs_options, b.fs_options);
    EXPECT_TRUE(a == b);
  }
}

std::vector<MountInfo> List(ListBackend b, pid_t pid = 0) {
  ListOptions o;
  o.backend = b;
  o.pid = pid;
  absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : std::vector<MountInfo>{};
}

// Binds `src` onto n new directories <dir>/0 .. <dir>/<n-1>. Returns what
// failed, or "" (usable off the test's thread, where ASSERT cannot be).
std::string BindMany(const std::string& src, const std::string& dir, int n) {
  for (int i = 0; i < n; ++i) {
    std::string t = absl::StrCat(dir, "/", i);
    if (::mkdir(t.c_str(), 0755) != 0 ||
        ::mount(src.c_str(), t.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return absl::StrCat("bind ", t, ": ", std::strerror(errno));
    }
  }
  return "";
}

// A fresh tmpfs at the scratch directory `name` (unmounted by `m`, which
// takes every bind below with it) holding a directory src and `n` binds of
// it at <dir>/0 .. <dir>/<n-1>. Returns the directory, or "" after
// reporting a failure.
std::string BindFarm(ScopedMounts& m, const char* name, int n) {
  std::string d = MakeScratchDir(name);
  m.Mount(name, d, "tmpfs", 0, nullptr);
  std::string error = BindMany(MakeSubdir(d, "src"), d, n);
  if (!error.empty()) {
    ADD_FAILURE() << error;
    return "";
  }
  return d;
}

const MountInfo* ByTarget(const std::vector<MountInfo>& t,
                          const std::string& target) {
  const MountInfo* found = nullptr;
  for (const MountInfo& m : t) {
    if (m.target == target) found = &m;
  }
  return found;
}

TEST(ListBackendTest, NamesAreStable) {
  EXPECT_STREQ(ListBackendName(ListBackend::kAuto), "auto");
  EXPECT_STREQ(ListBackendName(ListBackend::kText), "text");
  EXPECT_STREQ(ListBackendName(ListBackend::kStatmount), "statmount");
  EXPECT_STREQ(KernelFeatureName(KernelFeature::kFanotifyMount),
               "fanotify_mount");
}

TEST(ListBackendTest, ParseIsTheInverseOfName) {
  for (ListBackend b :
       {ListBackend::kAuto, ListBackend::kText, ListBackend::kStatmount}) {
    ListBackend parsed = ListBackend::kAuto;
    ASSERT_TRUE(ParseListBackend(ListBackendName(b), &parsed));
    EXPECT_EQ(parsed, b);
  }
  ListBackend untouched = ListBackend::kText;
  for (absl::string_view bad : {"", "Text", "statmount ", "proc"}) {
    EXPECT_FALSE(ParseListBackend(bad, &untouched)) << bad;
    EXPECT_EQ(untouched, ListBackend::kText);
  }
}

TEST(StatmountTest, BothBackEndsAgreeFieldByField) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  std::string d = MakeScratchDir("agree");
  ScopedMounts m;
  m.Mount("tmpfs", d, "tmpfs", 0, "size=4m,mode=0755");
  // Escaped names in target and source; per-mount flags in every atime
  // mode; superblock flags (sync, dirsync, lazytime).
  std::string sp = MakeSubdir(d, "with space");
  std::string tab = MakeSubdir(d, "tab\there");
  std::string nl = MakeSubdir(d, "new\nline");
  std::string bs = MakeSubdir(d, "back\\slash#hash");
  m.Mount("src with space", sp, "tmpfs",
          MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "size=1m");
  m.Mount("src\ttab", tab, "tmpfs",
          MS_RDONLY | MS_STRICTATIME | MS_NODIRATIME | MS_SYNCHRONOUS,
          "size=1m");
  m.Mount("src\\back", nl, "tmpfs", MS_DIRSYNC | MS_LAZYTIME, "mode=0700");
  m.Mount("none", bs, "tmpfs", MS_RELATIME, nullptr);
  // Propagation: shared, its peer, a slave, shared+slave, unbindable.
  std::string sh = MakeSubdir(d, "shared");
  std::string peer = MakeSubdir(d, "peer");
  std::string sl = MakeSubdir(d, "slave");
  std::string shsl = MakeSubdir(d, "shared-slave");
  std::string ub = MakeSubdir(d, "unbindable");
  m.Mount("shsrc", sh, "tmpfs", 0, nullptr);
  m.Mount("", sh, nullptr, MS_SHARED, nullptr);
  m.Mount(sh, peer, nullptr, MS_BIND, nullptr);
  m.Mount(sh, sl, nullptr, MS_BIND, nullptr);
  m.Mount("", sl, nullptr, MS_SLAVE, nullptr);
  m.Mount(sh, shsl, nullptr, MS_BIND, nullptr);
  m.Mount("", shsl, nullptr, MS_SLAVE, nullptr);
  m.Mount("", shsl, nullptr, MS_SHARED, nullptr);
  m.Mount("ubsrc", ub, "tmpfs", 0, nullptr);
  m.Mount("", ub, nullptr, MS_UNBINDABLE, nullptr);
  // A bind of a subdirectory whose root is then deleted.
  std::string gone = MakeSubdir(d, "gone");
  std::string delt = MakeSubdir(d, "deleted-root");
  m.Mount(gone, delt, nullptr, MS_BIND, nullptr);
  ASSERT_EQ(::rmdir(gone.c_str()), 0);
  // A remounted read-only bind; a stacked mount.
  std::string rob = MakeSubdir(d, "ro-bind");
  m.Mount(sp, rob, nullptr, MS_BIND, nullptr);
  m.Mount("", rob, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
  m.Mount("stacked", rob, "tmpfs", 0, "size=2m");

  std::vector<MountInfo> text = List(ListBackend::kText);
  std::vector<MountInfo> sm = List(ListBackend::kStatmount);
  ExpectSameTables(text, sm);

  // The table really holds what we built (guards against both back ends
  // agreeing on nothing).
  const MountInfo* e = ByTarget(sm, delt);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->root, "/gone//deleted");
  e = ByTarget(sm, sp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->source, "src with space");
  EXPECT_EQ(e->vfs_options, "rw,nosuid,nodev,noexec,noatime");
  e = ByTarget(sm, tab);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->vfs_options, "ro,nodiratime");
  EXPECT_EQ(e->fs_options.substr(0, 7), "ro,sync");
  e = ByTarget(sm, shsl);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->shared.has_value());
  ASSERT_TRUE(e->master.has_value());
  e = ByTarget(sm, ub);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->unbindable);
}

TEST(StatmountTest, OverlayAgrees) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  std::string d = MakeScratchDir("overlay");
  ScopedMounts m;
  m.Mount("tmpfs", d, "tmpfs", 0, nullptr);
  std::string lower = MakeSubdir(d, "lower dir");
  std::string upper = MakeSubdir(d, "upper");
  std::string work = MakeSubdir(d, "work");
  std::string merged = MakeSubdir(d, "merged");
  std::string opts =
      absl::StrCat("lowerdir=", lower, ",upperdir=", upper, ",workdir=", work);
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0) {
    int err = errno;
    (void)std::system("modprobe overlay >/dev/null 2>&1");
    if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0) {
      LINX_SKIP_OR_FAIL(
          "overlay unavailable (modprobe overlay failed): " << strerror(err));
    }
  }
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{merged};
  std::vector<MountInfo> text = List(ListBackend::kText);
  std::vector<MountInfo> sm = List(ListBackend::kStatmount);
  ExpectSameTables(text, sm);
  const MountInfo* e = ByTarget(sm, merged);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->fstype, "overlay");
  EXPECT_NE(e->fs_options.find("lowerdir=" + lower), std::string::npos)
      << e->fs_options;
}

// A child in its own namespace, where propagate_from appears: its mount's
// master group lives only in our namespace, the group above it in both.
TEST(StatmountTest, OtherNamespaceByIdAgreesWithProcFile) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  if (!KernelHas(KernelFeature::kMountNamespaceId)) {
    LINX_SKIP_OR_FAIL("kernel lacks NS_GET_MNTNS_ID (Linux 6.11+)");
  }
  std::string d = MakeScratchDir("otherns");
  ScopedMounts m;
  m.Mount("tmpfs", d, "tmpfs", 0, nullptr);
  std::string a = MakeSubdir(d, "a");
  std::string b = MakeSubdir(d, "b");
  std::string c = MakeSubdir(d, "c");
  m.Mount("asrc", a, "tmpfs", 0, nullptr);
  m.Mount("", a, nullptr, MS_SHARED, nullptr);  // group G1
  m.Mount(a, b, nullptr, MS_BIND, nullptr);     // b in G1
  m.Mount("", b, nullptr, MS_SLAVE, nullptr);   // b: master G1
  m.Mount("", b, nullptr, MS_SHARED, nullptr);  // b: shared G2
  m.Mount(b, c, nullptr, MS_BIND, nullptr);     // c in G2, master G1
  // A child parked in a copy of our namespace that keeps the propagation.
  // There c becomes a slave of G2 (whose members then live only in our
  // namespace) and b private: G2's master G1 still has a member there (a),
  // so the kernel prints propagate_from:G1.
  testing::ParkedChild::Options po;
  po.new_pid_namespace = false;
  po.keep_propagation = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testing::ParkedChild> parked,
                       testing::ParkedChild::Spawn(std::move(po)));
  pid_t child = parked->pid();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child));
  ASSERT_OK(RunIn(ns, "setup", [&]() -> absl::Status {
    if (::mount(nullptr, c.c_str(), nullptr, MS_SLAVE, nullptr) != 0 ||
        ::mount(nullptr, b.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
      return ErrnoToStatus(errno, "propagation in the child");
    }
    return absl::OkStatus();
  }));

  std::vector<MountInfo> text = List(ListBackend::kText, child);
  std::vector<MountInfo> sm = List(ListBackend::kStatmount, child);
  ExpectSameTables(text, sm);
  const MountInfo* e = ByTarget(sm, c);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->propagate_from.has_value()) << FormatMountInfoLine(*e);
  // Our own namespace is a different one, with different contents.
  absl::StatusOr<uint64_t> mine = MountNamespaceId();
  absl::StatusOr<uint64_t> theirs = MountNamespaceId(child);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  EXPECT_NE(*mine, *theirs);
  std::vector<MountInfo> mine_table = List(ListBackend::kStatmount);
  const MountInfo* ours = ByTarget(mine_table, c);
  ASSERT_NE(ours, nullptr);
  EXPECT_FALSE(ours->propagate_from.has_value());
}

// listmount(2) is called 4096 IDs at a time: a table of 5000 mounts needs
// two pages, and both back ends must still agree.
TEST(StatmountTest, ListsMoreThanOnePageOfIds) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  ScopedMounts m;
  ASSERT_NE(BindFarm(m, "pages", 5000), "");
  absl::StatusOr<std::vector<uint64_t>> ids = ListMountIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_GT(ids->size(), 5000u);
  EXPECT_TRUE(std::is_sorted(ids->begin(), ids->end()));
  std::vector<MountInfo> text = List(ListBackend::kText);
  std::vector<MountInfo> sm = List(ListBackend::kStatmount);
  EXPECT_EQ(sm.size(), ids->size());
  ExpectSameTables(text, sm);
  // The statmount(2) calls shared among threads give the same table, in the
  // same order, whatever the split (5000 mounts: up to 19 threads).
  for (int threads : {1, 2, 3, 4, 7}) {
    SCOPED_TRACE(absl::StrCat("max_threads ", threads));
    ListOptions o;
    o.backend = ListBackend::kStatmount;
    o.max_threads = threads;
    absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
    ASSERT_TRUE(t.ok()) << t.status();
    ExpectSameTables(text, *t);
  }
}

// Workers share the statmount(2) calls of one listing; they must see the
// namespace and root of the thread that asked, not the process's first
// thread. A thread with its own namespace lists 600 mounts the rest of the
// process cannot see.
TEST(StatmountTest, WorkersListTheCallingThreadsNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  std::string d = MakeScratchDir("thread-ns");
  std::vector<MountInfo> outside = List(ListBackend::kStatmount);
  size_t inside_count = 0;
  std::vector<MountInfo> inside_text;
  std::vector<MountInfo> inside_sm;
  std::string error;
  std::thread t([&] {
    // The namespace (and its mounts) go away when this thread exits.
    if (::unshare(CLONE_FS | CLONE_NEWNS) != 0) {
      error = absl::StrCat("unshare: ", std::strerror(errno));
      return;
    }
    if (::mount("inner", d.c_str(), "tmpfs", 0, nullptr) != 0) {
      error = absl::StrCat("mount: ", std::strerror(errno));
      return;
    }
    std::string src = d + "/src";
    ::mkdir(src.c_str(), 0755);
    error = BindMany(src, d, 600);
    if (!error.empty()) return;
    ListOptions o;
    o.backend = ListBackend::kStatmount;
    o.max_threads = 4;
    absl::StatusOr<std::vector<MountInfo>> sm = ListMounts(o);
    o.backend = ListBackend::kText;
    absl::StatusOr<std::vector<MountInfo>> text = ListMounts(o);
    if (!sm.ok() || !text.ok()) {
      error =
          absl::StrCat(sm.status().ToString(), " / ", text.status().ToString());
      return;
    }
    inside_sm = *std::move(sm);
    inside_text = *std::move(text);
    for (const MountInfo& m : inside_sm) {
      if (m.target.rfind(d + "/", 0) == 0) ++inside_count;
    }
  });
  t.join();
  ASSERT_EQ(error, "");
  EXPECT_EQ(inside_count, 600u);
  EXPECT_EQ(inside_sm.size(), outside.size() + 601);
  ExpectSameTables(inside_text, inside_sm);
  EXPECT_EQ(ByTarget(List(ListBackend::kStatmount), d + "/0"), nullptr);
}

// Mounts that go away between listmount(2) and their statmount(2) are left
// out, and never leave a hole: while another thread mounts and unmounts,
// every listing spread over 4 threads is complete entries in ascending
// unique-ID order.
TEST(StatmountTest, ListingWhileMountsComeAndGo) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  ScopedMounts m;
  std::string d = BindFarm(m, "churn", 1200);
  ASSERT_NE(d, "");
  std::string src = d + "/src";
  std::atomic<bool> stop{false};
  std::atomic<int> churned{0};
  std::thread churn([&] {
    for (int round = 0; !stop.load(); ++round) {
      for (int i = 0; i < 1200 && !stop.load(); i += 7) {
        std::string t = absl::StrCat(d, "/", i);
        ::umount2(t.c_str(), MNT_DETACH);
        ::mount(src.c_str(), t.c_str(), nullptr, MS_BIND, nullptr);
        churned.fetch_add(1);
      }
    }
  });
  for (int round = 0; round < 30; ++round) {
    absl::StatusOr<std::vector<StatmountEntry>> e = ListStatmountEntries(0, 4);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_GT(e->size(), 1000u);
    for (size_t i = 0; i < e->size(); ++i) {
      const StatmountEntry& x = (*e)[i];
      ASSERT_FALSE(x.info.target.empty()) << "entry " << i;
      ASSERT_NE(x.unique_id, 0u) << "entry " << i;
      if (i > 0) {
        ASSERT_LT((*e)[i - 1].unique_id, x.unique_id);
      }
    }
  }
  stop = true;
  churn.join();
  EXPECT_GT(churned.load(), 0);
}

// The raw reply of a real statmount(2) for the root mount, cut to the size
// the kernel reports.
std::string RawRootReply() {
  absl::StatusOr<std::vector<uint64_t>> ids = ListMountIds();
  EXPECT_TRUE(ids.ok() && !ids->empty());
  if (!ids.ok() || ids->empty()) return "";
  std::vector<uint64_t> buf(1024);
  kabi::MntIdReq req;
  req.size = kabi::kMntIdReqSizeVer0;
  req.mnt_id = (*ids)[0];
  req.param = kabi::kStatmountMountInfoMask;
  auto* sm = reinterpret_cast<kabi::Statmount*>(buf.data());
  EXPECT_EQ(kabi::SysStatmount(&req, sm, buf.size() * sizeof(uint64_t), 0), 0)
      << std::strerror(errno);
  return std::string(reinterpret_cast<const char*>(buf.data()), sm->size);
}

TEST(ParseStatmountTest, DecodesARealReplyAsStatMountDoes) {
  SKIP_UNLESS_STATMOUNT();
  std::string reply = RawRootReply();
  ASSERT_GT(reply.size(), sizeof(kabi::Statmount));
  ASSERT_OK_AND_ASSIGN(StatmountEntry parsed, ParseStatmount(reply));
  ASSERT_OK_AND_ASSIGN(StatmountEntry direct,
                       StatMount(parsed.unique_id, 0, false));
  EXPECT_EQ(parsed.info, direct.info);
  EXPECT_EQ(parsed.parent_unique_id, direct.parent_unique_id);
  EXPECT_EQ(parsed.mnt_ns_id, direct.mnt_ns_id);
  EXPECT_FALSE(parsed.info.target.empty());
  // Any alignment: the header is copied before it is read.
  std::string shifted = "x" + reply;
  ASSERT_OK_AND_ASSIGN(StatmountEntry odd,
                       ParseStatmount(absl::string_view(shifted).substr(1)));
  EXPECT_EQ(odd.info, parsed.info);
}

TEST(ParseStatmountTest, MalformedRepliesAreRefusedNotReadPastTheEnd) {
  SKIP_UNLESS_STATMOUNT();
  std::string good = RawRootReply();
  ASSERT_GT(good.size(), sizeof(kabi::Statmount));
  auto with = [&](size_t offset, uint32_t value) {
    std::string r = good;
    std::memcpy(&r[offset], &value, sizeof(value));
    return r;
  };
  const uint32_t size = static_cast<uint32_t>(good.size());
  struct Case {
    const char* name;
    std::string reply;
    const char* reason;  // a substring of the error
  };
  std::string unterminated = good;
  unterminated.back() = 'x';  // the last string loses its NUL
  const Case cases[] = {
      {"empty", "", "shorter than the 512-byte header"},
      {"truncated header", good.substr(0, 100), "shorter than the"},
      {"size past the end", with(offsetof(kabi::Statmount, size), size + 1),
       "size field"},
      {"size below the header", with(offsetof(kabi::Statmount, size), 100),
       "size field"},
      {"mnt_point past the strings",
       with(offsetof(kabi::Statmount, mnt_point), 60000),
       "mnt_point at offset 60000"},
      {"unterminated string", unterminated, "does not end inside"},
      {"negative 32-bit ID",
       with(offsetof(kabi::Statmount, mnt_parent_id_old), 0xffffffffu),
       "beyond 2^31-1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<StatmountEntry> e = ParseStatmount(c.reply);
    EXPECT_THAT(e, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(e, StageIs(Stage::kBadArgument));
    EXPECT_THAT(std::string(e.status().message()), HasSubstr(c.reason));
  }
  // A string offset is only checked, and only read, when its mask bit is
  // set: with mnt_point's bit clear the bad offset is ignored.
  std::string no_point = with(offsetof(kabi::Statmount, mnt_point), 60000);
  uint64_t mask = 0;
  std::memcpy(&mask, &no_point[offsetof(kabi::Statmount, mask)], sizeof(mask));
  mask &= ~kabi::kStatmountMntPoint;
  std::memcpy(&no_point[offsetof(kabi::Statmount, mask)], &mask, sizeof(mask));
  ASSERT_OK_AND_ASSIGN(StatmountEntry e, ParseStatmount(no_point));
  EXPECT_EQ(e.info.target, "");
}

TEST(ListMountsTest, NegativeMaxThreadsIsABadArgument) {
  for (ListBackend b :
       {ListBackend::kAuto, ListBackend::kText, ListBackend::kStatmount}) {
    ListOptions o;
    o.backend = b;
    o.max_threads = -1;
    absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(t, StageIs(Stage::kBadArgument));
    EXPECT_EQ(t.status().message(), "list: max_threads is negative (-1)");
  }
  EXPECT_THAT(ListStatmountEntries(0, -4), StageIs(Stage::kBadArgument));
}

TEST(StatmountTest, UniqueIdsAndNamespaceIdAreReported) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  SKIP_UNLESS_STATMOUNT();
  absl::StatusOr<std::vector<StatmountEntry>> entries = ListStatmountEntries();
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_FALSE(entries->empty());
  absl::StatusOr<uint64_t> ns = MountNamespaceId();
  for (const StatmountEntry& e : *entries) {
    EXPECT_GT(e.unique_id, uint64_t{0xffffffff} / 2);  // never a 32-bit ID
    if (ns.ok()) {
      EXPECT_EQ(e.mnt_ns_id, *ns);
    }
    absl::StatusOr<StatmountEntry> one = StatMount(e.unique_id);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->info.id, e.info.id);
  }
}

TEST(StatmountTest, GoneMountIsNotFound) {
  SKIP_UNLESS_STATMOUNT();
  absl::StatusOr<std::vector<uint64_t>> ids = ListMountIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_FALSE(ids->empty());
  // Unique IDs are never reused: one past the newest has never existed.
  EXPECT_THAT(StatMount(ids->back() + 1000000), ErrnoIs(ENOENT));
  // 32-bit (mountinfo) IDs are not unique IDs: the kernel says EINVAL.
  EXPECT_THAT(StatMount(1), ErrnoIs(EINVAL));
}

TEST(StatmountTest, MountNamespaceIdOfMissingPidIsNotFound) {
  if (!KernelHas(KernelFeature::kMountNamespaceId)) {
    LINX_SKIP_OR_FAIL("kernel lacks NS_GET_MNTNS_ID");
  }
  EXPECT_THAT(MountNamespaceId(999999999),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(MountNamespaceId(-1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// The fallbacks, forced on whatever the kernel has.
class PretendMissing {
 public:
  explicit PretendMissing(KernelFeature f) : f_(f) {
    PretendMissingForTesting(f_, true);
  }
  ~PretendMissing() { PretendMissingForTesting(f_, false); }

 private:
  KernelFeature f_;
};

TEST(StatmountFallbackTest, AutoFallsBackToTextWithoutStatmount) {
  PretendMissing p(KernelFeature::kStatmount);
  EXPECT_FALSE(KernelHas(KernelFeature::kStatmount));
  EXPECT_EQ(ResolveListBackend({}), ListBackend::kText);
  ListOptions sm;
  sm.backend = ListBackend::kStatmount;
  EXPECT_THAT(ListMounts(sm), ErrnoIs(ENOSYS));
  EXPECT_THAT(ListMounts(sm), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(ListMountIds(), ErrnoIs(ENOSYS));
  absl::StatusOr<std::vector<MountInfo>> t = ListMounts();
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<MountTable> text = ReadMountInfo();
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*t, text->ToMountInfos());
}

TEST(StatmountFallbackTest, OtherPidFallsBackToProcFileWithoutNsId) {
  PretendMissing p(KernelFeature::kMountNamespaceId);
  ListOptions o;
  o.pid = ::getpid();
  EXPECT_EQ(ResolveListBackend(o), ListBackend::kText);
  EXPECT_THAT(MountNamespaceId(::getpid()), ErrnoIs(ENOSYS));
  absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<MountTable> text = ReadMountInfoOfPid(::getpid());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*t, text->ToMountInfos());
}

}  // namespace
}  // namespace linx
