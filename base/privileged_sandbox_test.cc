// The sandbox every privileged test relies on: proves it is a private mount
// namespace distinct from the one the process started in, with a tmpfs
// scratch root, and that mounts made there are invisible outside.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

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
