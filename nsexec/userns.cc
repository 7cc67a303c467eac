#include "nsexec/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/eintr.h"
#include "base/op_error.h"
#include "base/status.h"
#include "nsexec/nsexec.h"

namespace linx {
namespace {

absl::Status BadUserns(absl::string_view spec, absl::string_view why) {
  return MakeOpError(
      {"open_userns", Stage::kBadIn, 0, std::string(spec)},
      absl::StrCat("bad_in: user namespace ", Quote(spec), ": ", why));
}

absl::Status UsernsError(int err, absl::string_view what) {
  return MakeOpError(
      {"userns", Stage::kOpenNs, err, ""},
      absl::StrCat("userns: ", what, ": ", ErrnoDescription(err)));
}

bool WriteAll(const std::string& path, absl::string_view text, int* err) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  // One write: the kernel takes a map in a single write(2) only.
  ssize_t n = ::write(fd, text.data(), text.size());
  *err = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return *err == 0;
}

}  // namespace

absl::StatusOr<UserNamespace> UserNamespace::WithMaps(
    absl::string_view uid_map, absl::string_view gid_map) {
  if (uid_map.empty() || gid_map.empty()) {
    return MakeOpError({"userns", Stage::kBadArgument, 0, "map"},
                       "userns: a uid map and a gid map are both needed");
  }
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) != 0) return UsernsError(errno, "pipe2");
  UniqueFd up_r(up[0]), up_w(up[1]);
  if (::pipe2(down, O_CLOEXEC) != 0) return UsernsError(errno, "pipe2");
  UniqueFd down_r(down[0]), down_w(down[1]);
  // The child runs only raw syscalls (the caller may have other threads).
  pid_t child = static_cast<pid_t>(
      ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (child < 0) return UsernsError(errno, "fork");
  if (child == 0) {
    char b = ::syscall(SYS_unshare, CLONE_NEWUSER) == 0 ? 'u' : 'e';
    ::syscall(SYS_write, up[1], &b, 1);
    ::syscall(SYS_read, down[0], &b, 1);  // until the parent is done
    ::syscall(SYS_exit_group, 0);
  }
  up_w.reset();
  down_r.reset();
  auto reap = [&] {
    down_w.reset();
    ::kill(child, SIGKILL);
    RetryOnEintr([&] { return ::waitpid(child, nullptr, 0); });
  };
  char b = 0;
  if (RetryOnEintr([&] { return ::read(up_r.get(), &b, 1); }) != 1 ||
      b != 'u') {
    reap();
    return UsernsError(EPERM, "unshare(CLONE_NEWUSER) in the helper child");
  }
  int err = 0;
  std::string proc = absl::StrCat("/proc/", child, "/");
  if (!WriteAll(proc + "uid_map", uid_map, &err)) {
    reap();
    return UsernsError(err, absl::StrCat("writing uid_map ", Quote(uid_map)));
  }
  if (!WriteAll(proc + "gid_map", gid_map, &err)) {
    reap();
    return UsernsError(err, absl::StrCat("writing gid_map ", Quote(gid_map)));
  }
  absl::StatusOr<UniqueFd> fd =
      OpenNamespaceFile(proc + "ns/user", CLONE_NEWUSER, Stage::kOpenNs);
  reap();
  if (!fd.ok()) return fd.status();
  return UserNamespace(
      std::make_shared<UniqueFd>(*std::move(fd)),
      absl::StrCat("a new user namespace (uid_map ", Quote(uid_map), ")"));
}

absl::StatusOr<UserNamespace> UserNamespace::Pid(pid_t pid) {
  if (pid <= 0) return BadUserns(absl::StrCat("pid:", pid), "pid must be > 0");
  std::string path = absl::StrCat("/proc/", pid, "/ns/user");
  ASSIGN_OR_RETURN(UniqueFd fd,
                   OpenNamespaceFile(path, CLONE_NEWUSER, Stage::kOpenNs));
  return UserNamespace(std::make_shared<UniqueFd>(std::move(fd)),
                       absl::StrCat("user namespace of pid ", pid));
}

absl::StatusOr<UserNamespace> UserNamespace::Path(absl::string_view path) {
  if (path.empty() || path[0] != '/' ||
      path.find('\0') != absl::string_view::npos) {
    return BadUserns(path, "needs an absolute path without NUL");
  }
  ASSIGN_OR_RETURN(UniqueFd fd,
                   OpenNamespaceFile(path, CLONE_NEWUSER, Stage::kOpenNs));
  return UserNamespace(std::make_shared<UniqueFd>(std::move(fd)),
                       absl::StrCat("user namespace at ", path));
}

std::string UserNamespace::SpecProblem(absl::string_view spec) {
  if (absl::StartsWith(spec, "pid:")) {
    absl::string_view digits = spec.substr(4);
    int pid = 0;
    bool ok = !digits.empty() && digits.size() <= 10 &&
              absl::SimpleAtoi(digits, &pid) && pid > 0;
    for (char c : digits) ok = ok && absl::ascii_isdigit(c);
    return ok ? "" : "expected pid:N with N a positive integer";
  }
  if (absl::StartsWith(spec, "userns:")) {
    absl::string_view path = spec.substr(7);
    if (path.empty() || path[0] != '/')
      return "userns:PATH needs an absolute path";
    if (path.find('\0') != absl::string_view::npos) return "path contains NUL";
    return "";
  }
  return "expected pid:N or userns:PATH";
}

absl::StatusOr<UserNamespace> UserNamespace::Parse(absl::string_view spec) {
  if (std::string why = SpecProblem(spec); !why.empty()) {
    return BadUserns(spec, why);
  }
  if (absl::StartsWith(spec, "pid:")) {
    int pid = 0;
    (void)absl::SimpleAtoi(spec.substr(4), &pid);
    return Pid(pid);
  }
  return Path(spec.substr(7));
}

}  // namespace linx
