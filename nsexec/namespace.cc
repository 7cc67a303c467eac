// How a Namespace is opened (Self, Pid, Path, Pidfd, Parse, with its user
// namespace): everything up to the handle the verbs then run in
// (nsexec.cc).
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"
#include "nsexec/internal/handle.h"
#include "nsexec/internal/pid_open_mode.h"
#include "nsexec/internal/worker_setup.h"
#include "nsexec/nsexec.h"

namespace linx {
namespace {

using nsexec_internal::PidOpenMode;
using nsexec_internal::StageError;

absl::Status BadIn(absl::string_view value, absl::string_view why) {
  return MakeOpError(
      {"open_ns", Stage::kBadIn, 0, std::string(value)},
      absl::StrCat("bad_in: namespace target ", Quote(value), ": ", why));
}

absl::Status OpenError(Stage stage, int err, absl::string_view what) {
  return MakeOpError(
      {"open_ns", stage, err, ""},
      absl::StrCat(StageName(stage), ": ", what, ": ", ErrnoDescription(err)));
}

// A no-such-process answer is ENOENT whichever way the process was looked
// up (pidfd_open says ESRCH, /proc/<pid> says ENOENT), so callers see one
// errno on every kernel.
absl::Status NoSuchProcess(pid_t pid, absl::string_view how) {
  return MakeOpError({"open_ns", Stage::kOpenNs, ENOENT, ""},
                     absl::StrCat("open_ns: ", how, ": no such process ", pid,
                                  ": ", ErrnoDescription(ENOENT)));
}

bool UsePidfd() {
  switch (nsexec_internal::CurrentPidOpenMode()) {
    case PidOpenMode::kPidfd:
      return true;
    case PidOpenMode::kProcDir:
      return false;
    case PidOpenMode::kAuto:
      break;
  }
  return nsexec_internal::PidfdSetnsSupported();
}

const char* NsTypeName(int type) {
  switch (type) {
    case CLONE_NEWNS:
      return "mount";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
  }
  return "unknown";
}

// Opens a namespace file for setns(2). Only regular files are opened
// (nsfs inodes are S_IFREG): a FIFO or device could block or act on open.
// An nsfs file of the wrong type is refused here (NS_GET_NSTYPE, 4.11+); a
// regular file that is no namespace at all is left for setns(2) to refuse
// with EINVAL, which is the kernel's own answer.
absl::Status CheckPath(absl::string_view path) {
  if (path.empty()) return BadIn(path, "empty path");
  if (path.find('\0') != absl::string_view::npos) {
    return BadIn(path, "path contains NUL");
  }
  if (path[0] != '/') return BadIn(path, "path must be absolute");
  return absl::OkStatus();
}

}  // namespace

Namespace Namespace::Self() { return Namespace(nullptr); }

absl::StatusOr<Namespace> Namespace::Pid(pid_t pid) {
  if (pid <= 0) {
    return BadIn(absl::StrCat("pid:", pid), "pid must be positive");
  }
  auto h = std::make_shared<Handle>();
  h->kind = Handle::Kind::kPid;
  h->pid = pid;
  h->wants_pidns = true;
  if (UsePidfd()) {
    // One pidfd names this process for as long as we hold it; setns(2)
    // through it fails with ESRCH once the process is gone, however the
    // pid number is reused meanwhile.
    h->mnt.reset(sys::PidfdOpen(pid, 0));
    if (!h->mnt.valid()) {
      int err = errno;
      if (err == ESRCH) return NoSuchProcess(pid, "pidfd_open");
      return OpenError(Stage::kOpenNs, err,
                       absl::StrCat("pidfd_open(", pid, ")"));
    }
    h->mnt_is_pidfd = true;
    return Namespace(std::move(h));
  }
  // The /proc/<pid> inode is bound to this process (its struct pid): lookups
  // through it fail with ENOENT once the process is gone, even if the number
  // is reused. Both namespace files come from this one handle.
  std::string dir_path = absl::StrCat("/proc/", pid);
  UniqueFd dir(::open(dir_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    int err = errno;
    if (err == ENOENT)
      return NoSuchProcess(pid, absl::StrCat("open ", dir_path));
    return OpenError(Stage::kOpenNs, err, absl::StrCat("open ", dir_path));
  }
  h->mnt.reset(::openat(dir.get(), "ns/mnt", O_RDONLY | O_CLOEXEC));
  if (!h->mnt.valid()) {
    int err = errno;
    if (err == ENOENT) {
      return NoSuchProcess(pid, absl::StrCat("open ", dir_path, "/ns/mnt"));
    }
    return OpenError(Stage::kOpenNs, err,
                     absl::StrCat("open ", dir_path, "/ns/mnt"));
  }
  // Opened eagerly so the PID namespace is fixed now, from the same handle;
  // a failure is kept and reported at stage open_pidns by RunInForked only.
  h->pidns.reset(::openat(dir.get(), "ns/pid", O_RDONLY | O_CLOEXEC));
  if (!h->pidns.valid()) h->pidns_errno = errno;
  return Namespace(std::move(h));
}

absl::StatusOr<Namespace> Namespace::Path(absl::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  auto h = std::make_shared<Handle>();
  h->kind = Handle::Kind::kPath;
  h->path = std::string(path);
  ASSIGN_OR_RETURN(h->mnt,
                   OpenNamespaceFile(path, CLONE_NEWNS, Stage::kOpenNs));
  return Namespace(std::move(h));
}

absl::StatusOr<Namespace> Namespace::Path(absl::string_view mnt_path,
                                          absl::string_view pidns_path) {
  RETURN_IF_ERROR(CheckPath(mnt_path));
  RETURN_IF_ERROR(CheckPath(pidns_path));
  auto h = std::make_shared<Handle>();
  h->kind = Handle::Kind::kPath;
  h->path = std::string(mnt_path);
  h->pidns_path = std::string(pidns_path);
  h->wants_pidns = true;
  ASSIGN_OR_RETURN(h->mnt,
                   OpenNamespaceFile(mnt_path, CLONE_NEWNS, Stage::kOpenNs));
  ASSIGN_OR_RETURN(
      h->pidns, OpenNamespaceFile(pidns_path, CLONE_NEWPID, Stage::kOpenPidns));
  return Namespace(std::move(h));
}

absl::StatusOr<Namespace> Namespace::Pidfd(int pidfd) {
  if (pidfd < 0) {
    return BadIn(absl::StrCat("pidfd:", pidfd), "negative descriptor");
  }
  auto h = std::make_shared<Handle>();
  h->kind = Handle::Kind::kPidfd;
  h->user_pidfd = pidfd;
  h->wants_pidns = true;
  h->mnt_is_pidfd = true;
  h->mnt.reset(::fcntl(pidfd, F_DUPFD_CLOEXEC, 0));
  if (!h->mnt.valid()) {
    int err = errno;
    return OpenError(Stage::kOpenNs, err, absl::StrCat("dup pidfd ", pidfd));
  }
  return Namespace(std::move(h));
}

std::string Namespace::SpecProblem(absl::string_view spec) {
  if (spec == "self") return "";
  if (absl::StartsWith(spec, "pid:")) {
    absl::string_view digits = spec.substr(4);
    int pid = 0;
    bool all_digits = !digits.empty() && digits.size() <= 10;
    for (char c : digits) all_digits = all_digits && absl::ascii_isdigit(c);
    if (!all_digits || !absl::SimpleAtoi(digits, &pid) || pid <= 0) {
      return "expected pid:N with N a positive integer";
    }
    return "";
  }
  if (absl::StartsWith(spec, "path:")) {
    absl::string_view path = spec.substr(5);
    if (path.empty()) return "empty path";
    if (path.find('\0') != absl::string_view::npos) {
      return "path contains NUL";
    }
    if (path[0] != '/') return "path must be absolute";
    return "";
  }
  return "expected self, pid:N or path:P";
}

absl::StatusOr<Namespace> Namespace::Parse(absl::string_view spec) {
  if (std::string why = SpecProblem(spec); !why.empty()) {
    return BadIn(spec, why);
  }
  if (spec == "self") return Self();
  if (absl::StartsWith(spec, "pid:")) {
    int pid = 0;
    if (!absl::SimpleAtoi(spec.substr(4), &pid)) return BadIn(spec, "bad pid");
    return Pid(pid);
  }
  return Path(spec.substr(5));
}

bool Namespace::is_self() const { return handle_ == nullptr; }

pid_t Namespace::pid() const { return handle_ ? handle_->pid : 0; }

bool SetnsByPidfdSupported() { return nsexec_internal::PidfdSetnsSupported(); }

absl::StatusOr<UniqueFd> OpenNamespaceFile(absl::string_view path,
                                           int want_type, Stage stage) {
  std::string p(path);
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    int err = errno;
    return OpenError(stage, err, absl::StrCat("stat ", p));
  }
  if (!S_ISREG(st.st_mode)) {
    return OpenError(stage, EINVAL,
                     absl::StrCat(p, " is not a namespace file"));
  }
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    int err = errno;
    return OpenError(stage, err, absl::StrCat("open ", p));
  }
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return OpenError(stage, EINVAL,
                     absl::StrCat(p, " is not a namespace file"));
  }
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type >= 0 && type != want_type) {
    return OpenError(
        stage, EINVAL,
        absl::StrCat(p, " is a ", NsTypeName(type), " namespace, not a ",
                     NsTypeName(want_type), " namespace"));
  }
  return fd;
}

int Namespace::userns_fd() const { return userns_ ? userns_->get() : -1; }

absl::StatusOr<Namespace> Namespace::WithUserNamespace() const {
  if (!handle_ || handle_->kind == Handle::Kind::kPidfd) {
    return BadIn(is_self() ? "self" : Describe(),
                 "--userns needs a pid:N or path:P namespace");
  }
  UniqueFd userns;
  if (handle_->kind == Handle::Kind::kPid) {
    ASSIGN_OR_RETURN(
        userns,
        OpenNamespaceFile(absl::StrCat("/proc/", handle_->pid, "/ns/user"),
                          CLONE_NEWUSER, Stage::kOpenNs));
    // The pid may have been recycled between Pid() and now: with a pidfd,
    // make sure the process opened then is still alive (a new process
    // under the same pid would not be the one the pidfd names).
    if (handle_->mnt_is_pidfd &&
        ::syscall(SYS_pidfd_send_signal, handle_->mnt.get(), 0, nullptr, 0) !=
            0) {
      return StageError("open_ns", Stage::kOpenNs,
                        errno == ESRCH ? ENOENT : errno);
    }
  } else {
    // The owner of the mount namespace itself (ioctl_ns(2)).
    int fd = ::ioctl(handle_->mnt.get(), NS_GET_USERNS);
    if (fd < 0) return StageError("open_ns", Stage::kOpenNs, errno);
    userns = UniqueFd(fd);
  }
  Namespace out = *this;
  out.userns_ = std::make_shared<const UniqueFd>(std::move(userns));
  return out;
}

bool Namespace::has_pidns_path() const {
  return handle_ != nullptr && handle_->kind == Handle::Kind::kPath &&
         !handle_->pidns_path.empty();
}

std::string Namespace::Describe() const {
  if (!handle_) return "";
  switch (handle_->kind) {
    case Handle::Kind::kPid:
      return absl::StrCat("mount namespace of pid ", handle_->pid);
    case Handle::Kind::kPath:
      return absl::StrCat("mount namespace at ", handle_->path);
    case Handle::Kind::kPidfd:
      return absl::StrCat("mount namespace of pidfd ", handle_->user_pidfd);
  }
  return "";
}

}  // namespace linx
