#include "nsexec/userns.h"

#include <sched.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

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
