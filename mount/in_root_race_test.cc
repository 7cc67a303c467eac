// The symlink-exchange race (runc CVE-2021-30465): while a thread keeps
// swapping directories of the root for symlinks that point outside
// (renameat2 RENAME_EXCHANGE), thousands of ResolveInRoot calls with mkdir
// and create_file run, on both resolution paths. Zero escapes: every
// returned fd is on the root's filesystem (the "host" beside it is a tmpfs
// of its own), /proc names it under the root, CheckInsideRoot accepts it
// (checked with the swapper parked: on a file it fails closed while names
// keep changing), and the host tree is byte-for-byte unchanged at the end,
// RemoveCreated's rollbacks (which race too) included.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "mount/in_root.h"
#include "mount/internal/in_root_hooks.h"

namespace linx {
namespace {

using ::linx::testing::MakeScratchDir;
using ::linx::testing::ScopedMounts;

// Every entry under `dir` with type, size, inode and mtime.
void Scan(const std::string& dir, std::map<std::string, std::string>* out) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return;
  (*out)[dir] = absl::StrCat(st.st_mode, " ", st.st_size, " ", st.st_ino, " ",
                             st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
  if (!S_ISDIR(st.st_mode)) return;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") Scan(dir + "/" + name, out);
  }
  ::closedir(d);
}

bool Touch(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  return fd.valid() && ::write(fd.get(), "host", 4) == 4;
}

std::string ProcPath(int fd) {
  char buf[4096];
  ssize_t n = ::readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), buf,
                         sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class InRootRaceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { mount_internal::SetForceNoOpenat2(GetParam()); }
  void TearDown() override { mount_internal::SetForceNoOpenat2(false); }
};

TEST_P(InRootRaceTest, SymlinkExchangeNeverEscapesTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  const std::string dir = MakeScratchDir("inroot-race");
  const std::string root = dir + "/root";
  const std::string host = dir + "/host";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(host.c_str(), 0755), 0);
  ScopedMounts mounts;
  mounts.Mount("linx-race-host", host, "tmpfs", MS_NOSUID | MS_NODEV,
               "size=4m");
  // The host holds what a naive resolver would find through the symlinks:
  // sub/file, sub/x0..x6/file.
  ASSERT_EQ(::mkdir((host + "/sub").c_str(), 0755), 0);
  ASSERT_TRUE(Touch(host + "/sub/file"));
  for (int i = 0; i < 7; ++i) {
    std::string x = absl::StrCat(host, "/sub/x", i);
    ASSERT_EQ(::mkdir(x.c_str(), 0755), 0);
    ASSERT_TRUE(Touch(x + "/file"));
  }
  // root/a/sub: real directories; root/s -> ../host (relative, out of the
  // root); root/a/t -> <host>/sub (absolute host path).
  ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a/sub").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../host", (root + "/s").c_str()), 0);
  ASSERT_EQ(::symlink((host + "/sub").c_str(), (root + "/a/t").c_str()), 0);
  std::map<std::string, std::string> host_before;
  Scan(host, &host_before);

  ASSERT_OK_AND_ASSIGN(UniqueFd root_fd, OpenRoot(root));
  struct stat root_st {};
  ASSERT_EQ(::fstat(root_fd.get(), &root_st), 0);
  UniqueFd a_fd(
      ::open((root + "/a").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(a_fd.valid());

  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  // CheckInsideRoot on a file pins its parent through /proc and fails closed
  // (EAGAIN) while names keep changing; it runs with the swapper parked.
  std::atomic<bool> pause{false};
  std::atomic<bool> parked{false};
  std::thread swapper([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (pause.load()) {
        parked.store(true);
        while (pause.load() && !stop.load()) std::this_thread::yield();
        parked.store(false);
        continue;
      }
      // root/a <-> root/s, then (inside the directory a was) sub <-> t.
      if (::renameat2(root_fd.get(), "a", root_fd.get(), "s",
                      RENAME_EXCHANGE) == 0) {
        swaps.fetch_add(1, std::memory_order_relaxed);
      }
      if (::renameat2(a_fd.get(), "sub", a_fd.get(), "t", RENAME_EXCHANGE) ==
          0) {
        swaps.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(8);
  int iterations = 0, successes = 0;
  std::map<int, int> errors;
  std::string escapes;
  for (; iterations < 10000 && std::chrono::steady_clock::now() < deadline;
       ++iterations) {
    InRootOptions opts;
    opts.mkdir = true;
    opts.create_file = iterations % 3 != 2;
    std::string path = iterations % 2 == 0
                           ? "a/sub/file"
                           : absl::StrCat("/a/sub/x", iterations % 7, "/file");
    absl::StatusOr<InRootPath> r = ResolveInRoot(root_fd.get(), path, opts);
    if (!r.ok()) {
      std::optional<OpError> e = GetOpError(r.status());
      int err = e.has_value() ? e->errno_value : -1;
      ++errors[err];
      if (err != ENOENT && err != EAGAIN && err != EEXIST && err != ENOTDIR &&
          err != ELOOP) {
        absl::StrAppend(&escapes, "unexpected error: ", r.status().ToString(),
                        "\n");
      }
      continue;
    }
    ++successes;
    struct stat st {};
    if (::fstat(r->fd.get(), &st) != 0 || st.st_dev != root_st.st_dev) {
      absl::StrAppend(&escapes, "fd on another filesystem for ", path, "\n");
    }
    std::string where = ProcPath(r->fd.get());
    if (!absl::StartsWith(where, root + "/")) {
      absl::StrAppend(&escapes, "fd at ", where, " for ", path, "\n");
    }
    pause.store(true);
    while (!parked.load()) std::this_thread::yield();
    absl::Status inside = CheckInsideRoot(root_fd.get(), r->fd.get());
    pause.store(false);
    if (!inside.ok()) absl::StrAppend(&escapes, inside.ToString(), "\n");
    RemoveCreated(root_fd.get(), r->created);
  }
  stop.store(true);
  swapper.join();

  std::map<std::string, std::string> host_after;
  Scan(host, &host_after);
  EXPECT_EQ(host_after, host_before) << "the host tree changed";
  EXPECT_EQ(escapes, "") << escapes;
  EXPECT_GT(swaps.load(), 0);
  EXPECT_GT(successes, 0) << "no call succeeded: the race proves nothing";
  std::string summary = absl::StrCat(iterations, " calls, ", successes,
                                     " landed, ", swaps.load(), " swaps;");
  for (const auto& [err, n] : errors) {
    absl::StrAppend(&summary, " ", ErrnoName(err), "=", n);
  }
  ::fprintf(stderr, "%s: %s\n", GetParam() ? "walk" : "openat2",
            summary.c_str());
  EXPECT_GE(iterations, 1000) << summary;
}

INSTANTIATE_TEST_SUITE_P(BothPaths, InRootRaceTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Walk" : "Openat2";
                         });

}  // namespace
}  // namespace linx
