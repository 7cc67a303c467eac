// Invariants under load: many threads entering another mount namespace at
// once leave the caller exactly as it was (namespace of every thread, root,
// cwd, descriptors, threads), and the target's table as it was.
//
// 8 threads x LINX_NSEXEC_STRESS_OPS operations (default 1000) each; every
// operation is a RunIn into a parked child's mount namespace that mounts a
// tmpfs on a per-thread directory and unmounts it; every 10th is a
// RunInForked doing the same from a child in the target's PID namespace;
// every other one opens a fresh Namespace::Pid.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::MakeScratchDir;
using ::linx::testing::ParkedChild;

constexpr int kThreads = 8;

int OpsPerThread() {
  int n = 1000;
  if (const char* env = std::getenv("LINX_NSEXEC_STRESS_OPS")) {
    if (!absl::SimpleAtoi(env, &n) || n < 1) n = 1000;
  }
  return n;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

std::string Readlink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

std::pair<dev_t, ino_t> DevIno(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

// Everything RunIn promises never to change in the caller.
struct Snapshot {
  std::pair<dev_t, ino_t> mnt_ns;
  std::map<std::string, std::pair<dev_t, ino_t>> task_mnt_ns;  // tid → ns
  std::pair<dev_t, ino_t> root;
  std::string root_link;
  std::pair<dev_t, ino_t> cwd;
  std::string cwd_link;
  size_t fds = 0;
  size_t threads = 0;
  std::string mountinfo;
};

Snapshot Take() {
  Snapshot s;
  s.mnt_ns = DevIno("/proc/self/ns/mnt");
  for (const std::string& tid : List("/proc/self/task")) {
    s.task_mnt_ns[tid] =
        DevIno(absl::StrCat("/proc/self/task/", tid, "/ns/mnt"));
  }
  s.root = DevIno("/");
  s.root_link = Readlink("/proc/self/root");
  s.cwd = DevIno(".");
  s.cwd_link = Readlink("/proc/self/cwd");
  s.fds = List("/proc/self/fd").size();
  s.threads = s.task_mnt_ns.size();
  s.mountinfo = ReadFile("/proc/self/mountinfo");
  return s;
}

absl::Status MountUmount(const std::string& dir) {
  if (::mount("linx-stress", dir.c_str(), "tmpfs", 0, "size=64k") != 0) {
    return absl::InternalError(absl::StrCat("mount ", dir, ": errno ", errno));
  }
  if (::umount2(dir.c_str(), 0) != 0) {
    return absl::InternalError(absl::StrCat("umount ", dir, ": errno ", errno));
  }
  return absl::OkStatus();
}

StageErrno ForkedMountUmount(void* arg) {
  const char* dir = static_cast<const char*>(arg);
  if (::mount("linx-stress", dir, "tmpfs", 0, "size=64k") != 0) {
    return {Stage::kMount, errno};
  }
  if (::umount2(dir, 0) != 0) return {Stage::kUmount, errno};
  return {};
}

TEST(NsexecStressTest, CallerIsUnchangedAfterManyConcurrentOperations) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  const int ops = OpsPerThread();
  std::string base = MakeScratchDir("stress");
  std::vector<std::string> dirs;
  for (int i = 0; i < kThreads; ++i) {
    dirs.push_back(absl::StrCat(base, "/t", i));
    ASSERT_EQ(::mkdir(dirs.back().c_str(), 0755), 0);
  }
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace shared, Namespace::Pid(child->pid()));
  std::string child_table_path =
      absl::StrCat("/proc/", child->pid(), "/mountinfo");
  std::string child_before = ReadFile(child_table_path);

  // A distinctive cwd, so "unchanged" means something.
  char old_cwd[4096];
  ASSERT_NE(::getcwd(old_cwd, sizeof(old_cwd)), nullptr);
  ASSERT_EQ(::chdir(base.c_str()), 0);
  // The baseline settles first: a worker that already returned (such as
  // Namespace::Pid's one-time pidfd probe) can linger in /proc/self/task for
  // a moment after pthread_join, and would otherwise seem to vanish.
  Snapshot before = Take();
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Snapshot again = Take();
    if (again.threads == before.threads) break;
    before = again;
  }

  std::atomic<int> failures{0};
  std::atomic<int> done{0};
  std::vector<std::string> first_error(kThreads);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string& dir = dirs[t];
      auto my_ns = DevIno("/proc/thread-self/ns/mnt");
      auto my_cwd = DevIno(".");
      for (int i = 0; i < ops; ++i) {
        absl::Status s;
        absl::StatusOr<Namespace> fresh = Namespace::Pid(child->pid());
        if (!fresh.ok()) {
          s = fresh.status();
        } else if (i % 10 == 9) {
          s = RunInForked(*fresh, "stress", &ForkedMountUmount,
                          const_cast<char*>(dir.c_str()));
        } else {
          s = RunIn(i % 2 == 0 ? shared : *fresh, "stress",
                    [&] { return MountUmount(dir); });
        }
        if (!s.ok() && failures.fetch_add(1) == 0) {
          first_error[t] = s.ToString();
        }
        if (i % 50 == 0 && (DevIno("/proc/thread-self/ns/mnt") != my_ns ||
                            DevIno(".") != my_cwd)) {
          failures.fetch_add(1);
          first_error[t] = "caller thread's namespace or cwd changed";
        }
      }
      done.fetch_add(ops);
    });
  }
  for (std::thread& th : threads) th.join();
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::fprintf(stderr, "%d threads x %d ops: %.2f s, %.1f us/op\n", kThreads,
               ops, secs, secs * 1e6 / (kThreads * ops));
  EXPECT_EQ(failures.load(), 0);
  for (const std::string& e : first_error) {
    if (!e.empty()) ADD_FAILURE() << e;
  }
  EXPECT_EQ(done.load(), kThreads * ops);

  // pthread_join returns when the kernel clears the thread id (mm_release),
  // a moment before the thread leaves /proc/self/task: poll briefly.
  Snapshot after = Take();
  for (int i = 0; i < 200 && after.threads != before.threads; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    after = Take();
  }
  ASSERT_EQ(::chdir(old_cwd), 0);

  EXPECT_EQ(after.mnt_ns, before.mnt_ns);
  EXPECT_EQ(after.task_mnt_ns, before.task_mnt_ns);  // same threads, same ns
  EXPECT_EQ(after.root, before.root);
  EXPECT_EQ(after.root_link, before.root_link);
  EXPECT_EQ(after.cwd, before.cwd);
  EXPECT_EQ(after.cwd_link, before.cwd_link);
  EXPECT_EQ(after.fds, before.fds);
  EXPECT_EQ(after.threads, before.threads);
  EXPECT_EQ(after.mountinfo, before.mountinfo);
  EXPECT_EQ(ReadFile(child_table_path), child_before);
}

}  // namespace
}  // namespace linx
