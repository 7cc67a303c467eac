// The seed's recipe, end to end: a container rootfs assembled from OUTSIDE,
// in a running child's mount namespace, with `in = Pid(child)`.
//
// A child is parked in fresh mount + PID namespaces (nsexec/testing/
// parked_child.h). From the parent: bind the rootfs onto itself, make it
// private, pivot_root into it with old_root under it, lazily unmount
// /old_root, mount proc (forked into the child's PID namespace), mount a
// tmpfs on /dev and bind the host's /dev/null onto a created placeholder.
// Then the child is released and checks from inside that "/" is the new
// rootfs, /proc lists only its own PID namespace and /dev/null works;
// meanwhile the parent hot-mounts a host volume into the running child.
// The rootfs is a tmpfs tree with no binaries: the checks are this file's
// own code, running in the forked child.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "mount/mount.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::MakeScratchDir;
using ::linx::testing::ParkedChild;

constexpr char kMarker[] = "linx-rootfs-marker";
constexpr char kVolumeText[] = "hello from the host";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

// "key=value" lines → map.
std::map<std::string, std::string> ParseReport(const std::string& report) {
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(report, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

void Emit(int fd, const std::string& key, const std::string& value) {
  std::string line = absl::StrCat(key, "=", value, "\n");
  if (::write(fd, line.data(), line.size()) < 0) ::_exit(3);
}

// Runs inside the released child: its own view of its own world.
void CheckFromInside(int fd, dev_t root_dev, ino_t root_ino) {
  struct stat st {};
  ::stat("/", &st);
  Emit(fd, "root_is_rootfs",
       st.st_dev == root_dev && st.st_ino == root_ino ? "yes" : "no");
  Emit(fd, "marker", ReadFile("/marker"));
  struct stat old {};
  Emit(
      fd, "old_root_unmounted",
      ::stat("/old_root", &old) == 0 && old.st_dev == st.st_dev ? "yes" : "no");

  std::string pids;
  if (DIR* d = ::opendir("/proc")) {
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
        absl::StrAppend(&pids, pids.empty() ? "" : ",", e->d_name);
      }
    }
    ::closedir(d);
  }
  Emit(fd, "proc_pids", pids);
  char self[64] = {};
  ssize_t n = ::readlink("/proc/self", self, sizeof(self) - 1);
  Emit(fd, "proc_self", n > 0 ? std::string(self, static_cast<size_t>(n)) : "");
  Emit(fd, "getpid", absl::StrCat(::getpid()));

  struct stat null {};
  bool is_null = ::stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
                 major(null.st_rdev) == 1 && minor(null.st_rdev) == 3;
  Emit(fd, "dev_null_is_1_3", is_null ? "yes" : "no");
  int w = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  Emit(fd, "dev_null_write",
       w >= 0 && ::write(w, "discard", 7) == 7 ? "yes"
                                               : absl::StrCat("errno ", errno));
  if (w >= 0) ::close(w);
  int r = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  char c;
  Emit(fd, "dev_null_read_eof", r >= 0 && ::read(r, &c, 1) == 0 ? "yes" : "no");
  if (r >= 0) ::close(r);
  // The intermediate process also holds this pipe's write end, so the
  // reader cannot wait for EOF: a last line marks the end.
  Emit(fd, "end", "1");
}

struct Rootfs {
  std::string dir;
  dev_t dev = 0;
  ino_t ino = 0;
};

Rootfs MakeRootfs() {
  Rootfs r;
  r.dir = MakeScratchDir("rootfs");
  for (const char* d : {"proc", "dev", "old_root", "vol", "tmp"}) {
    ::mkdir(absl::StrCat(r.dir, "/", d).c_str(), 0755);
  }
  WriteFile(r.dir + "/marker", kMarker);
  struct stat st {};
  ::stat(r.dir.c_str(), &st);
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  return r;
}

// Phase 1 checks after release, then waits on `go` for the hot-mounted
// volume and checks it.
ParkedChild::OnRelease Checks(const Rootfs& r, int phase1_fd, int go_fd) {
  dev_t dev = r.dev;
  ino_t ino = r.ino;
  return [=](int report_fd) {
    CheckFromInside(phase1_fd, dev, ino);
    ::close(phase1_fd);
    char c;
    if (::read(go_fd, &c, 1) != 1) ::_exit(4);
    Emit(report_fd, "volume", ReadFile("/vol/hello"));
  };
}

void ExpectInsideView(const std::string& phase1) {
  std::map<std::string, std::string> got = ParseReport(phase1);
  EXPECT_EQ(got["root_is_rootfs"], "yes") << phase1;
  EXPECT_EQ(got["marker"], kMarker);
  EXPECT_EQ(got["old_root_unmounted"], "yes");
  EXPECT_EQ(got["proc_pids"], "1");  // only itself: pid 1 of its namespace
  EXPECT_EQ(got["proc_self"], "1");
  EXPECT_EQ(got["getpid"], "1");
  EXPECT_EQ(got["dev_null_is_1_3"], "yes");
  EXPECT_EQ(got["dev_null_write"], "yes");
  EXPECT_EQ(got["dev_null_read_eof"], "yes");
}

bool TableHasMountAt(const std::string& mountinfo, const std::string& point) {
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mp;
    f >> id >> parent >> devno >> root >> mp;
    if (mp == point) return true;
  }
  return false;
}

class ContainerRecipeTest : public ::testing::TestWithParam<bool> {};

// Param false: one call per verb. Param true: the same recipe as one Batch
// (one trip, plus the forked trip for proc).
TEST_P(ContainerRecipeTest, RootfsAssembledFromOutsideWorksInside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  const bool batch = GetParam();
  Rootfs rootfs = MakeRootfs();
  std::string volume = MakeScratchDir("volume");
  ASSERT_TRUE(WriteFile(volume + "/hello", kVolumeText));

  int phase1[2], go[2];
  ASSERT_EQ(::pipe2(phase1, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  ASSERT_OK_AND_ASSIGN(auto child,
                       ParkedChild::Spawn(Checks(rootfs, phase1[1], go[0])));
  ::close(phase1[1]);
  ::close(go[0]);
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));

  MountOptions make_private;
  make_private.flags = {MountFlag::kPrivate};
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  MountOptions dev_tmpfs;
  dev_tmpfs.flags = {MountFlag::kNosuid, MountFlag::kNoexec};
  dev_tmpfs.data = "mode=0755,size=64k";
  BindOptions null_bind;
  null_bind.create = true;

  // proc goes in before /old_root is detached: outside the initial user
  // namespace the kernel refuses a new proc (EPERM) unless a fully visible
  // one is already in the mount namespace (fs/namespace.c
  // mount_too_revealing), and /old_root/proc is that one. Bazel's
  // linux-sandbox runs tests in a user namespace, so this bites here.
  if (batch) {
    Batch b;
    b.Bind(rootfs.dir, rootfs.dir)
        .Mount("", rootfs.dir, "", make_private)
        .PivotRoot(rootfs.dir, "old_root")
        .Mount("proc", "/proc", "proc")
        .Mount("tmpfs", "/dev", "tmpfs", dev_tmpfs)
        .BindFromHost("/dev/null", "/dev/null", null_bind)
        .Umount("/old_root", lazy);
    ASSERT_OK(b.Run(ns));
  } else {
    BindOptions bind;
    bind.in = ns;
    make_private.in = ns;
    PivotRootOptions pivot;
    pivot.in = ns;
    lazy.in = ns;
    MountOptions proc;
    proc.in = ns;
    dev_tmpfs.in = ns;
    null_bind.in = ns;
    ASSERT_OK(Bind(rootfs.dir, rootfs.dir, bind));
    ASSERT_OK(Mount("", rootfs.dir, "", make_private));
    ASSERT_OK(PivotRoot(rootfs.dir, rootfs.dir + "/old_root", pivot));
    ASSERT_OK(Mount("proc", "/proc", "proc", proc));
    ASSERT_OK(Mount("tmpfs", "/dev", "tmpfs", dev_tmpfs));
    ASSERT_OK(BindFromHost("/dev/null", "/dev/null", null_bind));
    ASSERT_OK(Umount("/old_root", lazy));
  }

  // Seen from outside: the child's table is the container's; ours is not.
  std::string child_table =
      ReadFile(absl::StrCat("/proc/", child->pid(), "/mountinfo"));
  EXPECT_TRUE(TableHasMountAt(child_table, "/proc")) << child_table;
  EXPECT_TRUE(TableHasMountAt(child_table, "/dev/null")) << child_table;
  EXPECT_FALSE(TableHasMountAt(child_table, "/old_root")) << child_table;
  std::string own_table = ReadFile("/proc/thread-self/mountinfo");
  EXPECT_FALSE(TableHasMountAt(own_table, rootfs.dir));

  ASSERT_OK(child->Start());
  std::string phase1_report;
  char buf[4096];
  while (phase1_report.find("end=1\n") == std::string::npos) {
    ssize_t n = ::read(phase1[0], buf, sizeof(buf));
    if (n <= 0) break;
    phase1_report.append(buf, static_cast<size_t>(n));
  }
  ::close(phase1[0]);
  ExpectInsideView(phase1_report);

  // Hot-mount a host directory into the running container.
  BindOptions vol;
  vol.in = ns;
  ASSERT_OK(BindFromHost(volume, "/vol", vol));
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ::close(go[1]);
  ASSERT_OK_AND_ASSIGN(std::string phase2, child->Finish());
  EXPECT_EQ(ParseReport(phase2)["volume"], kVolumeText);
}

INSTANTIATE_TEST_SUITE_P(VerbsAndBatch, ContainerRecipeTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Batch" : "OneCallPerVerb";
                         });

}  // namespace
}  // namespace linx
