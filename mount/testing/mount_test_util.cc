#include "mount/testing/mount_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/eintr.h"

namespace linx::testing {

ScopedMount::~ScopedMount() {
  for (int i = 0; i < 32; ++i) {
    if (::umount2(path_.c_str(), MNT_DETACH) != 0) break;
  }
}

std::vector<MountInfo> Table(pid_t pid) {
  absl::StatusOr<MountTable> t =
      pid == 0 ? ReadMountInfo() : ReadMountInfoOfPid(pid);
  if (!t.ok()) return {};
  return t->ToMountInfos();
}

std::string TableText(pid_t pid) {
  std::string path = pid == 0 ? std::string("/proc/thread-self/mountinfo")
                              : absl::StrCat("/proc/", pid, "/mountinfo");
  absl::StatusOr<std::string> text = ReadMountInfoText(path);
  return text.ok() ? *text : std::string("<unreadable>");
}

std::optional<MountInfo> FindMount(const std::string& target, pid_t pid) {
  std::optional<MountInfo> found;
  for (MountInfo& m : Table(pid)) {
    if (m.target == target) found = std::move(m);
  }
  return found;
}

bool HasOption(const std::string& options, const std::string& option) {
  for (absl::string_view w : absl::StrSplit(options, ',')) {
    if (w == option) return true;
  }
  return false;
}

unsigned long StatvfsFlags(const std::string& path) {
  struct statvfs sv;
  if (::statvfs(path.c_str(), &sv) != 0) return ~0UL;
  return sv.f_flag;
}

bool WriteFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) ==
            static_cast<ssize_t>(content.size());
  ::close(fd);
  return ok;
}

std::optional<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = RetryOnEintr([&] { return ::read(fd, buf, sizeof(buf)); });
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

namespace {
int TaskCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

bool WriteProcFile(const char* path, const char* content) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = std::strlen(content);
  bool ok = ::write(fd, content, len) == static_cast<ssize_t>(len);
  ::close(fd);
  return ok;
}
}  // namespace

std::string RunInUserNamespaceChild(const std::function<std::string()>& fn) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "child failed: pipe";
  pid_t child = ::fork();
  if (child == 0) {
    ::close(p[0]);
    std::string result;
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      int err = errno;
      // unshare(2): CLONE_NEWUSER needs a single-threaded process; a
      // sanitizer runtime (TSan) may have started a thread in the child.
      if (err == EINVAL && TaskCount() > 1) {
        result =
            "skip: the forked child has a runtime thread (sanitizer?); "
            "unshare(CLONE_NEWUSER) needs a single-threaded process";
      } else {
        result = absl::StrCat("child failed: unshare: ", std::strerror(err));
      }
    } else if (!WriteProcFile("/proc/self/setgroups", "deny") ||
               !WriteProcFile("/proc/self/uid_map", "0 0 1") ||
               !WriteProcFile("/proc/self/gid_map", "0 0 1")) {
      result = absl::StrCat("child failed: id maps: ", std::strerror(errno));
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) !=
               0) {
      result = absl::StrCat("child failed: rprivate: ", std::strerror(errno));
    } else {
      result = fn();
    }
    ssize_t ignored = ::write(p[1], result.data(), result.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(p[1]);
  if (child < 0) {
    ::close(p[0]);
    return "child failed: fork";
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = RetryOnEintr([&] { return ::read(p[0], buf, sizeof(buf)); });
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  int st;
  RetryOnEintr([&] { return ::waitpid(child, &st, 0); });
  return out;
}

}  // namespace linx::testing
