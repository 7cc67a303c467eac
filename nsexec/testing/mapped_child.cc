#include "nsexec/testing/mapped_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace linx::testing {

MappedChild::MappedChild(bool own_mount_ns) {
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
    error_ = std::string("pipe2: ") + std::strerror(errno);
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    char b = 0;
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(1);
    if (::write(up[1], "u", 1) != 1) ::_exit(2);
    if (::read(down[0], &b, 1) != 1) ::_exit(3);  // maps written
    if (own_mount_ns && ::unshare(CLONE_NEWNS) != 0) ::_exit(4);
    if (::write(up[1], "n", 1) != 1) ::_exit(5);
    while (::read(down[0], &b, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(up[1]);
  ::close(down[0]);
  release_ = down[1];
  char b = 0;
  if (pid_ < 0 || ::read(up[0], &b, 1) != 1) {
    error_ = "the child did not unshare its user namespace";
    ::close(up[0]);
    return;
  }
  for (const char* map : {"uid_map", "gid_map"}) {
    std::string path = "/proc/" + std::to_string(pid_) + "/" + map;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    static const char kMap[] = "0 100000 65536\n";
    bool ok = fd >= 0 && ::write(fd, kMap, sizeof(kMap) - 1) ==
                             static_cast<ssize_t>(sizeof(kMap) - 1);
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      error_ = "writing " + path + ": " + std::strerror(err);
      ::close(up[0]);
      return;
    }
  }
  ready_ = ::write(release_, "m", 1) == 1 && ::read(up[0], &b, 1) == 1;
  if (!ready_) error_ = "the child did not make its mount namespace";
  ::close(up[0]);
}

MappedChild::~MappedChild() {
  if (release_ >= 0) ::close(release_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace linx::testing
