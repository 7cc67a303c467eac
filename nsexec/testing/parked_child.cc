#include "nsexec/testing/parked_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/status.h"

namespace linx::testing {
namespace {

void CloseIfOpen(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool WriteAll(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = RetryOnEintr([&] { return ::write(fd, p, len); });
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ParkedChild>> ParkedChild::Spawn(
    OnRelease on_release, bool new_pid_namespace) {
  Options o;
  o.on_release = std::move(on_release);
  o.new_pid_namespace = new_pid_namespace;
  return Spawn(std::move(o));
}

absl::StatusOr<std::unique_ptr<ParkedChild>> ParkedChild::Spawn(
    Options options) {
  const OnRelease& on_release = options.on_release;
  int release[2], report[2], info[2];
  if (::pipe2(release, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  if (::pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(release[0]);
    ::close(release[1]);
    return ErrnoToStatus(err, "pipe2");
  }
  if (::pipe2(info, O_CLOEXEC) != 0) {
    int err = errno;
    for (int fd : {release[0], release[1], report[0], report[1]}) ::close(fd);
    return ErrnoToStatus(err, "pipe2");
  }
  pid_t mid = ::fork();
  if (mid < 0) {
    int err = errno;
    for (int fd :
         {release[0], release[1], report[0], report[1], info[0], info[1]}) {
      ::close(fd);
    }
    return ErrnoToStatus(err, "fork");
  }
  if (mid == 0) {
    // Intermediate.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(release[1]);
    ::close(report[0]);
    ::close(info[0]);
    int flags = CLONE_NEWNS | (options.new_pid_namespace ? CLONE_NEWPID : 0);
    pid_t reply[2] = {-1, 0};
    if (::unshare(flags) != 0) {
      reply[1] = errno;
      WriteAll(info[1], reply, sizeof(reply));
      ::_exit(101);
    }
    if (!options.keep_propagation &&
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      reply[1] = errno;
      WriteAll(info[1], reply, sizeof(reply));
      ::_exit(102);
    }
    pid_t g = ::fork();
    if (g < 0) {
      reply[1] = errno;
      WriteAll(info[1], reply, sizeof(reply));
      ::_exit(103);
    }
    if (g == 0) {
      // Parked process: pid 1 of the new PID namespace.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(info[1]);
      char c;
      ssize_t n = RetryOnEintr([&] { return ::read(release[0], &c, 1); });
      if (n == 1 && on_release) on_release(report[1]);
      ::_exit(0);
    }
    ::close(release[0]);
    ::close(report[1]);
    reply[0] = g;
    WriteAll(info[1], reply, sizeof(reply));
    ::close(info[1]);
    int st = 0;
    if (RetryOnEintr([&] { return ::waitpid(g, &st, 0); }) < 0) ::_exit(104);
    if (WIFEXITED(st)) ::_exit(WEXITSTATUS(st));
    ::_exit(128 + WTERMSIG(st));
  }
  ::close(release[0]);
  ::close(report[1]);
  ::close(info[1]);
  std::unique_ptr<ParkedChild> child(new ParkedChild());
  child->intermediate_ = mid;
  child->release_fd_ = release[1];
  child->report_fd_ = report[0];
  pid_t reply[2] = {-1, 0};
  size_t got = 0;
  while (got < sizeof(reply)) {
    ssize_t n = RetryOnEintr([&] {
      return ::read(info[0], reinterpret_cast<char*>(reply) + got,
                    sizeof(reply) - got);
    });
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(info[0]);
  if (got != sizeof(reply) || reply[0] <= 0) {
    return ErrnoToStatus(reply[1] != 0 ? reply[1] : EIO,
                         "parked child setup (unshare/mount/fork)");
  }
  child->pid_ = reply[0];
  return child;
}

absl::StatusOr<std::string> ParkedChild::Release() {
  absl::Status s = Start();
  if (!s.ok()) return s;
  return Finish();
}

absl::Status ParkedChild::Start() {
  if (release_fd_ < 0) {
    return absl::FailedPreconditionError("child already released or killed");
  }
  char c = 'r';
  if (!WriteAll(release_fd_, &c, 1)) return ErrnoToStatus(errno, "release");
  CloseIfOpen(release_fd_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParkedChild::Finish() {
  if (report_fd_ < 0) {
    return absl::FailedPreconditionError("child already finished or killed");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n =
        RetryOnEintr([&] { return ::read(report_fd_, buf, sizeof(buf)); });
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  CloseIfOpen(report_fd_);
  int st = 0;
  pid_t mid = intermediate_;
  intermediate_ = -1;
  pid_ = -1;
  if (RetryOnEintr([&] { return ::waitpid(mid, &st, 0); }) < 0) {
    return ErrnoToStatus(errno, "waitpid");
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    return absl::InternalError(
        absl::StrCat("parked child ended with wait status ", st));
  }
  return out;
}

void ParkedChild::Kill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
  pid_ = -1;
  if (intermediate_ > 0) {
    int st;
    RetryOnEintr([&] { return ::waitpid(intermediate_, &st, 0); });
    intermediate_ = -1;
  }
  CloseIfOpen(release_fd_);
  CloseIfOpen(report_fd_);
}

ParkedChild::~ParkedChild() { Kill(); }

}  // namespace linx::testing
