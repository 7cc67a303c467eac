#include "base/testing/privileged.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace linx::testing {
namespace {

bool g_privileged = false;
std::string* g_skip_reason =
    new std::string("EnterPrivateMountSandbox was not called");
std::string* g_scratch = new std::string();
std::atomic<int> g_counter{0};

}  // namespace

bool HasCapability(int cap) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

absl::Status EnterPrivateMountSandbox() {
  if (!HasCapability(CAP_SYS_ADMIN)) {
    *g_skip_reason = "CAP_SYS_ADMIN is not in the effective capability set";
    return absl::PermissionDeniedError(*g_skip_reason);
  }
  if (::unshare(CLONE_NEWNS) != 0) {
    int err = errno;
    *g_skip_reason =
        absl::StrCat("unshare(CLONE_NEWNS): ", ErrnoDescription(err));
    return ErrnoToStatus(err, "unshare(CLONE_NEWNS)");
  }
  // mount_namespaces(7): a new namespace copies the propagation types, so a
  // shared "/" would still propagate our mounts to the host. Cut that first.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    int err = errno;
    *g_skip_reason = absl::StrCat("make / rprivate: ", ErrnoDescription(err));
    return ErrnoToStatus(err, "mount(/, MS_REC|MS_PRIVATE)");
  }
  std::string root;
  if (const char* t = ::getenv("TEST_TMPDIR"); t != nullptr && *t != '\0') {
    root = absl::StrCat(t, "/linx-scratch");
  } else {
    root = absl::StrCat("/tmp/linx-scratch-", ::getpid());
  }
  // This one directory is created before the tmpfs exists, so it stays on
  // the underlying filesystem: under TEST_TMPDIR Bazel removes it. Under
  // /tmp (a test binary run by hand) nothing removes it: an empty
  // /tmp/linx-scratch-<pid> directory is left behind, since the tmpfs on it
  // dies with the namespace but the directory belongs to the host.
  if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) {
    int err = errno;
    *g_skip_reason = absl::StrCat("mkdir ", root, ": ", ErrnoDescription(err));
    return ErrnoToStatus(err, "mkdir scratch");
  }
  if (::mount("linx-scratch", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
              "mode=0755,size=256m") != 0) {
    int err = errno;
    *g_skip_reason =
        absl::StrCat("mount tmpfs on ", root, ": ", ErrnoDescription(err));
    return ErrnoToStatus(err, "mount scratch tmpfs");
  }
  *g_scratch = root;
  g_privileged = true;
  g_skip_reason->clear();
  return absl::OkStatus();
}

bool RequirePrivileged() {
  const char* v = ::getenv("LINX_REQUIRE_PRIVILEGED");
  return v != nullptr && std::string(v) == "1";
}

bool Privileged() { return g_privileged; }
const std::string& PrivilegeSkipReason() { return *g_skip_reason; }
const std::string& ScratchRoot() { return *g_scratch; }

std::string MakeScratchDir(absl::string_view hint) {
  std::string base;
  if (g_privileged) {
    base = *g_scratch;
  } else if (const char* t = ::getenv("TEST_TMPDIR"); t != nullptr) {
    base = t;
  } else {
    base = "/tmp";
  }
  for (;;) {
    std::string dir = absl::StrCat(base, "/", hint, "-", ::getpid(), "-",
                                   g_counter.fetch_add(1));
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST) return dir;  // the test's own check will fail loudly
  }
}

std::string MakeSubdir(const std::string& parent, const std::string& name) {
  std::string p = parent + "/" + name;
  EXPECT_EQ(::mkdir(p.c_str(), 0755), 0)
      << p << ": " << ErrnoDescription(errno);
  return p;
}

ScopedMounts::~ScopedMounts() {
  for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) {
    ::umount2(it->c_str(), MNT_DETACH);
  }
}

void ScopedMounts::Mount(const std::string& src, const std::string& dst,
                         const char* fs, unsigned long flags,
                         const char* data) {
  ASSERT_EQ(::mount(src.empty() ? nullptr : src.c_str(), dst.c_str(), fs, flags,
                    data),
            0)
      << "mount " << src << " " << dst << ": " << ErrnoDescription(errno);
  if (!(flags &
        (MS_REMOUNT | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE))) {
    paths_.push_back(dst);
  }
}

}  // namespace linx::testing
