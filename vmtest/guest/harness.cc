#include "vmtest/guest/harness.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/eintr.h"
#include "nsexec/nsexec.h"

namespace linx::vmtest {
namespace {

constexpr absl::string_view kSkipUrl = "type.linx.dev/linx.vmtest.Skip";

std::vector<Scenario>& Registry() {
  static auto* r = new std::vector<Scenario>();
  return *r;
}

absl::Status ErrnoFailure(int err, absl::string_view what) {
  return Failure(absl::StrCat(what, ": ", ErrnoDescription(err)));
}

}  // namespace

Registrar::Registrar(const Scenario& s) { Registry().push_back(s); }

std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> all = Registry();
  std::sort(all.begin(), all.end(), [](const Scenario& a, const Scenario& b) {
    if (a.issue_number != b.issue_number)
      return a.issue_number < b.issue_number;
    return std::strcmp(a.name, b.name) < 0;
  });
  return all;
}

absl::Status Skip(absl::string_view reason) {
  absl::Status s(absl::StatusCode::kUnimplemented, reason);
  s.SetPayload(kSkipUrl, absl::Cord("skip"));
  return s;
}

bool IsSkip(const absl::Status& status) {
  return status.GetPayload(kSkipUrl).has_value();
}

absl::Status Failure(absl::string_view message) {
  return absl::InternalError(message);
}

namespace {
std::string& NoteStore() {
  static auto* s = new std::string();
  return *s;
}
}  // namespace

void Note(absl::string_view note) {
  std::string& s = NoteStore();
  if (!s.empty()) s += "; ";
  s.append(note.data(), note.size());
}

const std::string& Notes() { return NoteStore(); }

// --- files -----------------------------------------------------------------

absl::Status WriteFile(const std::string& path, absl::string_view content) {
  UniqueFd fd(RetryOnEintr([&] {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }));
  if (!fd.valid()) return ErrnoFailure(errno, absl::StrCat("open ", path));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = RetryOnEintr([&] {
      return ::write(fd.get(), content.data() + done, content.size() - done);
    });
    if (n < 0) return ErrnoFailure(errno, absl::StrCat("write ", path));
    done += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(
      RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
  if (!fd.valid()) return ErrnoFailure(errno, absl::StrCat("open ", path));
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = RetryOnEintr([&] { return ::read(fd.get(), buf, sizeof buf); });
    if (n < 0) return ErrnoFailure(errno, absl::StrCat("read ", path));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

absl::Status MakeDirs(const std::string& path) {
  std::string cur;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    cur = absl::StrCat(cur, "/", part);
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoFailure(errno, absl::StrCat("mkdir ", cur));
    }
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// --- channel and child -------------------------------------------------------

absl::Status Channel::Send(absl::string_view message) const {
  ssize_t n = RetryOnEintr([&] {
    return ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
  });
  if (n < 0) return ErrnoFailure(errno, "channel send");
  return absl::OkStatus();
}

absl::StatusOr<std::string> Channel::Recv() const {
  char buf[8192];
  ssize_t n =
      RetryOnEintr([&] { return ::recv(fd_.get(), buf, sizeof buf, 0); });
  if (n < 0) return ErrnoFailure(errno, "channel recv");
  if (n == 0) return Failure("channel closed by the other side");
  return std::string(buf, n);
}

absl::Status Channel::Expect(absl::string_view want) const {
  absl::StatusOr<std::string> got = Recv();
  if (!got.ok()) return got.status();
  if (*got != want) {
    return Failure(
        absl::StrCat("channel: want \"", want, "\", got \"", *got, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Child>> Child::Start(int clone_flags,
                                                    Body body) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoFailure(errno, "socketpair");
  }
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  // clone(2) without CLONE_VM behaves like fork(2) but accepts CLONE_NEW*.
  long pid = ::syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr,
                       nullptr, nullptr);
  if (pid < 0) return ErrnoFailure(errno, "clone");
  if (pid == 0) {
    parent_end.reset();
    Channel ch(std::move(child_end));
    absl::Status s = body(ch);
    std::string report =
        s.ok() ? std::string("\x01OK") : absl::StrCat("\x01", s.message());
    (void)ch.Send(report);
    ::_exit(s.ok() ? 0 : 1);
  }
  return std::unique_ptr<Child>(
      new Child(static_cast<pid_t>(pid), std::move(parent_end)));
}

Child::~Child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int st;
    RetryOnEintr([&] { return ::waitpid(pid_, &st, 0); });
  }
}

absl::Status Child::Wait() {
  // Drain messages until the final report or EOF.
  std::string report;
  while (true) {
    absl::StatusOr<std::string> m = channel_.Recv();
    if (!m.ok()) break;
    if (!m->empty() && (*m)[0] == '\x01') {
      report = m->substr(1);
      break;
    }
  }
  int st = 0;
  if (RetryOnEintr([&] { return ::waitpid(pid_, &st, 0); }) < 0) {
    return ErrnoFailure(errno, "waitpid");
  }
  reaped_ = true;
  if (WIFSIGNALED(st)) {
    return Failure(
        absl::StrCat("child ", pid_, " killed by signal ", WTERMSIG(st)));
  }
  if (WEXITSTATUS(st) == 0) return absl::OkStatus();
  return Failure(absl::StrCat("child: ", report.empty() ? "exited 1" : report));
}

// --- namespaces --------------------------------------------------------------

absl::Status RunInMountNsOf(pid_t pid,
                            const std::function<absl::Status()>& fn) {
  absl::StatusOr<Namespace> ns = Namespace::Pid(pid);
  if (!ns.ok()) return ns.status();
  return RunIn(*ns, "vmtest", [&]() -> absl::Status { return fn(); });
}

// --- mountinfo --------------------------------------------------------------

absl::StatusOr<std::vector<MountInfo>> ReadMounts(const std::string& pid) {
  std::string path = pid.empty() ? "/proc/thread-self/mountinfo"
                                 : absl::StrCat("/proc/", pid, "/mountinfo");
  ReadOptions opts;
  opts.parse.strict = true;
  absl::StatusOr<MountTable> t = ReadMountInfoFile(path, opts);
  if (!t.ok()) return t.status();
  return t->ToMountInfos();
}

absl::StatusOr<MountInfo> FindMount(const std::vector<MountInfo>& table,
                                    absl::string_view target) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    if (it->target == target) return *it;
  }
  return absl::NotFoundError(
      absl::StrCat("no mount at ", target, " in mountinfo"));
}

bool IsMountPoint(const std::vector<MountInfo>& table,
                  absl::string_view target) {
  return FindMount(table, target).ok();
}

bool HasVfsOption(const MountInfo& m, absl::string_view option) {
  for (absl::string_view o : absl::StrSplit(m.vfs_options, ',')) {
    if (o == option) return true;
  }
  return false;
}

}  // namespace linx::vmtest
