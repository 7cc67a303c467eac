// Differential test of `linx apply` against a real peer, runc (Debian's,
// installed by tools/bazel): the same OCI config — runc's default mounts
// (less the cgroup emulation) plus binds (ro, rbind+ro with a submount, a
// file, an rbind with a submount), readonlyPaths and maskedPaths (files,
// directories, missing paths) — is run by `runc run` in a busybox bundle,
// whose container prints its /proc/self/mountinfo and stats the masked
// files; and applied by `linx apply --in pid:N` into a
// parked child, which is then pivoted into the root (linx::PivotRoot, old
// root detached) and its table read. The tables must agree on every mount
// point, filesystem type and per-mount flag, except the intended
// differences listed in docs/apply.md (asserted here too, so a change in
// either tool shows up).
//
// runc needs to create cgroups: the Bazel sandbox remounts the cgroup
// hierarchies read-only, so this test remounts them read-write inside its
// own private mount namespace (never the host's) before running runc.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/testing/privileged.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/mount.h"
#include "nsexec/testing/parked_child.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

// The runc binary: Debian installs it in /usr/sbin (tools/bazel's package
// list), which a test's PATH may lack.
std::string FindRunc() {
  for (const char* p : {"/usr/sbin/runc", "/usr/bin/runc", "/sbin/runc"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

struct Output {
  int exit_code = -1;
  std::string out;
};

// Runs `argv` with stdout captured and stderr appended to it.
Output RunProgram(const std::vector<std::string>& argv,
                  const std::string& cwd) {
  Output o;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return o;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) o.out.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    o.exit_code = WEXITSTATUS(status);
  }
  return o;
}

// The cgroup hierarchies of this (private) namespace, read-write, so that
// runc can create its container's cgroups.
void MakeCgroupsWritable() {
  absl::StatusOr<std::vector<MountInfo>> table = List();
  ASSERT_TRUE(table.ok()) << table.status();
  for (const MountInfo& m : *table) {
    if (!absl::StartsWith(m.target, "/sys/fs/cgroup")) continue;
    struct statvfs st;
    if (::statvfs(m.target.c_str(), &st) != 0 || !(st.f_flag & ST_RDONLY)) {
      continue;
    }
    unsigned long keep = 0;
    if (st.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    ASSERT_EQ(::mount(nullptr, m.target.c_str(), nullptr,
                      MS_REMOUNT | MS_BIND | keep, nullptr),
              0)
        << "cannot make " << m.target
        << " writable for runc: " << std::strerror(errno);
  }
}

// A mount as compared: filesystem type and per-mount flags.
struct Seen {
  std::string fstype;
  std::set<std::string> flags;
  bool operator==(const Seen& o) const {
    return fstype == o.fstype && flags == o.flags;
  }
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << s.fstype << " [" << absl::StrJoin(s.flags, ",") << "]";
}

// Mount point → what is mounted there (the top mount), "/" left out: it is
// the container's root, a bind of the rootfs in both.
// runc's default devices: where runc cannot mknod (in a user namespace) it
// binds the host's nodes; that is device setup, not a config mount, and
// linx apply does not do it.
constexpr const char* kRuncDevices[] = {"/dev/null",    "/dev/zero",
                                        "/dev/full",    "/dev/random",
                                        "/dev/urandom", "/dev/tty"};

std::map<std::string, Seen> ByTarget(const std::vector<MountInfo>& table) {
  std::map<std::string, Seen> out;
  for (const MountInfo& m : table) {
    if (m.target == "/") continue;
    bool device = false;
    for (const char* d : kRuncDevices) device |= m.target == d;
    if (device && m.fstype == "devtmpfs") continue;
    Seen s;
    s.fstype = m.fstype;
    for (absl::string_view w : absl::StrSplit(m.vfs_options, ',')) {
      s.flags.insert(std::string(w));
    }
    out[m.target] = s;
  }
  return out;
}

// runc's default mounts (runc spec) without the cgroup emulation, and
// binds: ro, rbind+ro of a tree with a submount, a file. devpts has no
// "gid=5": Bazel's sandbox may run tests in a user namespace that maps
// only root, where devpts refuses an unmapped gid with EINVAL (for runc
// and linx alike).
constexpr char kMounts[] = R"([
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                 "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/mnt/ro", "type": "bind", "source": "robind",
     "options": ["bind", "ro", "nodev"]},
    {"destination": "/mnt/tree", "type": "bind", "source": "tree",
     "options": ["rbind", "ro", "rprivate"]},
    {"destination": "/etc/hostinfo", "type": "bind", "source": "hostfile",
     "options": ["bind", "ro", "nosuid"]},
    {"destination": "/run", "type": "tmpfs", "source": "run",
     "options": ["nosuid", "nodev", "noatime", "mode=755"]},
    {"destination": "/mnt/rw", "type": "bind", "source": "tree",
     "options": ["rbind"]}
  ])";

// Applied after the mounts by both (runc: readonlyPaths, then maskedPaths).
// Files and directories of the new proc and sysfs, an rbind with a
// submount, paths missing in the container (skipped by both; /proc/kcore
// and /proc/acpi exist on some kernels only).
constexpr char kReadonlyPaths[] =
    R"(["/proc/sys", "/proc/sysrq-trigger", "/mnt/rw", "/linx-missing"])";
constexpr char kMaskedPaths[] =
    R"(["/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/acpi",
        "/sys/firmware", "/proc/linx-missing/x"])";
// The masked files the container stats (they exist on every kernel the
// test runs on: CONFIG_KEYS, /proc/timer_list).
constexpr const char* kMaskedFiles[] = {"/proc/keys", "/proc/timer_list"};
constexpr char kStatMarker[] = "---- linx-diff stat ----";

// What is mounted at `target` (the last, i.e. top, mount there), else at
// its nearest ancestor: the mount a bind of `target` copies.
std::optional<MountInfo> MountHolding(const std::vector<MountInfo>& table,
                                      std::string target) {
  while (true) {
    std::optional<MountInfo> found;
    for (const MountInfo& m : table) {
      if (m.target == target) found = m;
    }
    if (found.has_value() || target == "/") return found;
    size_t slash = target.rfind('/');
    target = slash == 0 ? "/" : target.substr(0, slash);
  }
}

Seen SeenOf(const MountInfo& m) {
  Seen s;
  s.fstype = m.fstype;
  for (absl::string_view w : absl::StrSplit(m.vfs_options, ',')) {
    s.flags.insert(std::string(w));
  }
  return s;
}

TEST(ApplyRuncDiffTest, LinxReproducesRuncsMountTable) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  const std::string runc = FindRunc();
  ASSERT_FALSE(runc.empty())
      << "runc is not installed; tools/bazel installs Debian's runc";
  MakeCgroupsWritable();
  // sysfs may only be mounted by a process whose network namespace belongs
  // to the mounter's user namespace; Bazel's sandbox can run tests in a user
  // namespace of their own. A fresh network namespace for this process (and
  // so for the linx child) and one in the container's config put runc and
  // linx on the same footing.
  ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);

  const std::string top = linx::testing::MakeScratchDir("runc_diff");
  // The bundle lives on a tmpfs without nosuid/nodev: a bind keeps the
  // flags its source has in linx (locked flags stay, util-linux#1705), while
  // runc 1.1's remount sets exactly the listed ones (docs/apply.md).
  ASSERT_EQ(::mount("bundle", top.c_str(), "tmpfs", 0, nullptr), 0);
  const std::string bundle = linx::testing::MakeSubdir(top, "bundle");
  const std::string rootfs = linx::testing::MakeSubdir(bundle, "rootfs");
  const std::string state = linx::testing::MakeSubdir(top, "state");
  linx::testing::MakeSubdir(rootfs, "bin");
  for (const char* applet : {"cat", "sh", "stat"}) {
    ASSERT_EQ(::symlink("/bin/busybox",
                        absl::StrCat(rootfs, "/bin/", applet).c_str()),
              0);
  }
  {
    std::ifstream in("/bin/busybox", std::ios::binary);
    std::ofstream out(rootfs + "/bin/busybox", std::ios::binary);
    out << in.rdbuf();
    ASSERT_TRUE(out.good()) << "copying /bin/busybox (busybox-static)";
  }
  ASSERT_EQ(::chmod((rootfs + "/bin/busybox").c_str(), 0755), 0);
  linx::testing::MakeSubdir(bundle, "robind");
  const std::string tree = linx::testing::MakeSubdir(bundle, "tree");
  linx::testing::MakeSubdir(tree, "sub");
  Write(bundle + "/hostfile", "host\n");
  // The rbind's source carries a submount (a tmpfs with no flags).
  ASSERT_EQ(::mount("sub", (tree + "/sub").c_str(), "tmpfs", 0, nullptr), 0);

  Write(
      bundle + "/config.json",
      absl::StrCat(R"({
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0},
              "args": ["sh", "-c", ")",
                   "cat /proc/self/mountinfo; echo ", kStatMarker,
                   "; stat -c '%n %F %t:%T' ", absl::StrJoin(kMaskedFiles, " "),
                   R"("],
              "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "linx-diff",
  "mounts": )",
                   kMounts, R"(,
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}, {"type": "network"}],
    "maskedPaths": )",
                   kMaskedPaths, R"(,
    "readonlyPaths": )",
                   kReadonlyPaths, R"(
  }
})"));

  // runc: the container prints its own table.
  const std::string id = absl::StrCat("linx-diff-", ::getpid());
  Output r = RunProgram({runc, "--root", state, "run", "--bundle", bundle, id},
                        bundle);
  ASSERT_EQ(r.exit_code, 0) << "runc run failed:\n" << r.out;
  std::cout << "---- runc's container table ----\n" << r.out;
  const size_t marker = r.out.find(kStatMarker);
  ASSERT_NE(marker, std::string::npos) << r.out;
  const std::string runc_stat = r.out.substr(marker);
  Write(top + "/runc.mountinfo", r.out.substr(0, marker));
  absl::StatusOr<std::vector<MountInfo>> runc_table =
      List(top + "/runc.mountinfo");
  ASSERT_TRUE(runc_table.ok()) << runc_table.status();

  // linx: apply into a parked child's namespace, pivot, read its table.
  absl::StatusOr<std::unique_ptr<linx::testing::ParkedChild>> child =
      linx::testing::ParkedChild::Spawn();
  ASSERT_TRUE(child.ok()) << child.status();
  const pid_t pid = (*child)->pid();
  absl::StatusOr<Namespace> ns = Namespace::Pid(pid);
  ASSERT_TRUE(ns.ok()) << ns.status();
  BindOptions self_bind;  // the root must be a mount point (as runc does)
  self_bind.flags = {MountFlag::kRec};
  self_bind.in = *ns;
  ASSERT_TRUE(Bind(rootfs, rootfs, self_bind).ok());
  LinxResult a = RunLinx(
      {"apply", bundle + "/config.json", "--in", absl::StrCat("pid:", pid)});
  ASSERT_EQ(a.exit_code, 0) << a;
  linx::testing::MakeSubdir(rootfs, ".old");
  PivotRootOptions pivot;
  pivot.in = *ns;
  absl::Status s = PivotRoot(rootfs, ".old", pivot);
  ASSERT_TRUE(s.ok()) << s;
  UmountOptions detach;
  detach.flags = {UmountFlag::kDetach};
  detach.in = *ns;
  s = Umount("/.old", detach);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::vector<MountInfo>> linx_table = List(pid);
  ASSERT_TRUE(linx_table.ok()) << linx_table.status();
  // Both masked the files with a null device.
  for (const char* f : kMaskedFiles) {
    SCOPED_TRACE(f);
    EXPECT_THAT(runc_stat, ::testing::HasSubstr(
                               absl::StrCat(f, " character special file 1:3")));
    struct stat st;
    ASSERT_EQ(::stat(absl::StrCat("/proc/", pid, "/root", f).c_str(), &st), 0)
        << std::strerror(errno);
    EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
  }
  absl::StatusOr<std::vector<MountInfo>> own_table = List();
  ASSERT_TRUE(own_table.ok()) << own_table.status();
  {
    std::ifstream f(absl::StrCat("/proc/", pid, "/mountinfo"));
    std::stringstream ss;
    ss << f.rdbuf();
    std::cout << "---- linx's table after pivot ----\n" << ss.str();
  }
  (*child)->Kill();
  ::rmdir((rootfs + "/.old").c_str());
  ::umount2((tree + "/sub").c_str(), MNT_DETACH);
  ::umount2(top.c_str(), MNT_DETACH);

  std::map<std::string, Seen> want = ByTarget(*runc_table);
  std::map<std::string, Seen> got = ByTarget(*linx_table);
  // Every mount of the config is there (a check that the comparison
  // compares something).
  for (const char* t :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
        "/mnt/ro", "/mnt/tree", "/mnt/tree/sub", "/etc/hostinfo", "/run",
        "/mnt/rw", "/mnt/rw/sub", "/proc/sys", "/proc/keys", "/proc/timer_list",
        "/sys/firmware"}) {
    EXPECT_TRUE(want.count(t)) << "runc has no mount at " << t;
    EXPECT_TRUE(got.count(t)) << "linx has no mount at " << t;
  }
  // The intended difference (docs/apply.md): rbind + ro makes the whole
  // tree read-only in linx; runc 1.1 makes only the top mount read-only
  // (it wants "rro" for the tree, which linx refuses by name).
  ASSERT_TRUE(want.count("/mnt/tree/sub") && got.count("/mnt/tree/sub"));
  EXPECT_FALSE(want["/mnt/tree/sub"].flags.count("ro"));
  EXPECT_TRUE(got["/mnt/tree/sub"].flags.count("ro"));
  want["/mnt/tree/sub"].flags.erase("rw");
  want["/mnt/tree/sub"].flags.insert("ro");
  // The same for readonlyPaths: linx binds the path read-only with its
  // submounts; runc 1.1 remounts only the top mount of its rbind.
  ASSERT_TRUE(want.count("/mnt/rw/sub") && got.count("/mnt/rw/sub"));
  EXPECT_TRUE(want["/mnt/rw"].flags.count("ro"));
  EXPECT_FALSE(want["/mnt/rw/sub"].flags.count("ro"));
  EXPECT_TRUE(got["/mnt/rw/sub"].flags.count("ro"));
  want["/mnt/rw/sub"].flags.erase("rw");
  want["/mnt/rw/sub"].flags.insert("ro");
  // The intended difference for masked files (docs/apply.md): runc binds
  // the container's /dev/null (after the pivot), so the mask has the type
  // and flags of the mount holding it (runc's /dev tmpfs where it could
  // mknod, a devtmpfs bind where it binds the host's node); linx binds the
  // caller's /dev/null, so the mask has the type and flags of the mount
  // holding the caller's.
  std::optional<MountInfo> runc_null = MountHolding(*runc_table, "/dev/null");
  std::optional<MountInfo> own_null = MountHolding(*own_table, "/dev/null");
  ASSERT_TRUE(runc_null.has_value() && own_null.has_value());
  for (const char* f : kMaskedFiles) {
    SCOPED_TRACE(f);
    ASSERT_TRUE(want.count(f) && got.count(f));
    EXPECT_EQ(want[f], SeenOf(*runc_null));
    EXPECT_EQ(got[f], SeenOf(*own_null));
    want[f] = got[f];
  }

  for (const auto& [target, seen] : want) {
    SCOPED_TRACE(target);
    auto it = got.find(target);
    if (it == got.end()) {
      ADD_FAILURE() << "runc mounts " << target << " (" << seen
                    << "), linx does not";
      continue;
    }
    EXPECT_EQ(it->second, seen) << "linx: " << it->second << ", runc: " << seen;
  }
  for (const auto& [target, seen] : got) {
    EXPECT_TRUE(want.count(target))
        << "linx mounts " << target << " (" << seen << "), runc does not";
  }
}

}  // namespace
}  // namespace linx::tools
