// The sandbox every privileged test relies on: proves it is a private mount
// namespace distinct from the one the process started in, with a tmpfs
// scratch root, and that mounts made there are invisible outside: a child
// process joins the namespace this test started in and looks for them.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "base/testing/privileged.h"
#include "gtest/gtest.h"

namespace linx::testing {
namespace {

constexpr long kTmpfsMagic = 0x01021994;

TEST(PrivilegedSandboxTest, ScratchIsTmpfsInPrivateNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  struct statfs sfs {};
  ASSERT_EQ(::statfs(ScratchRoot().c_str(), &sfs), 0);
  EXPECT_EQ(sfs.f_type, kTmpfsMagic);

  // This thread's namespace differs from the one pid 1 of our pid namespace
  // (or the parent) sees: compare against our parent process.
  struct stat self {
  }, parent{};
  ASSERT_EQ(::stat("/proc/thread-self/ns/mnt", &self), 0);
  std::string parent_ns = "/proc/" + std::to_string(::getppid()) + "/ns/mnt";
  ASSERT_EQ(::stat(parent_ns.c_str(), &parent), 0);
  EXPECT_NE(self.st_ino, parent.st_ino);

  // "/" is private: no "shared:" tag on any mount in our table.
  std::ifstream in("/proc/thread-self/mountinfo");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(line.find(" shared:"), std::string::npos) << line;
  }
  EXPECT_GT(lines, 0);
}

// Exit codes of the outside observer below.
enum Observed {
  kInvisible = 0,     // neither the mount nor the file can be seen
  kSetnsFailed = 10,  // could not join the outside namespace
  kSameNamespace,     // joined, but it is our own namespace
  kReadFailed,        // could not read mountinfo
  kMountVisible,      // the marker mount is in the outside table
  kFileVisible,       // the file made on the mount is visible outside
};

// In a forked child: joins the mount namespace behind `outside_ns_fd`,
// checks it differs from `inside_ino`, and looks for `marker` in that
// namespace's mountinfo and for `file` on its filesystem. Never returns.
[[noreturn]] void ObserveFromOutside(int outside_ns_fd, ino_t inside_ino,
                                     const std::string& marker,
                                     const std::string& file) {
  // setns(2) refuses CLONE_NEWNS (EINVAL) while the fs_struct is shared,
  // and a sanitizer runtime (TSan) may start a thread in the forked child:
  // give this thread its own first, as nsexec's workers do.
  if (::unshare(CLONE_FS) != 0) ::_exit(kSetnsFailed);
  if (::setns(outside_ns_fd, CLONE_NEWNS) != 0) ::_exit(kSetnsFailed);
  struct stat now {};
  if (::stat("/proc/thread-self/ns/mnt", &now) != 0 ||
      now.st_ino == inside_ino) {
    ::_exit(kSameNamespace);
  }
  int fd = ::open("/proc/thread-self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) ::_exit(kReadFailed);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ::_exit(kReadFailed);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text.empty()) ::_exit(kReadFailed);
  if (text.find(marker) != std::string::npos) ::_exit(kMountVisible);
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) ::_exit(kFileVisible);
  ::_exit(kInvisible);
}

int RunObserver(int outside_ns_fd, ino_t inside_ino, const std::string& marker,
                const std::string& file) {
  pid_t pid = ::fork();
  if (pid == 0) ObserveFromOutside(outside_ns_fd, inside_ino, marker, file);
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The parent process (Bazel's test runner) still lives in the namespace the
// test started in. A process that joins that namespace must see neither a
// mount made here nor a file created on it; the same look from inside must
// see both, so the check itself is proven able to fail.
TEST(PrivilegedSandboxTest, MountsAreInvisibleFromOutside) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("invisible");
  std::string marker = "linx-invisible-" + std::to_string(::getpid());
  ScopedMounts mounts;
  mounts.Mount(marker, dir, "tmpfs", 0, "size=1m");
  std::string file = dir + "/made-inside";
  int made = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(made, 0) << std::strerror(errno);
  ::close(made);

  struct stat inside {};
  ASSERT_EQ(::stat("/proc/thread-self/ns/mnt", &inside), 0);
  std::string outside_path = "/proc/" + std::to_string(::getppid()) + "/ns/mnt";
  int outside = ::open(outside_path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(outside, 0) << outside_path << ": " << std::strerror(errno);
  int self = ::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(self, 0) << std::strerror(errno);

  // Control: from inside, the same observer finds the mount.
  EXPECT_EQ(RunObserver(self, /*inside_ino=*/0, marker, file), kMountVisible);
  // From outside: nothing.
  EXPECT_EQ(RunObserver(outside, inside.st_ino, marker, file), kInvisible);
  ::close(self);
  ::close(outside);
}

TEST(PrivilegedSandboxTest, ScratchDirsAreUnique) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("a");
  std::string b = MakeScratchDir("a");
  EXPECT_NE(a, b);
  struct stat st {};
  EXPECT_EQ(::stat(a.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(a.rfind(ScratchRoot(), 0), 0u);
}

}  // namespace
}  // namespace linx::testing
