// Test helpers for //mount tests: RAII mounts, kernel read-backs and
// children parked in their own mount namespaces. Test-only.
#ifndef LINX_MOUNT_TESTING_MOUNT_TEST_UTIL_H_
#define LINX_MOUNT_TESTING_MOUNT_TEST_UTIL_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mountinfo/mountinfo.h"

namespace linx::testing {

// Detaches every mount stacked at `path` when destroyed (umount2
// MNT_DETACH until it fails), so a failing test leaves no mount behind.
class ScopedMount {
 public:
  explicit ScopedMount(std::string path) : path_(std::move(path)) {}
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  ~ScopedMount();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The mount table of this thread (pid 0) or of process `pid`, as copies.
std::vector<MountInfo> Table(pid_t pid = 0);
// The raw mountinfo text of this thread (pid 0) or of process `pid`.
std::string TableText(pid_t pid = 0);
// The topmost mount whose mount point is exactly `target`.
std::optional<MountInfo> FindMount(const std::string& target, pid_t pid = 0);
// Whether `option` is one of the comma-separated words of `options`.
bool HasOption(const std::string& options, const std::string& option);
// statvfs(3) f_flag of `path`, or ~0UL when statvfs fails.
unsigned long StatvfsFlags(const std::string& path);

// Writes `content` to a new file at `path`; returns false on failure.
bool WriteFile(const std::string& path, const std::string& content);
// The content of the file at `path`, or nullopt.
std::optional<std::string> ReadFile(const std::string& path);

// Forks a child that unshares CLONE_NEWUSER|CLONE_NEWNS, maps uid/gid 0 to
// 0 (setgroups "deny" first), makes "/" rprivate, runs `fn` and sends its
// result back. Returns fn's string, "child failed: ..." on setup errors, or
// "skip: <reason>" when the environment cannot run it (a multithreaded
// child, as under TSan); callers GTEST_SKIP on that prefix.
std::string RunInUserNamespaceChild(const std::function<std::string()>& fn);

}  // namespace linx::testing

#endif  // LINX_MOUNT_TESTING_MOUNT_TEST_UTIL_H_
